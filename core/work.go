package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Rules time the supervision of cases (立账督办). Zero fields take the
// defaults below.
type Rules struct {
	// WarnAt is the share of a case's time, from its start to its
	// deadline, after which a yellow warning goes out.
	WarnAt float64
	// EscalateEvery is how long an overdue case stays at one level of the
	// chain (grid leader → village → town) before it goes up the next.
	EscalateEvery time.Duration
	// AcceptWithin is how long post A has to accept a new case before it
	// goes to post B, for categories that set no accept_minutes.
	AcceptWithin time.Duration
	// RatingWait is how long a resolved case waits for the resident's
	// rating before it closes as not rated.
	RatingWait time.Duration
}

// Defaults of Rules.
const (
	DefaultWarnAt        = 0.75
	DefaultEscalateEvery = 24 * time.Hour
	DefaultAcceptWithin  = 2 * time.Hour
	DefaultRatingWait    = 72 * time.Hour
)

func (r Rules) withDefaults() Rules {
	if r.WarnAt <= 0 || r.WarnAt >= 1 {
		r.WarnAt = DefaultWarnAt
	}
	if r.EscalateEvery <= 0 {
		r.EscalateEvery = DefaultEscalateEvery
	}
	if r.AcceptWithin <= 0 {
		r.AcceptWithin = DefaultAcceptWithin
	}
	if r.RatingWait <= 0 {
		r.RatingWait = DefaultRatingWait
	}
	return r
}

// AcceptWithin is how long post A has to accept a case of category cat.
func (r Rules) acceptWithin(cat *Category) time.Duration {
	if cat != nil && cat.AcceptMinutes > 0 {
		return time.Duration(cat.AcceptMinutes) * time.Minute
	}
	return r.withDefaults().AcceptWithin
}

// Transfer hands the case to its grid's post B (转B). ErrNoChange: it is
// with post B already.
func (l *Ledger) Transfer(ctx context.Context, number, staff string) (Case, []Event, error) {
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if !c.State.Open() {
			return nil, fmt.Errorf("transfer %s: %w", number, ErrWrongState)
		}
		ev, ok := l.toPostB(c, staff, ReasonByHand)
		if !ok {
			return nil, ErrNoChange
		}
		return []Event{ev}, nil
	})
}

// toPostB moves c to its grid's B post; ok is false when it is there already
// or there is no B to move to.
func (l *Ledger) toPostB(c *Case, actor, reason string) (Event, bool) {
	town := l.Town.Town()
	g := town.Grid(c.Grid)
	if g == nil || c.Post == PostB || c.Assignee == g.LeaderB {
		return Event{}, false
	}
	b := town.StaffMember(g.LeaderB)
	if b == nil || b.Disabled {
		return Event{}, false
	}
	now := l.now()
	c.Assignee, c.Post, c.AssignedAt = b.ID, PostB, now
	return Event{Kind: EventTransferred, Actor: actor, At: now, Data: map[string]string{
		DataAssignee: b.ID, DataPost: string(PostB), DataGrid: g.ID, DataReason: reason}}, true
}

// Whistle calls department dept to the case (网格吹哨). The first department
// called leads while it has not returned the case. ErrNoChange: it is
// called already.
func (l *Ledger) Whistle(ctx context.Context, number, staff, dept, reason string) (Case, []Event, error) {
	if l.Town.Town().Department(dept) == nil {
		return Case{}, nil, fmt.Errorf("whistle %s: department %q: %w", number, dept, ErrInvalid)
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("whistle %s: reason length: %w", number, ErrInvalid)
	}
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if !c.State.Open() {
			return nil, fmt.Errorf("whistle %s: %w", number, ErrWrongState)
		}
		a := c.Assist(dept)
		switch {
		case a == nil:
			c.Departments = append(c.Departments, Assist{Department: dept, State: AssistCalled})
		case a.State == AssistReturned:
			a.State, a.Reason = AssistCalled, ""
		default:
			return nil, ErrNoChange
		}
		c.pickLead()
		data := map[string]string{DataDept: dept}
		if c.Assist(dept).Lead {
			data[DataLead] = "true"
		}
		return []Event{{Kind: EventWhistled, Actor: staff, Text: reason, At: l.now(), Data: data}}, nil
	})
}

