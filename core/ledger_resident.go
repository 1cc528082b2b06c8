package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The ledger's steps a resident takes from their chat: joining an open case
// (附议), adding to one (补充), withdrawing one (撤回), erasing their personal
// data from their cases (注销).

// MaxJoined bounds the residents who may join one case.
const MaxJoined = 200

// ResidentCases lists every case the resident filed, open or closed, newest
// first: their household file's history.
func (l *Ledger) ResidentCases(ctx context.Context, resident string) ([]Case, error) {
	if resident == "" {
		return nil, nil
	}
	cs, err := l.Store.Cases(ctx, CaseQuery{Resident: resident})
	if err != nil {
		return nil, fmt.Errorf("resident cases: %w", err)
	}
	return cs, nil
}

// CaseEvents returns the log of case number, in order.
func (l *Ledger) CaseEvents(ctx context.Context, number string) ([]Event, error) {
	evs, err := l.Store.Events(ctx, number)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", number, err)
	}
	return evs, nil
}

// JoinCandidates lists the open cases a new draft d of resident may join
// instead of filing its own: same category, and within radiusM metres of
// the draft's location (both located), or else in the same grid. The
// resident's own cases and those they joined are left out; nearest first.
func (l *Ledger) JoinCandidates(ctx context.Context, resident string, d Draft, radiusM float64) ([]Case, error) {
	if d.Category == "" || d.Grid == "" {
		return nil, nil
	}
	open, err := l.Store.Cases(ctx, CaseQuery{States: []State{StateSubmitted, StateAssigned, StateInProgress, StateReopened}})
	if err != nil {
		return nil, fmt.Errorf("join candidates: %w", err)
	}
	type near struct {
		c    Case
		dist float64
	}
	var found []near
	for _, c := range open {
		if c.Category != d.Category || c.Resident == resident || slices.Contains(c.Joined, resident) {
			continue
		}
		switch {
		case c.Location != nil && d.Location != nil:
			if dist := DistanceM(c.Location.Point, d.Location.Point); dist <= radiusM {
				found = append(found, near{c, dist})
			}
		case c.Grid == d.Grid:
			found = append(found, near{c, radiusM + 1})
		}
	}
	slices.SortStableFunc(found, func(a, b near) int {
		switch {
		case a.dist < b.dist:
			return -1
		case a.dist > b.dist:
			return 1
		}
		return 0
	})
	out := make([]Case, len(found))
	for i, n := range found {
		out[i] = n.c
	}
	return out, nil
}

// Join adds resident to an open case (附议): they are told its progress
// and asked to rate it. ErrNoChange: they filed or joined it already.
func (l *Ledger) Join(ctx context.Context, number, resident string) (Case, error) {
	if resident == "" {
		return Case{}, fmt.Errorf("join %s: no resident: %w", number, ErrInvalid)
	}
	c, _, err := l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		switch {
		case !c.State.Open():
			return nil, fmt.Errorf("join %s: %w", number, ErrWrongState)
		case c.Resident == resident || slices.Contains(c.Joined, resident):
			return nil, ErrNoChange
		case len(c.Joined) >= MaxJoined:
			return nil, fmt.Errorf("join %s: full: %w", number, ErrInvalid)
		}
		c.Joined = append(c.Joined, resident)
		return []Event{{Kind: EventJoined, Actor: ActorResident, At: l.now(),
			Data: map[string]string{DataJoined: strconv.Itoa(len(c.Joined))}}}, nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("join: %w", err)
	}
	return c, nil
}

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
	c, _, err := l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		switch {
		case c.Resident != resident:
			return nil, fmt.Errorf("supplement %s: %w", number, ErrForbidden)
		case !c.State.Open():
			return nil, fmt.Errorf("supplement %s: %w", number, ErrWrongState)
		}
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
	if err != nil {
		return Case{}, fmt.Errorf("supplement: %w", err)
	}
	return c, nil
}

// Withdraw closes the resident's own open case at their request (撤回),
// recording the reason. ErrForbidden: not theirs; ErrWrongState: not open.
func (l *Ledger) Withdraw(ctx context.Context, number, resident, reason string) (Case, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > MaxTextLen {
		return Case{}, fmt.Errorf("withdraw %s: reason length: %w", number, ErrInvalid)
	}
	c, _, err := l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		switch {
		case c.Resident != resident:
			return nil, fmt.Errorf("withdraw %s: %w", number, ErrForbidden)
		case !c.State.Open():
			return nil, fmt.Errorf("withdraw %s: %w", number, ErrWrongState)
		}
		now := l.now()
		c.State = StateClosed
		return []Event{
			{Kind: EventWithdrawn, Actor: ActorResident, Text: reason, At: now},
			{Kind: EventClosed, Actor: ActorResident, At: now, Data: map[string]string{DataReason: ReasonWithdrawn}},
		}, nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("withdraw: %w", err)
	}
	return c, nil
}

// RateJoined records the rating of a resident who joined case number. It
// does not settle the case: the rating of the resident who filed it does.
func (l *Ledger) RateJoined(ctx context.Context, number, resident string, score int) (Case, error) {
	if score < 1 || score > 5 {
		return Case{}, fmt.Errorf("rate joined: score %d: %w", score, ErrInvalid)
	}
	c, _, err := l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		switch {
		case !slices.Contains(c.Joined, resident):
			return nil, fmt.Errorf("rate joined %s: %w", number, ErrForbidden)
		case c.State != StateResolved && c.State != StateClosed:
			return nil, fmt.Errorf("rate joined %s: %w", number, ErrWrongState)
		}
		return []Event{{Kind: EventRated, Actor: ActorResident, At: l.now(),
			Data: map[string]string{DataRating: strconv.Itoa(score), DataJoined: "true"}}}, nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("rate joined: %w", err)
	}
	return c, nil
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

// NoteMediaSaved records on the case that a photo or voice note was fetched
// from WeChat and kept, so the console can show it.
func (l *Ledger) NoteMediaSaved(ctx context.Context, number, mediaID, kind string) error {
	_, _, err := l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		return []Event{{Kind: EventMediaSaved, Actor: ActorSystem, At: l.now(),
			Data: map[string]string{DataMedia: mediaID, DataKind: kind}}}, nil
	})
	if err != nil {
		return fmt.Errorf("note media saved on %s: %w", number, err)
	}
	return nil
}
