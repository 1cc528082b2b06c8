package core

import (
	"context"
	"fmt"
	"time"
)

// SweptStates are the states the supervision sweep looks at: every case
// the clock can still change, and the submitted ones it may have to route.
var SweptStates = []State{StateSubmitted, StateAssigned, StateInProgress, StateReopened, StateResolved}

// CasesToSweep lists up to limit cases the supervision sweep has work on
// now, newest first, so that the router's sweeper asks the ledger and
// never its store. The store walks its index of cases not closed (the
// cost grows with the open cases, not the ledger), and keeps only those
// for which Supervise would change something now (Rules.due), and the
// submitted ones, which the sweeper may route: the cases with nothing due
// cost a read, not a write each.
func (l *Ledger) CasesToSweep(ctx context.Context, limit int) ([]Case, error) {
	rules, town, now := l.Rules.withDefaults(), l.Town.Town(), l.now()
	cs, err := l.Store.Cases(ctx, CaseQuery{Limit: limit, States: SweptStates,
		Keep: func(c *Case) bool { return c.State == StateSubmitted || rules.due(town, c, now) }})
	if err != nil {
		return nil, fmt.Errorf("cases to sweep: %w", err)
	}
	return cs, nil
}

// due reports whether Supervise would change c at now: the same tests, in
// the same order, without the change. rules has its defaults.
func (r Rules) due(town *Town, c *Case, now time.Time) bool {
	if c.State == StateResolved {
		return !c.ResolvedAt.IsZero() && now.Sub(c.ResolvedAt) >= r.RatingWait
	}
	if !c.State.Open() {
		return false
	}
	if c.Paused {
		return !c.ResumeAt.IsZero() && !now.Before(c.ResumeAt)
	}
	if (c.State == StateAssigned || c.State == StateReopened) && c.Post == PostA && !c.AssignedAt.IsZero() &&
		now.Sub(c.AssignedAt) >= r.acceptWithin(town.Category(c.Category)) && hasPostB(town, c) {
		return true
	}
	if c.Deadline.IsZero() {
		return false
	}
	start := c.TermStart
	if start.IsZero() {
		start = c.CreatedAt
	}
	if !now.Before(c.Deadline) {
		level := min(EscalationGrid+Escalation(now.Sub(c.Deadline)/r.EscalateEvery), EscalationTown)
		return c.Escalation < level
	}
	return c.Warning == "" && now.Sub(start) >= time.Duration(float64(c.Deadline.Sub(start))*r.WarnAt)
}

// hasPostB reports whether toPostB would move c: its grid has a post B
// who is someone else, and not disabled.
func hasPostB(town *Town, c *Case) bool {
	g := town.Grid(c.Grid)
	if g == nil || c.Post == PostB || c.Assignee == g.LeaderB {
		return false
	}
	b := town.StaffMember(g.LeaderB)
	return b != nil && !b.Disabled
}
