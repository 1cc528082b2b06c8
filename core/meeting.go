package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The coordination meeting (工作会商): staff put a hard case on the town's
// meeting list with a reason, and the list is the meeting's agenda. The
// meeting's decision names the linked leader (挂钩领导), the help agreed
// (帮办措施) and milestones with dates (时间节点). Each milestone is
// supervised like a deadline — a warning before its date, escalation once
// past it — and the linked leader sees the case wherever it lies.

// Steps of the meeting.
const (
	StepTable     Step = "table"     // 提请会商
	StepConvene   Step = "convene"   // 会商决定
	StepMilestone Step = "milestone" // 时间节点完成
)

// Events of the meeting.
const (
	EventTabled           EventKind = "tabled"            // put on the meeting list (Text: the reason)
	EventConvened         EventKind = "convened"          // the meeting decided (DataLeader; Text: the help)
	EventMilestoneDone    EventKind = "milestone_done"    // a milestone reached (DataMilestone)
	EventMilestoneWarned  EventKind = "milestone_warned"  // a milestone's date is near (DataMilestone, DataDue)
	EventMilestoneOverdue EventKind = "milestone_overdue" // a milestone's date passed (DataMilestone, DataDue)
)

// Keys of the meeting's events' Data.
const (
	DataLeader    = "leader"    // the linked leader's staff ID
	DataMilestone = "milestone" // the milestone's index, from 0
)

// Bounds of a meeting's decision.
const (
	MaxMilestones = 10
	// MilestoneWarnBefore is how long before a milestone's date the
	// handlers are warned.
	MilestoneWarnBefore = 24 * time.Hour
)

// Meeting is a case's place on the meeting list and what was decided.
type Meeting struct {
	Reason    string    `json:"reason"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	Decided   bool      `json:"decided,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
	// Leader is the linked leader (挂钩领导), a staff ID; Help the help
	// agreed (帮办措施).
	Leader     string      `json:"leader,omitempty"`
	Help       string      `json:"help,omitempty"`
	Milestones []Milestone `json:"milestones,omitempty"`
}

// Milestone is a dated step the meeting set (时间节点).
type Milestone struct {
	Text    string    `json:"text"`
	Due     time.Time `json:"due"`
	DoneAt  time.Time `json:"done_at,omitzero"`
	DoneBy  string    `json:"done_by,omitempty"`
	Warned  bool      `json:"warned,omitempty"`
	Overdue bool      `json:"overdue,omitempty"`
}

// Done reports whether the milestone was reached.
func (m Milestone) Done() bool { return !m.DoneAt.IsZero() }

// OnAgenda reports whether c waits on the meeting list for a decision.
func (c *Case) OnAgenda() bool { return c.Meeting != nil && !c.Meeting.Decided }

// linkedLeader reports whether s is the linked leader the meeting named
// for c: they see the case wherever it lies.
func linkedLeader(s *Staff, c *Case) bool {
	return c.Meeting != nil && c.Meeting.Decided && c.Meeting.Leader != "" && c.Meeting.Leader == s.ID
}

// permitMeeting decides the meeting's steps for staff s, who may see c.
func (t *Town) permitMeeting(s *Staff, step Step, c *Case) error {
	switch step {
	case StepTable:
		if s.Role == RoleDepartment {
			return refuse(step, ErrForbidden, "提请会商由网格和村（社区）、镇里办理；部门请向网格或镇里反映。")
		}
		if !c.State.Open() {
			return refuse(step, ErrWrongState, reasonSettled)
		}
		if c.Meeting != nil {
			return refuse(step, ErrNoChange, "这件事项已提请过会商。")
		}
	case StepConvene:
		if s.Role != RoleTown {
			return refuse(step, ErrForbidden, "会商决定由镇里作出。")
		}
		if !c.OnAgenda() {
			return refuse(step, ErrWrongState, "这件事项不在会商议程上。")
		}
	case StepMilestone:
		if !t.MayWork(s, c) && !linkedLeader(s, c) {
			return refuse(step, ErrForbidden, reasonReturned)
		}
		if c.Meeting == nil || !c.Meeting.Decided || c.Meeting.nextOpen() < 0 {
			return refuse(step, ErrWrongState, "这件事项没有待完成的时间节点。")
		}
	}
	return nil
}

// nextOpen is the index of the first milestone not reached, or -1.
func (m *Meeting) nextOpen() int {
	for i, ms := range m.Milestones {
		if !ms.Done() {
			return i
		}
	}
	return -1
}

