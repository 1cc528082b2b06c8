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
	// One write for both cases (CaseStore.UpdateCases): the survivor
	// gains the residents and the merged case closes together, so no crash
	// can leave the residents moved and the case open, or the case closed
	// and its residents following nothing.
	s := town.StaffMember(staff)
	cs, evs, err := l.Store.UpdateCases(ctx, []string{into, number}, func(cs []*Case) ([][]Event, error) {
		dst, c := cs[0], cs[1]
		if err := town.Permit(s, StepMerge, dst); err != nil {
			return nil, fmt.Errorf("into %s: %w", into, err)
		}
		if err := town.Permit(s, StepMerge, c); err != nil {
			return nil, err
		}
		added := 0
		for _, r := range append([]string{c.Resident}, c.Joined...) {
			if r != "" && r != dst.Resident && !slices.Contains(dst.Joined, r) {
				dst.Joined = append(dst.Joined, r)
				added++
			}
		}
		if len(dst.Joined) > MaxJoined {
			return nil, refuse(StepMerge, ErrWrongState, "要并入的事项附议人数已满，不能合并。")
		}
		c.State, c.MergedInto = StateClosed, dst.Number
		at := l.now()
		return [][]Event{
			{{Kind: EventMergedIn, Actor: staff, Text: reason, At: at,
				Data: map[string]string{DataFrom: number, DataCount: strconv.Itoa(added)}}},
			{{Kind: EventMerged, Actor: staff, Text: reason, At: at,
				Data: map[string]string{DataInto: dst.Number, DataReason: ReasonMerged}}},
		}, nil
	})
	if errors.Is(err, ErrNotFound) {
		// Not there, or not staff's to see: the same answer, and not the
		// answer about the case being merged.
		return Case{}, nil, fmt.Errorf("merge %s into %s: %w", number, into,
			refuse(StepMerge, ErrInvalid, "没有找到要并入的事项，请核对编号。"))
	}
	if err != nil {
		return Case{}, nil, fmt.Errorf("merge %s into %s by %q: %w", number, into, staff, err)
	}
	return cs[1], evs[1], nil
}
