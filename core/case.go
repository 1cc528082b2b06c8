package core

import (
	"fmt"
	"strings"
	"time"
)

// State is where a case stands in its life.
type State string

// A case moves submitted → assigned → in progress → resolved → closed; a
// resolved or closed case can be reopened, which puts it back to work.
const (
	StateSubmitted  State = "submitted"
	StateAssigned   State = "assigned"
	StateInProgress State = "in_progress"
	StateResolved   State = "resolved"
	StateClosed     State = "closed"
	StateReopened   State = "reopened"
)

// Open reports whether the case is still on the ledger waiting for work.
func (s State) Open() bool {
	return s != StateClosed && s != StateResolved
}

// Label is the state in the words residents and staff read.
func (s State) Label() string {
	switch s {
	case StateSubmitted:
		return "已提交"
	case StateAssigned:
		return "已派单"
	case StateInProgress:
		return "办理中"
	case StateResolved:
		return "已办结，待评价"
	case StateClosed:
		return "已结案"
	case StateReopened:
		return "已重新办理"
	}
	return string(s)
}

// Media is a photo or a voice note a resident attached. Its bytes, once
// fetched from WeChat, are kept in a MediaStore under MediaID.
type Media struct {
	MediaID string `json:"media_id"`
	URL     string `json:"url,omitempty"`
}

// Location is where the matter is: a WeChat location, or the grid's place
// when the resident picked village and grid from the lists.
type Location struct {
	Point
	Label string `json:"label,omitempty"`
}