// Table puts case number on the town's meeting list (StepTable) with a
// reason. ErrInvalid: no reason, or too long.
func (l *Ledger) Table(ctx context.Context, number, staff, reason string) (Case, []Event, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("table %s: reason: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepTable, func(c *Case, _ *Staff) ([]Event, error) {
		now := l.now()
		c.Meeting = &Meeting{Reason: reason, By: staff, At: now}
		return []Event{{Kind: EventTabled, Actor: staff, Text: reason, At: now}}, nil
	})
}

// Decision is what the meeting decided on a case.
type Decision struct {
	Leader     string // a staff ID: the linked leader
	Help       string // the help agreed
	Milestones []Milestone
}

// Convene records the meeting's decision on a case on its agenda
// (StepConvene). ErrInvalid: no such leader (or one disabled), no help,
// no milestone or more than MaxMilestones, a milestone without words or
// dated in the past.
func (l *Ledger) Convene(ctx context.Context, number, staff string, d Decision) (Case, []Event, error) {
	town := l.Town.Town()
	now := l.now()
	d.Help = strings.TrimSpace(d.Help)
	leader := town.StaffMember(d.Leader)
	switch {
	case leader == nil || leader.Disabled:
		return Case{}, nil, fmt.Errorf("convene %s: leader %q: %w", number, d.Leader, ErrInvalid)
	case d.Help == "" || len([]rune(d.Help)) > MaxTextLen:
		return Case{}, nil, fmt.Errorf("convene %s: help: %w", number, ErrInvalid)
	case len(d.Milestones) == 0 || len(d.Milestones) > MaxMilestones:
		return Case{}, nil, fmt.Errorf("convene %s: %d milestones: %w", number, len(d.Milestones), ErrInvalid)
	}
	milestones := make([]Milestone, len(d.Milestones))
	for i, m := range d.Milestones {
		text := strings.TrimSpace(m.Text)
		if text == "" || len([]rune(text)) > 200 || !m.Due.After(now) || m.Due.Sub(now) > 366*24*time.Hour {
			return Case{}, nil, fmt.Errorf("convene %s: milestone %d: %w", number, i, ErrInvalid)
		}
		milestones[i] = Milestone{Text: text, Due: m.Due}
	}
	return l.staffStep(ctx, number, staff, StepConvene, func(c *Case, _ *Staff) ([]Event, error) {
		c.Meeting.Decided, c.Meeting.DecidedAt = true, now
		c.Meeting.Leader, c.Meeting.Help, c.Meeting.Milestones = leader.ID, d.Help, milestones
		return []Event{{Kind: EventConvened, Actor: staff, Text: d.Help, At: now,
			Data: map[string]string{DataLeader: leader.ID, "milestones": strconv.Itoa(len(milestones))}}}, nil
	})
}

// ReachMilestone marks the case's next milestone reached (StepMilestone),
// with a note of what was done.
func (l *Ledger) ReachMilestone(ctx context.Context, number, staff, note string) (Case, []Event, error) {
	note = strings.TrimSpace(note)
	if len([]rune(note)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("milestone %s: note: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepMilestone, func(c *Case, _ *Staff) ([]Event, error) {
		now := l.now()
		i := c.Meeting.nextOpen()
		ms := &c.Meeting.Milestones[i]
		ms.DoneAt, ms.DoneBy = now, staff
		return []Event{{Kind: EventMilestoneDone, Actor: staff, Text: note, At: now,
			Data: map[string]string{DataMilestone: strconv.Itoa(i), DataDue: ms.Due.Format(time.RFC3339),
				DataOnTime: strconv.FormatBool(!now.After(ms.Due))}}}, nil
	})
}

// superviseMilestones warns of each open milestone of c a day before its
// date and reports it once past it; flags on the milestone make each fire
// once, however many sweepers run.
func superviseMilestones(c *Case, now time.Time) []Event {
	if c.Meeting == nil || !c.Meeting.Decided || !c.State.Open() {
		return nil
	}
	var evs []Event
	for i := range c.Meeting.Milestones {
		ms := &c.Meeting.Milestones[i]
		if ms.Done() {
			continue
		}
		data := func() map[string]string {
			return map[string]string{DataMilestone: strconv.Itoa(i), DataDue: ms.Due.Format(time.RFC3339)}
		}
		switch {
		case !now.Before(ms.Due) && !ms.Overdue:
			ms.Overdue, ms.Warned = true, true
			evs = append(evs, Event{Kind: EventMilestoneOverdue, Actor: ActorSystem, Text: ms.Text, At: now, Data: data()})
		case !ms.Warned && ms.Due.Sub(now) <= MilestoneWarnBefore:
			ms.Warned = true
			evs = append(evs, Event{Kind: EventMilestoneWarned, Actor: ActorSystem, Text: ms.Text, At: now, Data: data()})
		}
	}
	return evs
}
