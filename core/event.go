package core

import (
	"strconv"
	"time"
)

// EventKind names what happened to a case.
type EventKind string

// The events of a case's log.
const (
	EventSubmitted     EventKind = "submitted"     // a resident confirmed the case
	EventAssigned      EventKind = "assigned"      // the case went to a grid leader's post
	EventAccepted      EventKind = "accepted"      // the assignee took it on
	EventReplied       EventKind = "replied"       // staff wrote to the resident
	EventResolved      EventKind = "resolved"      // staff marked it done, with a result
	EventRated         EventKind = "rated"         // the resident rated it 1–5
	EventClosed        EventKind = "closed"        // the ledger entry is settled (对账销号)
	EventReopened      EventKind = "reopened"      // taken up again
	EventDelivered     EventKind = "delivered"     // a push reached WeChat
	EventUndeliverable EventKind = "undeliverable" // a push failed for good
)

// Actor values that are not staff IDs.
const (
	ActorResident = "resident"
	ActorSystem   = "system"
)

// Event is one line of a case's log: the audit trail, the console timeline,
// and the message the router carries. Seq is assigned by the store, grows
// across the whole town, and identifies the event.
type Event struct {
	Seq   uint64            `json:"seq"`
	Case  string            `json:"case"`
	Kind  EventKind         `json:"kind"`
	Actor string            `json:"actor"`
	Text  string            `json:"text,omitempty"`
	Data  map[string]string `json:"data,omitempty"`
	At    time.Time         `json:"at"`
}

// ID is the event's identity as a string, for idempotency keys and message IDs.
func (e Event) ID() string { return strconv.FormatUint(e.Seq, 10) }

// Keys used in Event.Data.
const (
	DataAssignee = "assignee" // staff ID
	DataPost     = "post"     // A or B
	DataGrid     = "grid"
	DataTo       = "to"      // who a delivery was for: resident or a staff ID
	DataChannel  = "channel" // custom or template
	DataErrCode  = "errcode"
	DataAbout    = "about" // the Seq of the event a delivery belongs to
	DataRating   = "rating"
)