// pickLead keeps one lead among the departments that have not returned
// the case: the current one, or else the first called.
func (c *Case) pickLead() {
	for _, a := range c.Departments {
		if a.Lead && a.State != AssistReturned {
			return
		}
	}
	found := false
	for i := range c.Departments {
		a := &c.Departments[i]
		a.Lead = !found && a.State != AssistReturned
		found = found || a.Lead
	}
}

// Sign records that department dept takes charge of the case (部门领办).
// ErrForbidden: it was not called; ErrNoChange: it has signed already.
func (l *Ledger) Sign(ctx context.Context, number, staff, dept string) (Case, []Event, error) {
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		a := c.Assist(dept)
		switch {
		case a == nil || a.State == AssistReturned:
			return nil, fmt.Errorf("sign %s: %w", number, ErrForbidden)
		case !c.State.Open():
			return nil, fmt.Errorf("sign %s: %w", number, ErrWrongState)
		case a.State == AssistSigned:
			return nil, ErrNoChange
		}
		a.State = AssistSigned
		if c.State == StateAssigned || c.State == StateReopened || c.State == StateSubmitted {
			c.State = StateInProgress
		}
		data := map[string]string{DataDept: dept}
		if a.Lead {
			data[DataLead] = "true"
		}
		return []Event{{Kind: EventSigned, Actor: staff, At: l.now(), Data: data}}, nil
	})
}

// Return records that department dept gives the case back with a reason
// (退回); the grid and the town decide what next.
func (l *Ledger) Return(ctx context.Context, number, staff, dept, reason string) (Case, []Event, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("return %s: reason length: %w", number, ErrInvalid)
	}
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		a := c.Assist(dept)
		switch {
		case a == nil || a.State == AssistReturned:
			return nil, fmt.Errorf("return %s: %w", number, ErrForbidden)
		case !c.State.Open():
			return nil, fmt.Errorf("return %s: %w", number, ErrWrongState)
		}
		a.State, a.Reason, a.Lead = AssistReturned, reason, false
		c.pickLead()
		return []Event{{Kind: EventReturned, Actor: staff, Text: reason, At: l.now(), Data: map[string]string{DataDept: dept}}}, nil
	})
}

// Reopen puts a resolved or closed case back to work (重办) on the town's
// decision. Only town staff may.
func (l *Ledger) Reopen(ctx context.Context, number, staff string) (Case, []Event, error) {
	if s := l.Town.Town().StaffMember(staff); s == nil || s.Disabled || s.Role != RoleTown {
		return Case{}, nil, fmt.Errorf("reopen %s by %q: %w", number, staff, ErrForbidden)
	}
	away, err := l.gridLeave(ctx, number)
	if err != nil {
		return Case{}, nil, err
	}
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if c.State != StateResolved && c.State != StateClosed {
			return nil, fmt.Errorf("reopen %s: %w", number, ErrWrongState)
		}
		return l.reopen(c, away, staff, ReasonTown)
	})
}

// reopen puts c back to its grid with a fresh deadline, and returns before
// followed by the reopened event.
func (l *Ledger) reopen(c *Case, away map[string]bool, actor, reason string, before ...Event) ([]Event, error) {
	ev, err := l.handToGrid(c, away)
	if err != nil {
		return nil, fmt.Errorf("reopen %s: %w", c.Number, err)
	}
	town := l.Town.Town()
	now := l.now()
	c.State, c.ResolvedAt, c.Warning, c.Escalation, c.TermStart = StateReopened, time.Time{}, "", EscalationNone, now
	if cat := town.Category(c.Category); cat != nil {
		c.Deadline = town.Deadline(cat, now)
	}
	ev.Kind, ev.Actor = EventReopened, actor
	ev.Data[DataReason] = reason
	return append(before, ev), nil
}

