package core

import (
	"context"
	"fmt"
	"strings"
)

// Filing a resident's case and handing it to its grid (立账、派单).

// maxSubmitKeyLen bounds Draft.Key, which the stores keep as an index key.
const maxSubmitKeyLen = 64

// Submit files a resident's confirmed draft as a new case. A draft submitted
// again with the same Key returns the case it filed the first time.
func (l *Ledger) Submit(ctx context.Context, resident string, d Draft) (Case, error) {
	town := l.Town.Town()
	cat := town.Category(d.Category)
	if cat == nil {
		return Case{}, fmt.Errorf("submit: category %q: %w", d.Category, ErrInvalid)
	}
	g := town.Grid(d.Grid)
	if g == nil {
		return Case{}, fmt.Errorf("submit: grid %q: %w", d.Grid, ErrInvalid)
	}
	text := strings.TrimSpace(d.Text)
	if text == "" || len([]rune(text)) > MaxTextLen {
		return Case{}, fmt.Errorf("submit: text length: %w", ErrInvalid)
	}
	if resident == "" {
		return Case{}, fmt.Errorf("submit: no resident: %w", ErrInvalid)
	}
	if len(d.Key) > maxSubmitKeyLen {
		return Case{}, fmt.Errorf("submit: key length: %w", ErrInvalid)
	}
	if err := l.checkSubmitLimit(ctx, resident, d.Key); err != nil {
		return Case{}, err
	}
	// Dated in the town's zone: the stores number a case by the day its
	// CreatedAt reads, and a case filed at 07:00 on the 25th in the town is
	// the 25th's whatever the server's zone.
	now := l.now().In(town.Zone())
	c := Case{
		State:     StateSubmitted,
		Category:  cat.Code,
		Text:      text,
		Photos:    d.Photos,
		Voices:    d.Voices,
		Address:   d.Address,
		Location:  d.Location,
		Village:   g.Village,
		Grid:      g.ID,
		Resident:  resident,
		Phone:     d.Phone,
		SubmitKey: d.Key,
		Deadline:  town.Deadline(cat, now),
		TermStart: now,
		CreatedAt: now,
		UpdatedAt: now,
	}
	ev := Event{Kind: EventSubmitted, Actor: ActorResident, At: now, Data: map[string]string{DataGrid: g.ID}}
	c, _, err := l.Store.CreateCase(ctx, c, ev)
	if err != nil {
		return Case{}, fmt.Errorf("submit: %w", err)
	}
	return c, nil
}

// Assign hands a submitted case to its grid's post A, or post B when A is
// away. A case already assigned is left alone (ErrNoChange), which makes the
// router's assign handler idempotent.
func (l *Ledger) Assign(ctx context.Context, number string) (Case, []Event, error) {
	away, err := l.gridLeave(ctx, number)
	if err != nil {
		return Case{}, nil, err
	}
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if c.State != StateSubmitted {
			return nil, ErrNoChange
		}
		ev, err := l.handToGrid(c, away)
		if err != nil {
			return nil, fmt.Errorf("assign %s: %w", number, err)
		}
		c.State = StateAssigned
		ev.Kind = EventAssigned
		return []Event{ev}, nil
	})
}

// gridLeave reads, before the write, which leaders of the case's grid are
// on leave (a store read inside UpdateCase's change is not allowed).
func (l *Ledger) gridLeave(ctx context.Context, number string) (map[string]bool, error) {
	c, err := l.Store.Case(ctx, number)
	if err != nil {
		return nil, fmt.Errorf("leave for %s: %w", number, err)
	}
	g := l.Town.Town().Grid(c.Grid)
	if g == nil {
		return nil, nil
	}
	return l.Roster.Away(ctx, g.LeaderA, g.LeaderB)
}

// handToGrid gives c to its grid's post A, or B when A is away, and returns
// the event (without its kind) that records it.
func (l *Ledger) handToGrid(c *Case, away map[string]bool) (Event, error) {
	town := l.Town.Town()
	g := town.Grid(c.Grid)
	if g == nil {
		return Event{}, fmt.Errorf("grid %q is gone: %w", c.Grid, ErrInvalid)
	}
	s, post, ok := town.ResponsibleUnless(g, away)
	if !ok {
		return Event{}, fmt.Errorf("grid %q has nobody on post: %w", g.ID, ErrInvalid)
	}
	now := l.now()
	c.Assignee, c.Post, c.AssignedAt = s.ID, post, now
	return Event{Actor: ActorSystem, At: now,
		Data: map[string]string{DataAssignee: s.ID, DataPost: string(post), DataGrid: g.ID}}, nil
}
