package core

import (
	"context"
	"time"
)

// The clock on every case (立账督办): accept times, warnings, escalation,
// and closing cases left unrated.

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
			closed := Event{Kind: EventClosed, Actor: ActorSystem, At: now, Data: map[string]string{DataUnrated: "true"}}
			return append([]Event{closed}, l.dueCallback(c, ReasonUnrated, now)...), nil // 回访 (callback.go)
		}
		if !c.State.Open() {
			return nil, ErrNoChange
		}
		var evs []Event
		if c.Paused {
			// A stopped clock warns nobody; a pause granted until a date
			// ends by itself then, as if resumed by hand at that date.
			if c.ResumeAt.IsZero() || now.Before(c.ResumeAt) {
				return nil, ErrNoChange
			}
			ev := c.resume(c.ResumeAt, ActorSystem)
			ev.At = now
			evs = append(evs, ev)
		}
		if (c.State == StateAssigned || c.State == StateReopened) && c.Post == PostA && !c.AssignedAt.IsZero() &&
			now.Sub(c.AssignedAt) >= rules.acceptWithin(town.Category(c.Category)) {
			if ev, ok := l.toPostB(c, ActorSystem, ReasonSilent); ok {
				evs = append(evs, ev)
			}
		}
		evs = append(evs, superviseMilestones(c, now)...) // 时间节点 (meeting.go)
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