// Relay records a photo or a location staff send the resident after a
// reply; the router delivers it like the reply.
func (l *Ledger) Relay(ctx context.Context, number, staff string, photo *Media, loc *Location) (Case, []Event, error) {
	data := map[string]string{}
	var text string
	switch {
	case photo != nil && photo.MediaID != "":
		data[DataMedia], data[DataPicURL] = photo.MediaID, photo.URL
		text = "[照片]"
	case loc != nil:
		data[DataLat], data[DataLng], data[DataLabel] = fmt.Sprint(loc.Lat), fmt.Sprint(loc.Lng), loc.Label
		text = strings.TrimSpace("[位置] " + loc.Label)
	default:
		return Case{}, nil, fmt.Errorf("relay %s: nothing to relay: %w", number, ErrInvalid)
	}
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if c.State == StateClosed {
			return nil, fmt.Errorf("relay %s: %w", number, ErrWrongState)
		}
		return []Event{{Kind: EventReplied, Actor: staff, Text: text, At: l.now(), Data: data}}, nil
	})
}

// Supervise applies the clock to one case (立账督办): post A's accept time
// running out sends it to post B; a yellow warning at Rules.WarnAt of its
// time; overdue, a red warning and escalation one level up the chain every
// Rules.EscalateEvery; a resolved case left unrated for Rules.RatingWait
// closes. Each step is recorded on the case and compared against what is
// recorded, so any number of sweepers, before and after a restart, fire it
// once. ErrNoChange: nothing is due.
func (l *Ledger) Supervise(ctx context.Context, number string) (Case, []Event, error) {
	rules := l.Rules.withDefaults()
	town := l.Town.Town()
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		now := l.now()
		if c.State == StateResolved {
			if c.ResolvedAt.IsZero() || now.Sub(c.ResolvedAt) < rules.RatingWait {
				return nil, ErrNoChange
			}
			c.State = StateClosed
			return []Event{{Kind: EventClosed, Actor: ActorSystem, At: now, Data: map[string]string{DataUnrated: "true"}}}, nil
		}
		if !c.State.Open() {
			return nil, ErrNoChange
		}
		var evs []Event
		if (c.State == StateAssigned || c.State == StateReopened) && c.Post == PostA && !c.AssignedAt.IsZero() &&
			now.Sub(c.AssignedAt) >= rules.acceptWithin(town.Category(c.Category)) {
			if ev, ok := l.toPostB(c, ActorSystem, ReasonSilent); ok {
				evs = append(evs, ev)
			}
		}
		if c.Deadline.IsZero() {
			return evs, nil
		}
		start := c.TermStart
		if start.IsZero() {
			start = c.CreatedAt
		}
		if !now.Before(c.Deadline) {
			level := EscalationGrid + Escalation(now.Sub(c.Deadline)/rules.EscalateEvery)
			level = min(level, EscalationTown)
			c.Warning = WarningRed
			for e := c.Escalation + 1; e <= level; e++ {
				evs = append(evs, Event{Kind: EventEscalated, Actor: ActorSystem, At: now,
					Data: map[string]string{DataLevel: e.String(), DataGrid: c.Grid}})
			}
			c.Escalation = max(c.Escalation, level)
		} else if c.Warning == "" && now.Sub(start) >= time.Duration(float64(c.Deadline.Sub(start))*rules.WarnAt) {
			c.Warning = WarningYellow
			evs = append(evs, Event{Kind: EventWarned, Actor: ActorSystem, At: now,
				Data: map[string]string{DataLevel: string(WarningYellow)}})
		}
		return evs, nil
	})
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
