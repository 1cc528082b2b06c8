package core

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Ledger moves cases through their states (立账督办、对账销号). It is the one
// place that enforces what a step may do: every step asks the policy
// (policy.go) inside its write, with the case as it stands; the dialog, the
// router and the console all go through it.
type Ledger struct {
	Store CaseStore
	Town  TownSource
	Now   func() time.Time // nil means time.Now
	// Roster adds the leave taken in WeChat (请假) to the directory's when
	// a case is assigned; nil means the directory alone.
	Roster *Roster
	// Rules time the supervision; zero fields take their defaults.
	Rules Rules
	// Limits bound how much one resident files (submitlimit.go).
	Limits SubmitLimits
}

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// staffStep runs staff member staff's step on case number under the policy:
// the decision is made inside the write, on the case as it is written, so
// no race between check and change lets a refused step through. apply makes
// the change; it gets the member the policy judged.
func (l *Ledger) staffStep(ctx context.Context, number, staff string, step Step,
	apply func(c *Case, s *Staff) ([]Event, error)) (Case, []Event, error) {
	town := l.Town.Town()
	s := town.StaffMember(staff)
	c, evs, err := l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if err := town.Permit(s, step, c); err != nil {
			return nil, err
		}
		return apply(c, s)
	})
	if err != nil {
		return c, evs, fmt.Errorf("%s %s by %q: %w", step, number, staff, err)
	}
	return c, evs, nil
}

// residentStep runs a resident's step on case number under the policy, as
// staffStep does for staff.
func (l *Ledger) residentStep(ctx context.Context, number, resident string, step Step,
	apply func(c *Case) ([]Event, error)) (Case, error) {
	c, _, err := l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if err := PermitResident(resident, step, c); err != nil {
			return nil, err
		}
		return apply(c)
	})
	if err != nil {
		return c, fmt.Errorf("%s %s: %w", step, number, err)
	}
	return c, nil
}

// MaxTextLen bounds free text on a case (runes), so one message cannot bloat
// the ledger.
const MaxTextLen = 1000

// OpenCases lists the resident's cases that are not closed, newest first.
func (l *Ledger) OpenCases(ctx context.Context, resident string) ([]Case, error) {
	cs, err := l.Store.Cases(ctx, CaseQuery{Resident: resident,
		States: []State{StateSubmitted, StateAssigned, StateInProgress, StateResolved, StateReopened}})
	if err != nil {
		return nil, fmt.Errorf("open cases: %w", err)
	}
	return cs, nil
}

// Case returns the case with number (ErrNotFound).
func (l *Ledger) Case(ctx context.Context, number string) (Case, error) {
	c, err := l.Store.Case(ctx, number)
	if err != nil {
		return Case{}, fmt.Errorf("case %s: %w", number, err)
	}
	return c, nil
}

// WorkList lists the open cases staff s may work on, the nearest deadline
// first.
func (l *Ledger) WorkList(ctx context.Context, s *Staff) ([]Case, error) {
	town := l.Town.Town()
	q := CaseQuery{States: []State{StateSubmitted, StateAssigned, StateInProgress, StateReopened}}
	switch s.Role {
	case RoleGridLeader:
		q.Grids = town.GridsLedBy(s.ID)
		if len(q.Grids) == 0 {
			return nil, nil
		}
	case RoleDepartment:
		q.Department = s.Department
	}
	cases, err := l.Store.Cases(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("work list of %s: %w", s.ID, err)
	}
	out := cases[:0]
	for i := range cases {
		if town.MayWork(s, &cases[i]) {
			out = append(out, cases[i])
		}
	}
	slices.SortStableFunc(out, func(a, b Case) int { return a.Deadline.Compare(b.Deadline) })
	return out, nil
}

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
