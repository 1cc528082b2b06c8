package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Callback visits (回访): when a resident rates a result 1–2, says 没解决, or
// leaves a resolved case unrated until it closes, the village is given a
// task to call or visit them. Staff record whether they reached the
// resident and whether the resident is satisfied; a resident reached and
// not satisfied puts a settled case back to work. The figures count the
// callbacks done by their date.

// StepCallback is recording a callback visit (回访).
const StepCallback Step = "callback"

// Events of callbacks.
const (
	EventCallbackDue EventKind = "callback_due" // a callback task was made (DataReason, DataDue)
	EventCalledBack  EventKind = "called_back"  // staff recorded it (DataReached, DataSatisfied, DataDue, DataOnTime)
)

// Keys of those events' Data.
const (
	DataDue       = "due"       // RFC 3339: when the callback is due
	DataReached   = "reached"   // "true" or "false"
	DataSatisfied = "satisfied" // "true" or "false"; only when reached
	DataOnTime    = "on_time"   // "true" when recorded by its due time
)

// ReasonCallback reopens a case on a callback's word (DataReason), and
// ReasonUnrated makes a callback for a case closed without a rating.
const (
	ReasonCallback = "callback"
	ReasonUnrated  = "unrated"
)

// CallbackWorkdays is how many working days the village has for a
// callback.
const CallbackWorkdays = 3

// Callback is a callback visit waiting to be made.
type Callback struct {
	Reason string    `json:"reason"` // ReasonRating, ReasonNotDone or ReasonUnrated
	Due    time.Time `json:"due"`
	At     time.Time `json:"at"`
}

// CallbackLabel says why a callback is due, for people.
func CallbackLabel(reason string) string {
	switch reason {
	case ReasonRating:
		return "居民评价不满意"
	case ReasonNotDone:
		return "居民反映没解决"
	case ReasonUnrated:
		return "居民未评价即结案"
	}
	return "回访"
}

// dueCallback gives c a callback task for reason at now, unless one waits
// already, and returns the event that records it.
func (l *Ledger) dueCallback(c *Case, reason string, now time.Time) []Event {
	if c.Callback != nil || c.Resident == "" {
		return nil
	}
	town := l.Town.Town()
	c.Callback = &Callback{Reason: reason, Due: town.Calendar.AddWorkdays(now, CallbackWorkdays), At: now}
	return []Event{{Kind: EventCallbackDue, Actor: ActorSystem, At: now,
		Data: map[string]string{DataReason: reason, DataDue: c.Callback.Due.Format(time.RFC3339)}}}
}

// permitCallback is who may record a callback, and when: the village of the
// case and the town, while one is due.
func permitCallback(s *Staff, c *Case) error {
	if s.Role != RoleTown && s.Role != RoleVillage {
		return refuse(StepCallback, ErrForbidden, "回访由村（社区）或镇里负责。")
	}
	if c.Callback == nil {
		return refuse(StepCallback, ErrWrongState, "这件事项没有待回访的任务。")
	}
	return nil
}

// CallbackAnswer is what a callback found.
type CallbackAnswer struct {
	Reached   bool   // the resident was reached
	Satisfied bool   // and is satisfied (only when reached)
	Note      string // what they said, or why they were not reached
}

// RecordCallback records the case's callback visit (StepCallback). A
// resident reached and not satisfied puts a resolved or closed case back
// to work (重办). ErrInvalid: a note too long, or none when the resident was
// not reached.
func (l *Ledger) RecordCallback(ctx context.Context, number, staff string, a CallbackAnswer) (Case, []Event, error) {
	a.Note = strings.TrimSpace(a.Note)
	if len([]rune(a.Note)) > MaxTextLen || (!a.Reached && a.Note == "") {
		return Case{}, nil, fmt.Errorf("callback %s: note: %w", number, ErrInvalid)
	}
	if !a.Reached {
		a.Satisfied = false
	}
	away, err := l.gridLeave(ctx, number)
	if err != nil {
		return Case{}, nil, err
	}
	return l.staffStep(ctx, number, staff, StepCallback, func(c *Case, _ *Staff) ([]Event, error) {
		now := l.now()
		due := c.Callback.Due
		c.Callback = nil
		data := map[string]string{DataReached: strconv.FormatBool(a.Reached), DataDue: due.Format(time.RFC3339),
			DataOnTime: strconv.FormatBool(!now.After(due))}
		if a.Reached {
			data[DataSatisfied] = strconv.FormatBool(a.Satisfied)
		}
		ev := Event{Kind: EventCalledBack, Actor: staff, Text: a.Note, At: now, Data: data}
		if a.Reached && !a.Satisfied && !c.State.Open() {
			return l.reopen(c, away, staff, ReasonCallback, ev)
		}
		return []Event{ev}, nil
	})
}
