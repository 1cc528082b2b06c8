package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ReasonRetention marks an erasure made by the retention policy.
const ReasonRetention = "retention"

// ErasedText replaces a case's text when its personal data is erased.
const ErasedText = "（已超过保存期限，内容已删除）"

// EraseExpired erases the personal data of cases closed before cutoff: the
// resident's openid, phone, address, location label, text, photos and voice
// notes. What the figures need stays: category, grid, state, dates, rating
// and the event log's kinds. It returns the numbers of the cases it erased
// and the media IDs whose kept bytes must go too. It is idempotent, so every
// instance may run it. It never touches the audit trail (audit.go), which
// holds no personal data and is kept for its own time (audit.keep).
func (l *Ledger) EraseExpired(ctx context.Context, cutoff time.Time) (erased, media []string, err error) {
	closed, err := l.Store.Cases(ctx, CaseQuery{States: []State{StateClosed}, Limit: 1 << 30})
	if err != nil {
		return nil, nil, fmt.Errorf("erase expired: %w", err)
	}
	for _, c := range closed {
		if !c.UpdatedAt.Before(cutoff) || c.Resident == "" {
			continue
		}
		var ids []string
		_, _, err := l.Store.UpdateCase(ctx, c.Number, func(c *Case) ([]Event, error) {
			if c.State != StateClosed || !c.UpdatedAt.Before(cutoff) || c.Resident == "" {
				return nil, ErrNoChange
			}
			ids = ids[:0]
			for _, m := range append(append([]Media{}, c.Photos...), c.Voices...) {
				ids = append(ids, m.MediaID)
			}
			c.Resident, c.Phone, c.Address, c.Text, c.Contact = "", "", "", ErasedText, ""
			c.Photos, c.Voices, c.Joined = nil, nil, nil
			if c.Location != nil {
				loc := *c.Location
				loc.Label = ""
				c.Location = &loc
			}
			return []Event{{Kind: EventAnonymised, Actor: ActorSystem, At: l.now(),
				Data: map[string]string{DataReason: ReasonRetention}}}, nil
		})
		switch {
		case errors.Is(err, ErrNoChange):
		case err != nil:
			return erased, media, fmt.Errorf("erase expired %s: %w", c.Number, err)
		default:
			erased = append(erased, c.Number)
			media = append(media, ids...)
		}
	}
	return erased, media, nil
}
