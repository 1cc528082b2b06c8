package core

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Steps on a case named by its number, for channels where the person points
// at one case (a page about that case) rather than answering the latest
// question in a chat. The policy is the same (policy.go), asked inside the
// write.

// RateCase rates case number 1–5 as resident: the resident who filed it
// settles it as Rate does (3–5 close it, 1–2 reopen it); one who joined it
// has their rating recorded as RateJoined does.
func (l *Ledger) RateCase(ctx context.Context, number, resident string, score int) (Case, error) {
	if score < 1 || score > 5 {
		return Case{}, fmt.Errorf("rate %s: score %d: %w", number, score, ErrInvalid)
	}
	c, err := l.Case(ctx, number)
	if err != nil {
		return Case{}, err
	}
	if resident != "" && c.Resident != resident && slices.Contains(c.Joined, resident) {
		return l.RateJoined(ctx, number, resident, score)
	}
	away, err := l.gridLeave(ctx, number)
	if err != nil {
		return Case{}, err
	}
	return l.residentStep(ctx, number, resident, StepRate, func(c *Case) ([]Event, error) {
		if c.Resident != resident {
			return nil, refuse(StepRate, ErrNotFound, reasonNotFound)
		}
		now := l.now()
		c.Rating = score
		rated := Event{Kind: EventRated, Actor: ActorResident, At: now, Data: map[string]string{DataRating: strconv.Itoa(score)}}
		if score <= 2 {
			return l.reopen(c, away, ActorSystem, ReasonRating, rated)
		}
		c.State = StateClosed
		return []Event{rated, {Kind: EventClosed, Actor: ActorSystem, At: now}}, nil
	})
}

// NotFixedCase reopens the resident's resolved case number (重办) because
// they say it is not fixed (没解决), as NotFixed does for their earliest.
func (l *Ledger) NotFixedCase(ctx context.Context, number, resident string) (Case, error) {
	away, err := l.gridLeave(ctx, number)
	if err != nil {
		return Case{}, err
	}
	return l.residentStep(ctx, number, resident, StepNotFixed, func(c *Case) ([]Event, error) {
		return l.reopen(c, away, ActorResident, ReasonNotDone)
	})
}

// ResolveWithPhoto resolves case number as Resolve does, keeping a photo of
// the fix with the case (among its photos, so whoever may see the case may
// see it) and naming it on the resolved event.
func (l *Ledger) ResolveWithPhoto(ctx context.Context, number, staff, result string, photo Media) (Case, []Event, error) {
	result = strings.TrimSpace(result)
	if result == "" || len([]rune(result)) > MaxTextLen || photo.MediaID == "" {
		return Case{}, nil, fmt.Errorf("resolve %s: result length or photo: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepResolve, func(c *Case, _ *Staff) ([]Event, error) {
		if err := c.keepStaffPhoto(StepResolve, photo); err != nil {
			return nil, err
		}
		now := l.now()
		c.State, c.Result, c.ResolvedAt = StateResolved, result, now
		// A case the grid found itself is settled when resolved, with a
		// photo or without.
		return c.settleFound(staff, Event{Kind: EventResolved, Actor: staff, Text: result, At: now,
			Data: map[string]string{DataMedia: photo.MediaID, DataKind: MediaImage}}), nil
	})
}

// keepStaffPhoto keeps a photo staff sent (relayed to the resident, or of
// the fix) among the case's photos, so the console shows it to whoever may
// see the case and the retention and 注销 erase it with the others. A photo
// kept already (relayed, then sent with 办结) is kept once.
func (c *Case) keepStaffPhoto(step Step, photo Media) error {
	for _, p := range c.Photos {
		if p.MediaID == photo.MediaID {
			return nil
		}
	}
	if len(c.Photos) >= maxMediaPerCase {
		return refuse(step, ErrInvalid, fmt.Sprintf("这件事项已有%d张照片，不能再加。", maxMediaPerCase))
	}
	c.Photos = append(c.Photos, photo)
	return nil
}
