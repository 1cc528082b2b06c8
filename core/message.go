package core

import (
	"context"
	"strings"
)

// MessageKind is the kind of thing a person sent the official account.
type MessageKind string

// The inbound kinds gridbot acts on. Anything else arrives as MessageOther.
const (
	MessageText     MessageKind = "text"
	MessageImage    MessageKind = "image"
	MessageVoice    MessageKind = "voice"
	MessageLocation MessageKind = "location"
	MessageEvent    MessageKind = "event"
	MessageOther    MessageKind = "other"
)

// Event names of MessageEvent, as WeChat spells them.
const (
	EventNameSubscribe   = "subscribe"
	EventNameUnsubscribe = "unsubscribe"
	EventNameClick       = "CLICK"
	// EventNameSubscribePopup carries 订阅通知 grants and refusals.
	EventNameSubscribePopup = "subscribe_msg_popup_event"
)

// Message is one inbound WeChat message or event, stripped of the wire
// format: what the dialogs see.
type Message struct {
	From     string      // the sender's openid
	Kind     MessageKind //
	Text     string      // text content, or voice Recognition
	MediaID  string      // image or voice
	PicURL   string      // image
	Location *Location   // location messages
	Event    string      // MessageEvent: subscribe, CLICK, …
	EventKey string      // CLICK key (e.g. REPORT), qrscene_ value
	// Grants are a subscribe_msg_popup_event's choices: which 订阅通知
	// templates the user allowed (or refused) on a page of the account.
	Grants []SubscribeChoice
}

// SubscribeChoice is one template in a subscribe pop-up and the user's
// answer to it.
type SubscribeChoice struct {
	TemplateID string
	Accept     bool
}

// FromWeChat reports whether a resident ID is a WeChat openid. Cases filed
// through other channels (Open311: a hotline, the city platform) carry
// "channel:name" IDs, and an openid never contains a colon; nothing can be
// pushed to those.
func FromWeChat(resident string) bool {
	return resident != "" && !strings.Contains(resident, ":")
}

// requestIDKey keys the request ID in a context.
type requestIDKey struct{}

// WithRequestID returns ctx carrying id, the correlation ID of one inbound
// request (a WeChat callback): the log lines it causes share it, and the
// line that files a case names both it and the case number, which the
// router's lines carry from there.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Hearer turns a resident's voice note (by its WeChat media ID) into words:
// WeChat no longer recognises voice, so gridbot has it transcribed. "" means
// nothing could be made out.
type Hearer interface {
	Hear(ctx context.Context, mediaID string) (string, error)
}
