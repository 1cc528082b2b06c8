package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Merging (合并): a case found later to be the same problem as another is
// merged into it. The merged case is closed, naming the survivor; the
// residents who filed or joined it join the survivor (附议), so they hear
// its progress and rate its result, and they are told.

// Events of merging.
const (
	EventMerged   EventKind = "merged"    // this case was merged into DataInto and closed
	EventMergedIn EventKind = "merged_in" // DataFrom was merged into this case; its residents joined
)

// Keys of merging's events.
const (
	DataInto = "into" // the surviving case's number
	DataFrom = "from" // the merged case's number
)

// ReasonMerged is the DataReason of a close by merging.
const ReasonMerged = "merged"

// Merge merges case number into case into (StepMerge on both, by staff):
// into gains number's residents as joiners, then number is closed. Both
// must be open and visible to staff. ErrInvalid: into is empty, the same
// case, or not found for staff.
func (l *Ledger) Merge(ctx context.Context, number, into, staff, reason string) (Case, []Event, error) {
	reason = strings.TrimSpace(reason)
	into = strings.TrimSpace(into)
	if into == "" || strings.EqualFold(into, number) || len([]rune(reason)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("merge %s into %q: %w", number, into, ErrInvalid)
	}
	town := l.Town.Town()
	src, err := l.Store.Case(ctx, number)
	if err != nil {
		return Case{}, nil, fmt.Errorf("merge %s: %w", number, err)
	}
	if err := town.Permit(town.StaffMember(staff), StepMerge, &src); err != nil {
		return Case{}, nil, fmt.Errorf("merge %s by %q: %w", number, staff, err)
	}
	moving := append([]string{src.Resident}, src.Joined...)
	_, _, err = l.staffStep(ctx, into, staff, StepMerge, func(c *Case, _ *Staff) ([]Event, error) {
		added := 0
		for _, r := range moving {
			if r != "" && r != c.Resident && !slices.Contains(c.Joined, r) {
				c.Joined = append(c.Joined, r)
				added++
			}
		}
		if len(c.Joined) > MaxJoined {
			return nil, refuse(StepMerge, ErrWrongState, "要并入的事项附议人数已满，不能合并。")
		}
		return []Event{{Kind: EventMergedIn, Actor: staff, Text: reason, At: l.now(),
			Data: map[string]string{DataFrom: number, DataCount: strconv.Itoa(added)}}}, nil
	})
	if errors.Is(err, ErrNotFound) {
		// Not there, or not staff's to see: the same answer, and not the
		// answer about the case being merged.
		return Case{}, nil, fmt.Errorf("merge %s into %s: %w", number, into,
			refuse(StepMerge, ErrInvalid, "没有找到要并入的事项，请核对编号。"))
	}
	if err != nil {
		return Case{}, nil, err
	}
	return l.staffStep(ctx, number, staff, StepMerge, func(c *Case, _ *Staff) ([]Event, error) {
		if c.Resident != src.Resident || !slices.Equal(c.Joined, src.Joined) {
			// Someone joined since it was read: the survivor lacks them.
			// A retry adds them (the step above adds only who is missing).
			return nil, ErrConflict
		}
		c.State, c.MergedInto = StateClosed, into
		return []Event{{Kind: EventMerged, Actor: staff, Text: reason, At: l.now(),
			Data: map[string]string{DataInto: into, DataReason: ReasonMerged}}}, nil
	})
}
