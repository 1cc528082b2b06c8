package core

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Staff correcting a case: its category or grid (更正), or putting a
// resolved or closed case back to work (重办).

// Reopen puts a resolved or closed case back to work (重办) on the town's
// decision.
func (l *Ledger) Reopen(ctx context.Context, number, staff string) (Case, []Event, error) {
	away, err := l.gridLeave(ctx, number)
	if err != nil {
		return Case{}, nil, err
	}
	return l.staffStep(ctx, number, staff, StepReopen, func(c *Case, _ *Staff) ([]Event, error) {
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
	evs := append(before, ev)
	if reason == ReasonRating || reason == ReasonNotDone {
		evs = append(evs, l.dueCallback(c, reason, now)...) // 回访 (callback.go)
	}
	return evs, nil
}

// EventReclassified records that staff corrected a case's category or grid
// (更正类别/网格), with the reason; Data holds the old and new values.
const EventReclassified EventKind = "reclassified"

// Keys of a reclassified event's Data.
const (
	DataOldCategory = "old_category"
	DataCategory    = "category"
	DataOldGrid     = "old_grid"
)

// Reclassify corrects the category and/or the grid of an open case, for a
// reason that is recorded. A new category restarts nothing but moves the
// deadline to the new category's, counted from the start of the current
// term; a new grid moves the case to that grid's village and, unless it
// still waits for assignment, to the grid's post A (B when A is away).
// Empty category or grid leaves it as it is. ErrInvalid: unknown category
// or grid, or no reason; ErrNoChange: nothing differs.
func (l *Ledger) Reclassify(ctx context.Context, number, staff, category, grid, reason string) (Case, []Event, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("reclassify %s: reason: %w", number, ErrInvalid)
	}
	town := l.Town.Town()
	var cat *Category
	if category != "" {
		if cat = town.Category(category); cat == nil {
			return Case{}, nil, fmt.Errorf("reclassify %s: category %q: %w", number, category, ErrInvalid)
		}
	}
	var g *Grid
	var away map[string]bool
	if grid != "" {
		g = town.Grid(grid)
		if err := town.PermitMove(town.StaffMember(staff), g); err != nil {
			return Case{}, nil, fmt.Errorf("reclassify %s to grid %q: %w", number, grid, err)
		}
		var err error
		if away, err = l.Roster.Away(ctx, g.LeaderA, g.LeaderB); err != nil {
			return Case{}, nil, fmt.Errorf("reclassify %s: %w", number, err)
		}
	}
	return l.staffStep(ctx, number, staff, StepReclassify, func(c *Case, _ *Staff) ([]Event, error) {
		now := l.now()
		data := map[string]string{}
		if cat != nil && cat.Code != c.Category {
			data[DataOldCategory], data[DataCategory] = c.Category, cat.Code
			c.Category = cat.Code
			start := c.TermStart
			if start.IsZero() {
				start = c.CreatedAt
			}
			c.Deadline, c.Warning = town.Deadline(cat, start), ""
		}
		var moved *Event
		if g != nil && g.ID != c.Grid {
			data[DataOldGrid], data[DataGrid] = c.Grid, g.ID
			c.Grid, c.Village = g.ID, g.Village
			if c.State != StateSubmitted {
				ev, err := l.handToGrid(c, away)
				if err != nil {
					return nil, fmt.Errorf("reclassify %s: %w", number, err)
				}
				if c.State == StateInProgress {
					c.State = StateAssigned // the new grid has not taken it on yet
				}
				ev.Kind = EventAssigned
				moved = &ev
			}
		}
		if len(data) == 0 {
			return nil, ErrNoChange
		}
		evs := []Event{{Kind: EventReclassified, Actor: staff, Text: reason, At: now, Data: data}}
		if moved != nil {
			evs = append(evs, *moved)
		}
		return evs, nil
	})
}
