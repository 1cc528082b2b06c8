package core

import (
	"context"
	"fmt"
)

// Notice is a message pushed to someone's WeChat outside a passive reply: a
// new case for a grid leader, a staff reply or a result for a resident.
type Notice struct {
	To    string // openid
	Title string // the first line, also the template's heading
	Text  string // the body
	Case  string // case number, shown as 编号：… in a template
	// Image is the media ID of a photo to send instead of text; Text then
	// stands in for it where only text can go (a template message).
	Image string
	// Key makes a retried push idempotent at WeChat (template client_msg_id).
	Key string
}

// Notifier pushes notices. It returns the channel that carried the notice
// ("custom" or "template"). A failure from WeChat is a *PushError.
type Notifier interface {
	Notify(ctx context.Context, n Notice) (channel string, err error)
}

// PushError is WeChat's answer to a failed push, with its error code, so the
// caller can tell a closed window (45015) from a busy server (-1).
type PushError struct {
	Code int
	Msg  string
}

func (e *PushError) Error() string { return fmt.Sprintf("wechat push: errcode %d: %s", e.Code, e.Msg) }

// Permanent reports whether retrying cannot help.
func (e *PushError) Permanent() bool {
	switch e.Code {
	case -1, 40001, 42001, 40014, 45009, 45011:
		return false
	}
	return true
}
