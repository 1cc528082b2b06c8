package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Notice is a message pushed to someone outside a passive reply: a new case
// for a grid leader, a staff reply or a result for a resident. The router
// addresses it to a person and hands it to the adapter of one of their
// channels, with To set to their address there.
type Notice struct {
	To    string // the recipient's ID on the channel that carries it (an openid, a userid)
	Title string // the first line, also the template's heading
	Text  string // the body
	Case  string // case number, shown as 编号：… in a template
	// Image is the media ID of a photo to send instead of text; Text then
	// stands in for it where only text can go (a template message).
	Image string
	// Key makes a retried push idempotent where the channel can (WeChat's
	// template client_msg_id).
	Key string
	// Kind says which template carries the notice when a customer-service
	// message cannot (the window is closed); "" has no template.
	Kind NoticeKind
	// Values are what a template's fields may show, by value name
	// (ValueNumber …); the whole Text lives on the case's page.
	Values map[string]string
}

// NoticeKind is a kind of notice, each sent with its own template.
type NoticeKind string

// The kinds of notice.
const (
	// NoticeStaffCase is a case for staff: new, handed over, reopened,
	// whistled, returned, supplemented or withdrawn.
	NoticeStaffCase NoticeKind = "staff_case"
	// NoticeResidentProgress is progress for a resident (or one who
	// joined the case).
	NoticeResidentProgress NoticeKind = "resident_progress"
	// NoticeRating is the result with the request to rate it.
	NoticeRating NoticeKind = "rating"
	// NoticeWarning is a deadline warning or an escalation for staff.
	NoticeWarning NoticeKind = "warning"
)

// NoticeKinds lists every kind of notice.
func NoticeKinds() []NoticeKind {
	return []NoticeKind{NoticeStaffCase, NoticeResidentProgress, NoticeRating, NoticeWarning}
}

// The values a notice offers a template's fields.
const (
	ValueNumber   = "number"   // the case number
	ValueCategory = "category" // the category's name
	ValuePlace    = "place"    // village · grid, and the resident's label
	ValueGrid     = "grid"     // the grid's name
	ValueState    = "state"    // what happened, in at most 5 Chinese characters
	ValueDeadline = "deadline" // the case's deadline, 2006-01-02 15:04
	ValueTime     = "time"     // when it happened, 2006-01-02 15:04
	ValueSummary  = "summary"  // the notice in one short line
	ValueHandler  = "handler"  // who handles the case now
	ValueResult   = "result"   // the result of a resolved case
)

// NoticeValues lists every value name, in the order the README gives them.
func NoticeValues() []string {
	return []string{ValueNumber, ValueCategory, ValuePlace, ValueGrid, ValueState, ValueDeadline, ValueTime,
		ValueSummary, ValueHandler, ValueResult}
}

// NoticeTimeLayout is how the deadline and time values are written: a form
// WeChat's time fields take.
const NoticeTimeLayout = "2006-01-02 15:04"

// CheckTemplateField says whether a template field with key (thing1,
// character_string2 …: the letters are WeChat's field type) can show the
// value named value, fitted to the type's length; nil when it can. A
// phrase holds 5 Chinese characters, so only the state fits; a time only a
// time; a character_string (no Chinese) only the case number.
func CheckTemplateField(key, value string) error {
	typ := strings.TrimRight(key, "0123456789")
	if !slices.Contains(NoticeValues(), value) {
		return fmt.Errorf("value %q: want one of %s", value, strings.Join(NoticeValues(), ", "))
	}
	var fits []string
	switch typ {
	case "thing", "const":
		return nil
	case "character_string":
		fits = []string{ValueNumber}
	case "phrase":
		fits = []string{ValueState}
	case "time", "date":
		fits = []string{ValueDeadline, ValueTime}
	case "number", "letter", "symbol", "amount", "phone_number", "car_number", "name":
		return fmt.Errorf("field %s: a %s field shows none of gridbot's values; pick a template without it", key, typ)
	default:
		return fmt.Errorf("field %s: unknown field type %q (want thing, character_string, phrase, time, …)", key, typ)
	}
	if !slices.Contains(fits, value) {
		return fmt.Errorf("field %s: a %s field cannot show %s (it takes %s)", key, typ, value, strings.Join(fits, " or "))
	}
	return nil
}

// Notifier is one channel's adapter: it pushes notices to addresses on its
// channel. It returns how the notice went (WeChat's "custom" or
// "template", "wecom" …). A refusal by the channel is a *PushError.
type Notifier interface {
	Notify(ctx context.Context, n Notice) (channel string, err error)
}

// PushError is a channel's answer to a failed push, with its error code.
// The adapter, which knows its channel's codes, says whether a retry can
// help: a busy server can come back, a closed window or an unknown user
// cannot.
type PushError struct {
	Channel Channel
	Code    int
	Msg     string
	// Temporary says a retry may succeed.
	Temporary bool
}

func (e *PushError) Error() string {
	return fmt.Sprintf("%s push: errcode %d: %s", e.Channel, e.Code, e.Msg)
}

// Permanent reports whether retrying cannot help.
func (e *PushError) Permanent() bool { return !e.Temporary }
