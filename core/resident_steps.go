package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// The ledger's steps a resident takes from their chat on their own cases:
// adding to one (补充), withdrawing one (撤回), erasing their personal data
// (注销).

// Addition is what a resident adds to their open case (补充): words, a
// photo or a voice note.
type Addition struct {
	Text  string
	Photo *Media
	Voice *Media
}

// maxMediaPerCase bounds the photos, and the voice notes, of one case.
const maxMediaPerCase = 20

// Supplement adds to the resident's own open case (补充). ErrForbidden: it
// is not theirs; ErrWrongState: it is no longer open.
func (l *Ledger) Supplement(ctx context.Context, number, resident string, add Addition) (Case, error) {
	text := strings.TrimSpace(add.Text)
	if len([]rune(text)) > MaxTextLen || (text == "" && add.Photo == nil && add.Voice == nil) {
		return Case{}, fmt.Errorf("supplement %s: %w", number, ErrInvalid)
	}
	return l.residentStep(ctx, number, resident, StepSupplement, func(c *Case) ([]Event, error) {
		data := map[string]string{}
		if add.Photo != nil {
			if len(c.Photos) >= maxMediaPerCase {
				return nil, fmt.Errorf("supplement %s: too many photos: %w", number, ErrInvalid)
			}
			c.Photos = append(c.Photos, *add.Photo)
			data[DataMedia], data[DataKind] = add.Photo.MediaID, MediaImage
		}
		if add.Voice != nil {
			if len(c.Voices) >= maxMediaPerCase {
				return nil, fmt.Errorf("supplement %s: too many voice notes: %w", number, ErrInvalid)
			}
			c.Voices = append(c.Voices, *add.Voice)
			data[DataMedia], data[DataKind] = add.Voice.MediaID, MediaVoice
		}
		return []Event{{Kind: EventSupplemented, Actor: ActorResident, Text: text, At: l.now(), Data: data}}, nil
	})
}

// Withdraw closes the resident's own open case at their request (撤回),
// recording the reason. ErrForbidden: not theirs; ErrWrongState: not open.
func (l *Ledger) Withdraw(ctx context.Context, number, resident, reason string) (Case, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > MaxTextLen {
		return Case{}, fmt.Errorf("withdraw %s: reason length: %w", number, ErrInvalid)
	}
	return l.residentStep(ctx, number, resident, StepWithdraw, func(c *Case) ([]Event, error) {
		now := l.now()
		c.State = StateClosed
		return []Event{
			{Kind: EventWithdrawn, Actor: ActorResident, Text: reason, At: now},
			{Kind: EventClosed, Actor: ActorResident, At: now, Data: map[string]string{DataReason: ReasonWithdrawn}},
		}, nil
	})
}

// Anonymise erases the resident's personal data from every case they filed
// (注销): phone, location label, address and voice notes go, the cases stay.
// It returns the media IDs of the voice notes removed, for their kept bytes
// to be erased too.
func (l *Ledger) Anonymise(ctx context.Context, resident string) ([]string, error) {
	cases, err := l.ResidentCases(ctx, resident)
	if err != nil {
		return nil, fmt.Errorf("anonymise: %w", err)
	}
	var voices []string
	for _, c := range cases {
		var removed []string // set anew if the store runs change again
		_, _, err := l.Store.UpdateCase(ctx, c.Number, func(c *Case) ([]Event, error) {
			if c.Phone == "" && c.Address == "" && len(c.Voices) == 0 && (c.Location == nil || c.Location.Label == "") {
				return nil, ErrNoChange
			}
			removed = removed[:0]
			for _, v := range c.Voices {
				removed = append(removed, v.MediaID)
			}
			c.Phone, c.Address, c.Voices = "", "", nil
			if c.Location != nil {
				loc := *c.Location
				loc.Label = ""
				c.Location = &loc
			}
			return []Event{{Kind: EventAnonymised, Actor: ActorResident, At: l.now()}}, nil
		})
		if err != nil && !errors.Is(err, ErrNoChange) {
			return nil, fmt.Errorf("anonymise %s: %w", c.Number, err)
		}
		if err == nil {
			voices = append(voices, removed...)
		}
	}
	return voices, nil
}
