package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Ledger moves cases through their states (立账督办、对账销号). It is the one
// place that decides what a step may do; the dialog, the router and the
// console all go through it.
type Ledger struct {
	Store CaseStore
	Town  TownSource
	Now   func() time.Time // nil means time.Now
}

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// MaxTextLen bounds free text on a case (runes), so one message cannot bloat
// the ledger.
const MaxTextLen = 1000

// Submit files a resident's confirmed draft as a new case.
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
	now := l.now()
	c := Case{
		State:     StateSubmitted,
		Category:  cat.Code,
		Text:      text,
		Photos:    d.Photos,
		Location:  d.Location,
		Village:   g.Village,
		Grid:      g.ID,
		Resident:  resident,
		Phone:     d.Phone,
		Deadline:  now.Add(time.Duration(cat.DeadlineHours) * time.Hour),
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
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if c.State != StateSubmitted {
			return nil, ErrNoChange
		}
		town := l.Town.Town()
		g := town.Grid(c.Grid)
		if g == nil {
			return nil, fmt.Errorf("assign %s: grid %q is gone: %w", number, c.Grid, ErrInvalid)
		}
		s, post, ok := town.Responsible(g)
		if !ok {
			return nil, fmt.Errorf("assign %s: grid %q has nobody on post: %w", number, g.ID, ErrInvalid)
		}
		c.State, c.Assignee, c.Post = StateAssigned, s.ID, post
		return []Event{{Kind: EventAssigned, Actor: ActorSystem, At: l.now(),
			Data: map[string]string{DataAssignee: s.ID, DataPost: string(post), DataGrid: g.ID}}}, nil
	})
}

// Accept records that staff took the case on (受理).
func (l *Ledger) Accept(ctx context.Context, number, staff string) (Case, []Event, error) {
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if c.State != StateAssigned && c.State != StateReopened && c.State != StateSubmitted {
			return nil, ErrNoChange
		}
		c.State = StateInProgress
		return []Event{{Kind: EventAccepted, Actor: staff, At: l.now()}}, nil
	})
}

// Reply records a message from staff to the resident; the router delivers it.
// Replying to an assigned case also takes it on.
func (l *Ledger) Reply(ctx context.Context, number, staff, text string) (Case, []Event, error) {
	text = strings.TrimSpace(text)
	if text == "" || len([]rune(text)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("reply %s: text length: %w", number, ErrInvalid)
	}
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if c.State == StateClosed {
			return nil, fmt.Errorf("reply %s: %w", number, ErrWrongState)
		}
		if c.State == StateAssigned || c.State == StateReopened {
			c.State = StateInProgress
		}
		return []Event{{Kind: EventReplied, Actor: staff, Text: text, At: l.now()}}, nil
	})
}

// Resolve marks the work done with a result; the resident is then asked to
// rate it, and the rating closes the case.
func (l *Ledger) Resolve(ctx context.Context, number, staff, result string) (Case, []Event, error) {
	result = strings.TrimSpace(result)
	if result == "" || len([]rune(result)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("resolve %s: result length: %w", number, ErrInvalid)
	}
	return l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		if !c.State.Open() {
			return nil, fmt.Errorf("resolve %s: %w", number, ErrWrongState)
		}
		c.State, c.Result = StateResolved, result
		return []Event{{Kind: EventResolved, Actor: staff, Text: result, At: l.now()}}, nil
	})
}

// Rate closes the resident's resolved case with a 1–5 rating. When several
// wait for a rating the one resolved earliest is rated first, so the order of
// the questions matches the order of the answers. ErrNotFound means there is
// nothing to rate.
func (l *Ledger) Rate(ctx context.Context, resident string, score int) (Case, error) {
	if score < 1 || score > 5 {
		return Case{}, fmt.Errorf("rate: score %d: %w", score, ErrInvalid)
	}
	waiting, err := l.Store.Cases(ctx, CaseQuery{Resident: resident, States: []State{StateResolved}})
	if err != nil {
		return Case{}, fmt.Errorf("rate: %w", err)
	}
	if len(waiting) == 0 {
		return Case{}, fmt.Errorf("rate: %w", ErrNotFound)
	}
	target := waiting[len(waiting)-1] // Cases lists newest first
	c, _, err := l.Store.UpdateCase(ctx, target.Number, func(c *Case) ([]Event, error) {
		if c.State != StateResolved {
			return nil, ErrWrongState
		}
		now := l.now()
		c.State, c.Rating = StateClosed, score
		return []Event{
			{Kind: EventRated, Actor: ActorResident, At: now, Data: map[string]string{DataRating: strconv.Itoa(score)}},
			{Kind: EventClosed, Actor: ActorSystem, At: now},
		}, nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("rate: %w", err)
	}
	return c, nil
}

// OpenCases lists the resident's cases that are not closed, newest first.
func (l *Ledger) OpenCases(ctx context.Context, resident string) ([]Case, error) {
	cs, err := l.Store.Cases(ctx, CaseQuery{Resident: resident,
		States: []State{StateSubmitted, StateAssigned, StateInProgress, StateResolved, StateReopened}})
	if err != nil {
		return nil, fmt.Errorf("open cases: %w", err)
	}
	return cs, nil
}

// Delivery is the outcome of one push, recorded on the case so staff can see
// what reached whom.
type Delivery struct {
	About   Event  // the event the push announced
	To      string // ActorResident or a staff ID
	Channel string // "custom" or "template"
	ErrCode int    // the WeChat error code when it failed
	Err     error  // nil when delivered
}

// RecordDelivery appends the outcome of a push to the case's log.
func (l *Ledger) RecordDelivery(ctx context.Context, d Delivery) error {
	kind := EventDelivered
	data := map[string]string{DataTo: d.To, DataAbout: d.About.ID()}
	if d.Channel != "" {
		data[DataChannel] = d.Channel
	}
	if d.Err != nil {
		kind = EventUndeliverable
		data[DataErrCode] = strconv.Itoa(d.ErrCode)
	}
	_, _, err := l.Store.UpdateCase(ctx, d.About.Case, func(c *Case) ([]Event, error) {
		return []Event{{Kind: kind, Actor: ActorSystem, At: l.now(), Data: data}}, nil
	})
	if err != nil && !errors.Is(err, ErrNoChange) {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}
