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
	// Roster adds the leave taken in WeChat (请假) to the directory's when
	// a case is assigned; nil means the directory alone.
	Roster *Roster
	// Rules time the supervision; zero fields take their defaults.
	Rules Rules
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
	now := l.now()
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
		c.State, c.Result, c.ResolvedAt = StateResolved, result, l.now()
		return []Event{{Kind: EventResolved, Actor: staff, Text: result, At: l.now()}}, nil
	})
}

// Rate settles the resident's resolved case with a 1–5 rating: 3–5 close
// it, 1–2 reopen it (重办) to the same grid. When several wait for a rating
// the one resolved earliest is rated first, so the order of the questions
// matches the order of the answers. ErrNotFound means there is nothing to
// rate.
func (l *Ledger) Rate(ctx context.Context, resident string, score int) (Case, error) {
	if score < 1 || score > 5 {
		return Case{}, fmt.Errorf("rate: score %d: %w", score, ErrInvalid)
	}
	return l.settle(ctx, resident, func(c *Case, now time.Time, away map[string]bool) ([]Event, error) {
		c.Rating = score
		rated := Event{Kind: EventRated, Actor: ActorResident, At: now, Data: map[string]string{DataRating: strconv.Itoa(score)}}
		if score <= 2 {
			return l.reopen(c, away, ActorSystem, ReasonRating, rated)
		}
		c.State = StateClosed
		return []Event{rated, {Kind: EventClosed, Actor: ActorSystem, At: now}}, nil
	})
}

// NotFixed reopens the resident's resolved case (重办) because they say it
// is not fixed (没解决). ErrNotFound means nothing waits for their word.
func (l *Ledger) NotFixed(ctx context.Context, resident string) (Case, error) {
	return l.settle(ctx, resident, func(c *Case, _ time.Time, away map[string]bool) ([]Event, error) {
		return l.reopen(c, away, ActorResident, ReasonNotDone)
	})
}

// settle applies the resident's answer to their earliest resolved case.
func (l *Ledger) settle(ctx context.Context, resident string, answer func(*Case, time.Time, map[string]bool) ([]Event, error)) (Case, error) {
	waiting, err := l.Store.Cases(ctx, CaseQuery{Resident: resident, States: []State{StateResolved}})
	if err != nil {
		return Case{}, fmt.Errorf("settle: %w", err)
	}
	if len(waiting) == 0 {
		return Case{}, fmt.Errorf("settle: %w", ErrNotFound)
	}
	target := waiting[len(waiting)-1] // Cases lists newest first
	away, err := l.gridLeave(ctx, target.Number)
	if err != nil {
		return Case{}, err
	}
	c, _, err := l.Store.UpdateCase(ctx, target.Number, func(c *Case) ([]Event, error) {
		if c.State != StateResolved {
			return nil, ErrWrongState
		}
		return answer(c, l.now(), away)
	})
	if err != nil {
		return Case{}, fmt.Errorf("settle %s: %w", target.Number, err)
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
	// Reason says why nothing was sent when WeChat was not asked:
	// ReasonNoWeChat, ReasonGaveUp.
	Reason string
}

// Reasons of an undeliverable push that WeChat did not refuse (DataReason).
const (
	ReasonNoWeChat = "no_wechat" // the staff member has no WeChat bound
	ReasonGaveUp   = "gave_up"   // WeChat kept failing through the retries
)

// RecordDelivery appends the outcome of a push to the case's log.
func (l *Ledger) RecordDelivery(ctx context.Context, d Delivery) error {
	kind := EventDelivered
	data := map[string]string{DataTo: d.To, DataAbout: d.About.ID()}
	if d.Channel != "" {
		data[DataChannel] = d.Channel
	}
	if d.Err != nil || d.Reason != "" {
		kind = EventUndeliverable
		data[DataErrCode] = strconv.Itoa(d.ErrCode)
	}
	if d.Reason != "" {
		data[DataReason] = d.Reason
	}
	_, _, err := l.Store.UpdateCase(ctx, d.About.Case, func(c *Case) ([]Event, error) {
		return []Event{{Kind: kind, Actor: ActorSystem, At: l.now(), Data: data}}, nil
	})
	if err != nil && !errors.Is(err, ErrNoChange) {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}