// Case is one need on the ledger. Number is its human-readable identity,
// unique per town, and the key everything else uses.
type Case struct {
	Number   string    `json:"number"`
	State    State     `json:"state"`
	Category string    `json:"category"`
	Text     string    `json:"text"`
	Photos   []Media   `json:"photos,omitempty"`
	Voices   []Media   `json:"voices,omitempty"`
	Location *Location `json:"location,omitempty"`
	Village  string    `json:"village"`
	Grid     string    `json:"grid"`
	// Address is the resident's own address (their household file's),
	// when the case was filed from it.
	Address  string `json:"address,omitempty"`
	Resident string `json:"resident"`
	Phone    string `json:"phone,omitempty"`
	// SubmitKey is the Draft.Key the case was filed with; a store files one
	// case per key.
	SubmitKey string `json:"submit_key,omitempty"`
	// Joined are the openids of residents who joined the case (附议):
	// they hear its progress and rate it like the resident who filed it.
	Joined   []string  `json:"joined,omitempty"`
	Assignee string    `json:"assignee,omitempty"`
	Post     Post      `json:"post,omitempty"`
	Deadline time.Time `json:"deadline"`
	Result   string    `json:"result,omitempty"`
	// Published is what the public may read of the case, as staff wrote
	// it for them (公开, publish.go); "" publishes no description.
	Published string    `json:"published,omitempty"`
	Rating    int       `json:"rating,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// TermStart is when the current deadline started running: the
	// submission, or the last reopening. Warnings are shares of
	// TermStart → Deadline.
	TermStart time.Time `json:"term_start,omitzero"`
	// AssignedAt is when the current assignee got the case; post A has a
	// category's accept time from then before the case goes to post B.
	AssignedAt time.Time `json:"assigned_at,omitzero"`
	// ResolvedAt is when the case was resolved; the resident has the
	// rating wait from then before it closes unrated.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// Departments are the departments whistled up (网格吹哨), in the order
	// they were called; at most one leads.
	Departments []Assist `json:"departments,omitempty"`
	// Warning is the deadline warning recorded so far; Escalation how far
	// up the chain the overdue case has been reported. The sweepers compare
	// against them, which makes each warning fire once.
	Warning    Warning    `json:"warning,omitempty"`
	Escalation Escalation `json:"escalation,omitempty"`
	// Pending is a request for an extension or a pause waiting for the
	// village's or the town's decision (extension.go).
	Pending *TermChange `json:"pending,omitempty"`
	// Paused is set while the case's clock is stopped (挂起), since
	// PausedAt, until ResumeAt when that is set; a paused case is not
	// overdue and is not warned.
	Paused   bool      `json:"paused,omitempty"`
	PausedAt time.Time `json:"paused_at,omitzero"`
	ResumeAt time.Time `json:"resume_at,omitzero"`
	// Extensions counts the extensions granted (延期).
	Extensions int `json:"extensions,omitempty"`
	// Channel is how the case came to the ledger: "" through WeChat, or
	// filed by staff for a resident who phoned or walked in (代录,
	// proxyfiling.go); Contact is the name that resident gave.
	Channel Intake `json:"channel,omitempty"`
	Contact string `json:"contact,omitempty"`
	// Urgent is set on a case flagged 加急, whose deadline the category's
	// rule shortened; Urges counts the 催办, the last at UrgedAt (urge.go).
	Urgent  bool      `json:"urgent,omitempty"`
	Urges   int       `json:"urges,omitempty"`
	UrgedAt time.Time `json:"urged_at,omitzero"`
	// MergedInto is the case this one was merged into as the same
	// problem; it is closed, and its residents follow that one (merge.go).
	MergedInto string `json:"merged_into,omitempty"`
	// Origin is where the case came from: "" a resident (群众点单),
	// OriginPatrol found by the grid itself (主动发现, patrol.go), with
	// Finder the staff ID who filed it.
	Origin string `json:"origin,omitempty"`
	Finder string `json:"finder,omitempty"`
	// Callback is a callback visit (回访) waiting to be made (callback.go).
	Callback *Callback `json:"callback,omitempty"`
	// Instructions are the town leaders' instructions on the case (督办/
	// 批示, instruction.go), in order.
	Instructions []Instruction `json:"instructions,omitempty"`
	// Meeting is the case's place on the coordination meeting's list and
	// the meeting's decision (工作会商, meeting.go).
	Meeting *Meeting `json:"meeting,omitempty"`
	// Mediation is a dispute's mediation (矛盾纠纷调解, mediation.go).
	Mediation *Mediation `json:"mediation,omitempty"`
	// Household is the linked household (二十户包联, linked.go) the case
	// is from, when one matched or a visit found it.
	Household string `json:"household,omitempty"`
	// Version counts the writes to the case; stores use it to refuse a
	// write based on a stale read.
	Version int `json:"version"`
}

// Draft is what a resident has told the intake dialog so far.
type Draft struct {
	Category string    `json:"category,omitempty"`
	Text     string    `json:"text,omitempty"`
	Photos   []Media   `json:"photos,omitempty"`
	Voices   []Media   `json:"voices,omitempty"`
	Location *Location `json:"location,omitempty"`
	Village  string    `json:"village,omitempty"`
	Grid     string    `json:"grid,omitempty"`
	Address  string    `json:"address,omitempty"`
	Phone    string    `json:"phone,omitempty"`
	// Key names this one filing, so that submitting it again (a retry
	// after a failure whose outcome was unclear) returns the case already
	// filed instead of filing a second; empty means no such guard.
	Key string `json:"key,omitempty"`
}

// FormatCaseNumber builds the number people read and type: the town's prefix,
// the day, and the day's running count, e.g. ST202611250007.
func FormatCaseNumber(prefix string, day time.Time, n int) string {
	return fmt.Sprintf("%s%s%04d", prefix, day.Format("20060102"), n)
}

// MaskPhone keeps the first three and last four digits: 138****5678.
func MaskPhone(p string) string {
	if len(p) < 7 {
		return p
	}
	return p[:3] + "****" + p[len(p)-4:]
}

// AssistState is where a whistled department stands on a case.
type AssistState string

// A called department signs for the case (领办) or returns it with a reason.
const (
	AssistCalled   AssistState = "called"
	AssistSigned   AssistState = "signed"
	AssistReturned AssistState = "returned"
)

// Assist is one department called to a case.
type Assist struct {
	Department string      `json:"department"`
	State      AssistState `json:"state"`
	Lead       bool        `json:"lead,omitempty"`
	Reason     string      `json:"reason,omitempty"`
}

// Assist returns the case's entry for department, or nil.
func (c *Case) Assist(department string) *Assist {
	for i := range c.Departments {
		if c.Departments[i].Department == department {
			return &c.Departments[i]
		}
	}
	return nil
}

// Warning is a deadline warning level.
type Warning string

// Yellow: most of the time is gone; red: the deadline has passed.
const (
	WarningYellow Warning = "yellow"
	WarningRed    Warning = "red"
)

// Escalation is how far up the chain an overdue case has been reported
// (grid leader → village → town).
type Escalation int

// The levels of escalation, in order.
const (
	EscalationNone Escalation = iota
	EscalationGrid
	EscalationVillage
	EscalationTown
)

// String names the level for event data.
func (e Escalation) String() string {
	switch e {
	case EscalationGrid:
		return "grid"
	case EscalationVillage:
		return "village"
	case EscalationTown:
		return "town"
	}
	return "none"
}

// ParseEscalation reads a level written by String.
func ParseEscalation(s string) Escalation {
	for e := EscalationGrid; e <= EscalationTown; e++ {
		if e.String() == s {
			return e
		}
	}
	return EscalationNone
}

// CaseNumberLike reports whether s has the shape of a case number of a town
// with prefix (FormatCaseNumber): the prefix, then eight digits of date and
// at least four of count (a day past 9,999 cases has more). The prefix is
// matched without regard to case, as people type it.
func CaseNumberLike(prefix, s string) (string, bool) {
	if len(s) < len(prefix)+12 || len(s) > len(prefix)+16 || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	for _, r := range s[len(prefix):] {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return prefix + s[len(prefix):], true
}
