package core

import (
	"context"
	"fmt"
	"slices"
	"strconv"
)

// Residents joining an open case about the same matter (附议).

// MaxJoined bounds the residents who may join one case.
const MaxJoined = 200

// JoinCandidates lists the open cases a new draft d of resident may join
// instead of filing its own: same category, and within radiusM metres of
// the draft's location (both located), or else in the same grid. The
// resident's own cases and those they joined are left out; nearest first.
func (l *Ledger) JoinCandidates(ctx context.Context, resident string, d Draft, radiusM float64) ([]Case, error) {
	if d.Category == "" || d.Grid == "" {
		return nil, nil
	}
	// The cells around the draft and its grid: a bounded read of the
	// index of open cases by category and place.
	places := []string{GridPlace(d.Grid)}
	if d.Location != nil {
		places = append(places, CellsAround(d.Location.Point, radiusM)...)
	}
	open, err := l.Store.Cases(ctx, CaseQuery{States: []State{StateSubmitted, StateAssigned, StateInProgress, StateReopened},
		Category: d.Category, Places: places})
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
	return l.residentStep(ctx, number, resident, StepJoin, func(c *Case) ([]Event, error) {
		c.Joined = append(c.Joined, resident)
		return []Event{{Kind: EventJoined, Actor: ActorResident, At: l.now(),
			Data: map[string]string{DataJoined: strconv.Itoa(len(c.Joined))}}}, nil
	})
}
