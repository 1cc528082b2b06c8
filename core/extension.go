package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Extensions (延期) and pauses (挂起): whoever handles a case asks for more
// working days, or for its clock to stop while it waits on something outside
// the grid's hands; the village or the town decides. The deadline moves, or
// stops, only when the request is approved, and every step is on the case's
// log. A paused case is not overdue; it resumes by hand or at the date its
// pause was granted until.

// Events of extensions and pauses.
const (
	EventChangeAsked   EventKind = "change_asked"   // a handler asked for an extension or a pause (DataChange)
	EventChangeRefused EventKind = "change_refused" // the village or town refused it, with a note
	EventExtended      EventKind = "extended"       // the deadline moved (DataDays, DataDeadline)
	EventPaused        EventKind = "paused"         // the clock stopped (DataUntil when it restarts by itself)
	EventResumed       EventKind = "resumed"        // the clock runs again; the deadline moved by the pause
)

// Keys of those events' Data.
const (
	DataChange   = "change"   // ChangeExtend or ChangePause
	DataDays     = "days"     // working days asked or granted
	DataUntil    = "until"    // RFC 3339: when a pause ends by itself
	DataDeadline = "deadline" // RFC 3339: the new deadline
	DataAskedBy  = "asked_by" // on a decision: the staff ID who asked
)

// ChangeKind is what a handler asks to change about a case's term.
type ChangeKind string

const (
	ChangeExtend ChangeKind = "extend" // 延期
	ChangePause  ChangeKind = "pause"  // 挂起
)

// Label names the change in the words staff read.
func (k ChangeKind) Label() string {
	if k == ChangePause {
		return "挂起"
	}
	return "延期"
}

// TermChange is a request for more time, waiting for a decision.
type TermChange struct {
	Kind   ChangeKind `json:"kind"`
	Days   int        `json:"days,omitempty"` // extend: working days
	Until  time.Time  `json:"until,omitzero"` // pause: when it ends by itself; zero: by hand
	Reason string     `json:"reason"`
	By     string     `json:"by"` // the staff ID who asked
	At     time.Time  `json:"at"`
}

// MaxExtensionDays bounds one extension: a month of working days.
const MaxExtensionDays = 22

// MaxPause bounds how far ahead a pause may be set to end by itself.
const MaxPause = 180 * 24 * time.Hour

// AskChange records a handler's request for an extension or a pause. The
// policy decides who may ask (StepAskChange); ErrInvalid: no reason, or
// days or an end date out of bounds.
func (l *Ledger) AskChange(ctx context.Context, number, staff string, change TermChange) (Case, []Event, error) {
	change.Reason = strings.TrimSpace(change.Reason)
	now := l.now()
	switch {
	case change.Reason == "" || len([]rune(change.Reason)) > MaxTextLen:
		return Case{}, nil, fmt.Errorf("ask change %s: reason: %w", number, ErrInvalid)
	case change.Kind == ChangeExtend && (change.Days < 1 || change.Days > MaxExtensionDays):
		return Case{}, nil, fmt.Errorf("ask change %s: %d days: %w", number, change.Days, ErrInvalid)
	case change.Kind == ChangePause && !change.Until.IsZero() && (!change.Until.After(now) || change.Until.Sub(now) > MaxPause):
		return Case{}, nil, fmt.Errorf("ask change %s: until %s: %w", number, change.Until, ErrInvalid)
	case change.Kind != ChangeExtend && change.Kind != ChangePause:
		return Case{}, nil, fmt.Errorf("ask change %s: kind %q: %w", number, change.Kind, ErrInvalid)
	}
	if change.Kind == ChangeExtend {
		change.Until = time.Time{}
	} else {
		change.Days = 0
	}
	change.By, change.At = staff, now
	return l.staffStep(ctx, number, staff, StepAskChange, func(c *Case, _ *Staff) ([]Event, error) {
		c.Pending = &change
		return []Event{{Kind: EventChangeAsked, Actor: staff, Text: change.Reason, At: now, Data: change.data()}}, nil
	})
}

func (ch TermChange) data() map[string]string {
	data := map[string]string{DataChange: string(ch.Kind), DataAskedBy: ch.By}
	if ch.Days > 0 {
		data[DataDays] = strconv.Itoa(ch.Days)
	}
	if !ch.Until.IsZero() {
		data[DataUntil] = ch.Until.Format(time.RFC3339)
	}
	return data
}

// DecideChange approves or refuses the case's pending request (StepDecide).
// An approved extension moves the deadline by its working days; an approved
// pause stops the clock. A refusal needs a note saying why.
func (l *Ledger) DecideChange(ctx context.Context, number, staff string, approve bool, note string) (Case, []Event, error) {
	note = strings.TrimSpace(note)
	if len([]rune(note)) > MaxTextLen || (!approve && note == "") {
		return Case{}, nil, fmt.Errorf("decide change %s: note: %w", number, ErrInvalid)
	}
	town := l.Town.Town()
	return l.staffStep(ctx, number, staff, StepDecide, func(c *Case, _ *Staff) ([]Event, error) {
		ch := *c.Pending
		c.Pending = nil
		now := l.now()
		if !approve {
			data := ch.data()
			return []Event{{Kind: EventChangeRefused, Actor: staff, Text: note, At: now, Data: data}}, nil
		}
		if ch.Kind == ChangePause {
			c.Paused, c.PausedAt, c.ResumeAt = true, now, ch.Until
			return []Event{{Kind: EventPaused, Actor: staff, Text: note, At: now, Data: ch.data()}}, nil
		}
		c.Deadline = town.Calendar.AddWorkdays(c.Deadline, ch.Days)
		c.Extensions++
		c.clearWarningsBefore(now)
		data := ch.data()
		data[DataDeadline] = c.Deadline.Format(time.RFC3339)
		return []Event{{Kind: EventExtended, Actor: staff, Text: note, At: now, Data: data}}, nil
	})
}

// Resume starts a paused case's clock again (StepResume): the deadline moves
// by as long as it was paused.
func (l *Ledger) Resume(ctx context.Context, number, staff string) (Case, []Event, error) {
	return l.staffStep(ctx, number, staff, StepResume, func(c *Case, _ *Staff) ([]Event, error) {
		return []Event{c.resume(l.now(), staff)}, nil
	})
}

// resume ends c's pause at now on actor's word.
func (c *Case) resume(now time.Time, actor string) Event {
	if !c.Deadline.IsZero() && now.After(c.PausedAt) {
		c.Deadline = c.Deadline.Add(now.Sub(c.PausedAt))
	}
	c.Paused, c.PausedAt, c.ResumeAt = false, time.Time{}, time.Time{}
	c.clearWarningsBefore(now)
	return Event{Kind: EventResumed, Actor: actor, At: now,
		Data: map[string]string{DataDeadline: c.Deadline.Format(time.RFC3339)}}
}

// clearWarningsBefore forgets warnings the moved deadline no longer
// deserves, so supervision judges the new term afresh.
func (c *Case) clearWarningsBefore(now time.Time) {
	if c.Deadline.After(now) {
		c.Warning, c.Escalation = "", EscalationNone
	}
}

// Overdue reports whether c is open past its deadline at now. A paused case
// is not: its clock is stopped.
func (c *Case) Overdue(now time.Time) bool {
	return pastDeadline(c.State, c.Paused, c.Deadline, now)
}

// pastDeadline is Overdue for a case in state, its clock paused or not, due
// at deadline: the board reads it from marks.
func pastDeadline(state State, paused bool, deadline, now time.Time) bool {
	return state.Open() && !paused && !deadline.IsZero() && now.After(deadline)
}
