package core

import (
	"fmt"
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

// Media is a photo (or later, a voice note) a resident attached.
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
	Number    string    `json:"number"`
	State     State     `json:"state"`
	Category  string    `json:"category"`
	Text      string    `json:"text"`
	Photos    []Media   `json:"photos,omitempty"`
	Location  *Location `json:"location,omitempty"`
	Village   string    `json:"village"`
	Grid      string    `json:"grid"`
	Resident  string    `json:"resident"`
	Phone     string    `json:"phone,omitempty"`
	Assignee  string    `json:"assignee,omitempty"`
	Post      Post      `json:"post,omitempty"`
	Deadline  time.Time `json:"deadline"`
	Result    string    `json:"result,omitempty"`
	Rating    int       `json:"rating,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version counts the writes to the case; stores use it to refuse a
	// write based on a stale read.
	Version int `json:"version"`
}

// Draft is what a resident has told the intake dialog so far.
type Draft struct {
	Category string    `json:"category,omitempty"`
	Text     string    `json:"text,omitempty"`
	Photos   []Media   `json:"photos,omitempty"`
	Location *Location `json:"location,omitempty"`
	Village  string    `json:"village,omitempty"`
	Grid     string    `json:"grid,omitempty"`
	Phone    string    `json:"phone,omitempty"`
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
