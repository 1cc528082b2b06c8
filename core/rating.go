package core

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The resident's answer to a resolved case: a rating (评价) or "not fixed"
// (没解决), which settle or reopen it.

// Rate settles the resident's resolved case with a 1–5 rating: 3–5 close
// it, 1–2 reopen it (重办) to the same grid. When several wait for a rating
// the one resolved earliest is rated first, so the order of the questions
// matches the order of the answers. ErrNotFound means there is nothing to
// rate.
func (l *Ledger) Rate(ctx context.Context, resident string, score int) (Case, error) {
	if score < 1 || score > 5 {
		return Case{}, fmt.Errorf("rate: score %d: %w", score, ErrInvalid)
	}
	return l.settle(ctx, resident, StepRate, func(c *Case, now time.Time, away map[string]bool) ([]Event, error) {
		c.Rating = score
		rated := Event{Kind: EventRated, Actor: ActorResident, At: now, Data: map[string]string{DataRating: strconv.Itoa(score)}}
		if score <= 2 {
			return l.reopen(c, away, ActorSystem, ReasonRating, rated)
		}
		c.State = StateClosed
		return []Event{rated, {Kind: EventClosed, Actor: ActorSystem, At: now}}, nil
	})
}

// NotFixed reopens the resident's resolved case (重办) because they say it
// is not fixed (没解决). ErrNotFound means nothing waits for their word.
func (l *Ledger) NotFixed(ctx context.Context, resident string) (Case, error) {
	return l.settle(ctx, resident, StepNotFixed, func(c *Case, _ time.Time, away map[string]bool) ([]Event, error) {
		return l.reopen(c, away, ActorResident, ReasonNotDone)
	})
}

// settle applies the resident's answer to their earliest resolved case.
func (l *Ledger) settle(ctx context.Context, resident string, step Step, answer func(*Case, time.Time, map[string]bool) ([]Event, error)) (Case, error) {
	waiting, err := l.Store.Cases(ctx, CaseQuery{Resident: resident, States: []State{StateResolved}})
	if err != nil {
		return Case{}, fmt.Errorf("settle: %w", err)
	}
	if len(waiting) == 0 {
		return Case{}, fmt.Errorf("settle: %w", ErrNotFound)
	}
	target := waiting[len(waiting)-1] // Cases lists newest first
	away, err := l.gridLeave(ctx, target.Number)
	if err != nil {
		return Case{}, err
	}
	return l.residentStep(ctx, target.Number, resident, step, func(c *Case) ([]Event, error) {
		return answer(c, l.now(), away)
	})
}

// RateJoined records the rating of a resident who joined case number. It
// does not settle the case: the rating of the resident who filed it does.
func (l *Ledger) RateJoined(ctx context.Context, number, resident string, score int) (Case, error) {
	if score < 1 || score > 5 {
		return Case{}, fmt.Errorf("rate joined: score %d: %w", score, ErrInvalid)
	}
	if c, err := l.Case(ctx, number); err == nil && !slices.Contains(c.Joined, resident) {
		// The one who filed it settles it through Rate; this is for joiners.
		return Case{}, fmt.Errorf("rate joined %s: %w", number, refuse(StepRate, ErrNotFound, reasonNotFound))
	}
	return l.residentStep(ctx, number, resident, StepRate, func(c *Case) ([]Event, error) {
		return []Event{{Kind: EventRated, Actor: ActorResident, At: l.now(),
			Data: map[string]string{DataRating: strconv.Itoa(score), DataJoined: "true"}}}, nil
	})
}
