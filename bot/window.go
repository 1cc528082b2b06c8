package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"gridbot/core"
)

// WeChat's customer-service quota since June 2023: a message from the user
// allows 5 sends within 48 hours; a menu tap, a follow or a QR scan opens no
// 48-hour window, only 3 sends within 1 minute.
const (
	windowSpan  = 48 * time.Hour
	windowQuota = 5
	tapSpan     = time.Minute
	tapQuota    = 3
)

// Window tracks, per openid in a core.Ephemeral, the user's two allowances
// for customer-service messages — the 48-hour one a message opens and the
// 1-minute one a tap opens — and the 订阅通知 grants the user gave: the
// callback tells it of every message, the Sender asks before sending and
// counts after. A nil *Window tracks nothing and reports every window
// open.
type Window struct {
	Store core.Ephemeral
	Now   func() time.Time // nil means time.Now
}

// windowState is one allowance: when it opened and how many sends it paid.
type windowState struct {
	Last time.Time `json:"last"`
	Sent int       `json:"sent"`
}

// Allowances a user's action opens.
const (
	allowMessage = "wxwindow:" // a message: 5 within 48 hours
	allowTap     = "wxtap:"    // a tap, follow or scan: 3 within a minute
)

func (w *Window) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// allowance says which allowance m opens; "" for none (an unfollow, a
// location report, a delivery receipt, a subscribe pop-up).
func allowance(m core.Message) string {
	if m.Kind != core.MessageEvent {
		return allowMessage
	}
	switch m.Event {
	case core.EventNameSubscribe, core.EventNameClick, "VIEW", "SCAN":
		return allowTap
	}
	return ""
}

func spanOf(kind string) (time.Duration, int) {
	if kind == allowTap {
		return tapSpan, tapQuota
	}
	return windowSpan, windowQuota
}

// Inbound records that m's sender talked to the account: a fresh
// allowance of the kind m opens.
func (w *Window) Inbound(ctx context.Context, m core.Message) error {
	op, ok := w.inbound(m)
	if !ok {
		return nil
	}
	if err := w.Store.Set(ctx, op.Key, op.Value, op.TTL); err != nil {
		return fmt.Errorf("wechat window: %w", err)
	}
	return nil
}

// inbound is Inbound as an operation, for a caller that batches it with
// others on the same store; false when m opens nothing.
func (w *Window) inbound(m core.Message) (core.KeyOp, bool) {
	if w == nil {
		return core.KeyOp{}, false
	}
	kind := allowance(m)
	if kind == "" {
		return core.KeyOp{}, false
	}
	return w.setOp(kind, m.From, windowState{Last: w.now()})
}

// setOp is the write that stores st; false when st has lapsed and there
// is nothing to keep.
func (w *Window) setOp(kind, openid string, st windowState) (core.KeyOp, bool) {
	span, _ := spanOf(kind)
	ttl := span - w.now().Sub(st.Last)
	if ttl <= 0 {
		return core.KeyOp{}, false
	}
	return core.KeyOp{Kind: core.KeySet, Key: kind + openid, Value: st.encode(), TTL: ttl}, true
}

// encode is json.Marshal(st), written out: it runs on every message, where
// reflection was 4% of an idle one.
func (st windowState) encode() []byte {
	b := make([]byte, 0, 64)
	b = append(b, `{"last":"`...)
	b = st.Last.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","sent":`...)
	b = strconv.AppendInt(b, int64(st.Sent), 10)
	return append(b, '}')
}

func (w *Window) get(ctx context.Context, kind, openid string) (windowState, bool, error) {
	var st windowState
	b, ok, err := w.Store.Get(ctx, kind+openid)
	if err != nil || !ok {
		return st, false, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, nil
	}
	span, quota := spanOf(kind)
	return st, w.now().Sub(st.Last) < span && st.Sent < quota, nil
}

// usable returns the allowance a customer-service message to openid would
// spend now: the tap's first, as it lapses within the minute; "" when
// none is left.
func (w *Window) usable(ctx context.Context, openid string) (string, error) {
	for _, kind := range []string{allowTap, allowMessage} {
		_, ok, err := w.get(ctx, kind, openid)
		if err != nil {
			return "", fmt.Errorf("wechat window: %w", err)
		}
		if ok {
			return kind, nil
		}
	}
	return "", nil
}

// open reports whether a customer-service message to openid is within an
// allowance.
func (w *Window) open(ctx context.Context, openid string) (bool, error) {
	if w == nil {
		return true, nil
	}
	kind, err := w.usable(ctx, openid)
	return kind != "", err
}

// spend counts one customer-service message to openid against the
// allowance WeChat charges. Two instances counting at once may count one
// send too few; WeChat's 45047 is still answered with a template message.
func (w *Window) spend(ctx context.Context, openid string) error {
	if w == nil {
		return nil
	}
	kind, err := w.usable(ctx, openid)
	if err != nil || kind == "" {
		return err
	}
	st, _, err := w.get(ctx, kind, openid)
	if err != nil {
		return err
	}
	st.Sent++
	op, ok := w.setOp(kind, openid, st)
	if !ok {
		return nil
	}
	return w.Store.Set(ctx, op.Key, op.Value, op.TTL)
}

// grantLife bounds how long an unspent one-time grant is kept.
const grantLife = 365 * 24 * time.Hour

func grantKey(openid, templateID string) string { return "wxsub:" + openid + ":" + templateID }

// Grant records the 订阅通知 choices of a subscribe pop-up: each accepted
// template allows one more notice to m's sender.
func (w *Window) Grant(ctx context.Context, m core.Message) error {
	if w == nil {
		return nil
	}
	for _, g := range m.Grants {
		if !g.Accept || g.TemplateID == "" {
			continue
		}
		n, err := w.grants(ctx, m.From, g.TemplateID)
		if err != nil {
			return err
		}
		if err := w.Store.Set(ctx, grantKey(m.From, g.TemplateID), strconv.AppendInt(nil, int64(n+1), 10), grantLife); err != nil {
			return fmt.Errorf("wechat grant: %w", err)
		}
	}
	return nil
}

// grants is how many one-time grants openid has left for templateID.
func (w *Window) grants(ctx context.Context, openid, templateID string) (int, error) {
	b, ok, err := w.Store.Get(ctx, grantKey(openid, templateID))
	if err != nil {
		return 0, fmt.Errorf("wechat grant: %w", err)
	}
	if !ok {
		return 0, nil
	}
	n, _ := strconv.Atoi(string(b))
	return max(n, 0), nil
}

// takeGrant spends one of openid's grants for templateID; false when none
// is left. Two instances taking the last grant at once both think they
// have it; WeChat's 43101 then sends the notice by template instead.
func (w *Window) takeGrant(ctx context.Context, openid, templateID string) (bool, error) {
	if w == nil {
		return false, nil
	}
	n, err := w.grants(ctx, openid, templateID)
	if err != nil || n == 0 {
		return false, err
	}
	if n == 1 {
		return true, w.Store.Delete(ctx, grantKey(openid, templateID))
	}
	return true, w.Store.Set(ctx, grantKey(openid, templateID), strconv.AppendInt(nil, int64(n-1), 10), grantLife)
}
