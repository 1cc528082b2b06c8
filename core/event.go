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
	EventTransferred   EventKind = "transferred"   // handed to post B (by A, or A did not accept in time)
	EventWhistled      EventKind = "whistled"      // a department was called (网格吹哨)
	EventSigned        EventKind = "signed"        // the department took charge (部门领办)
	EventReturned      EventKind = "returned"      // the department gave it back, with a reason
	EventWarned        EventKind = "warned"        // the deadline is near (yellow)
	EventEscalated     EventKind = "escalated"     // overdue, reported one level up (DataLevel)
)

// Label names an event kind in the words staff read.
func (k EventKind) Label() string {
	switch k {
	case EventSubmitted:
		return "居民提交"
	case EventAssigned:
		return "已派单"
	case EventAccepted:
		return "已受理"
	case EventReplied:
		return "回复居民"
	case EventResolved:
		return "已办结"
	case EventRated:
		return "居民评价"
	case EventClosed:
		return "已结案"
	case EventReopened:
		return "重新办理"
	case EventDelivered:
		return "消息已送达"
	case EventUndeliverable:
		return "消息未能送达"
	case EventTransferred:
		return "转B岗"
	case EventWhistled:
		return "吹哨部门"
	case EventSigned:
		return "部门领办"
	case EventReturned:
		return "部门退回"
	case EventWarned:
		return "临期预警"
	case EventEscalated:
		return "超期督办"
	case EventReclassified:
		return "更正类别/网格"
	case EventChangeAsked:
		return "申请延期/挂起"
	case EventChangeRefused:
		return "不同意延期/挂起"
	case EventExtended:
		return "同意延期"
	case EventPaused:
		return "同意挂起"
	case EventResumed:
		return "恢复计时"
	case EventPublished:
		return "公开"
	}
	if label, ok := deskEventLabel(k); ok {
		return label
	}
	return residentEventLabel(k)
}

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
	DataDept     = "department" // a department ID
	DataLead     = "lead"       // "true" when the whistled department leads
	DataReason   = "reason"     // why: a return's reason, a transfer's cause
	DataLevel    = "level"      // a warning or escalation level
	DataMedia    = "media_id"   // a photo relayed with a reply
	DataPicURL   = "pic_url"
	DataLat      = "lat" // a location relayed with a reply
	DataLng      = "lng"
	DataLabel    = "label"
	DataUnrated  = "unrated" // "true" on a close without a rating
)

// Reasons of a transfer to post B (DataReason).
const (
	ReasonByHand  = "by_hand"  // A sent it with 转B
	ReasonSilent  = "silent"   // A did not accept in time
	ReasonNotDone = "not_done" // the resident said it is not fixed
	ReasonRating  = "rating"   // the resident rated 1–2
	ReasonTown    = "town"     // the town reopened it
)
