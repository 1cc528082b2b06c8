package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ReasonRetention marks an erasure made by the retention policy.
const ReasonRetention = "retention"

// ErasedText replaces a case's text when its personal data is erased.
const ErasedText = "（已超过保存期限，内容已删除）"

// retentionPage is how many due cases one read of the retention index
// lists.
const retentionPage = 256

// EraseExpired erases the personal data of cases closed before cutoff: the
// resident's openid, phone, address, location label, text, photos and voice
// notes. What the figures need stays: category, grid, state, dates, rating
// and the event log's kinds. It returns the numbers of the cases it erased
// and the media IDs whose kept bytes must go too. It is idempotent, so every
// instance may run it, at once too: each case is checked again
// (RetentionClock) in the write that erases it. It never touches the audit
// trail (audit.go), which holds no personal data and is kept for its own
// time (audit.keep).
//
// It reads the store's retention index (RetentionIndex), a page at a time:
// the cases it erases, not the ledger. An erased case leaves the index in
// its erasing write, so each page starts at the oldest still due; a listed
// case the check refuses (changed since, or erased by another instance)
// is counted, and the next page asks for that many more, so such cases
// never stop the run.
func (l *Ledger) EraseExpired(ctx context.Context, cutoff time.Time) (erased, media []string, err error) {
	seen := map[string]bool{}
	kept := 0 // listed cases not erased, still at the index's head
	for {
		page, err := l.Store.RetentionDue(ctx, cutoff, kept+retentionPage)
		if err != nil {
			return erased, media, fmt.Errorf("erase expired: %w", err)
		}
		fresh := slices.DeleteFunc(slices.Clone(page), func(n string) bool { return seen[n] })
		for _, number := range fresh {
			seen[number] = true
			ids, err := l.eraseIfExpired(ctx, number, cutoff)
			switch {
			case errors.Is(err, ErrNoChange), errors.Is(err, ErrNotFound):
				kept++
			case err != nil:
				return erased, media, fmt.Errorf("erase expired %s: %w", number, err)
			default:
				erased = append(erased, number)
				media = append(media, ids...)
			}
		}
		if len(fresh) == 0 || len(page) < kept+retentionPage {
			return erased, media, nil
		}
	}
}

// eraseIfExpired erases case number's personal data if the retention
// policy still holds it with a time before cutoff (else ErrNoChange), and
// returns the media IDs it dropped.
func (l *Ledger) eraseIfExpired(ctx context.Context, number string, cutoff time.Time) ([]string, error) {
	var ids []string
	_, _, err := l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if at, ok := RetentionClock(c); !ok || !at.Before(cutoff) {
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
	return ids, err
}
