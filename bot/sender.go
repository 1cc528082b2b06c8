package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"gridbot/core"
)

// Tokens hands out access tokens and takes back the ones WeChat rejected.
// TokenSource implements it.
type Tokens interface {
	GetAccessTokenContext(ctx context.Context) (string, error)
	Invalidate(ctx context.Context, token string)
}

// Push channels, as Sender.Notify reports them.
const (
	ChannelCustom   = "custom"
	ChannelTemplate = "template"
)

// SenderConfig configures a Sender.
type SenderConfig struct {
	Tokens  Tokens
	APIBase string       // "" means DefaultAPIBase
	Client  *http.Client // nil means NewAPIClient(DefaultAPITimeout)
	// TemplateID is the notice template used when the customer-service
	// window is closed; empty disables the fallback. The template has the
	// fields first, keyword1 (case number), keyword2 (text) and remark.
	TemplateID string
	Remark     string // the template's remark line; may be empty
	// Window tracks each user's customer-service window and quota, so a
	// push that WeChat would refuse goes straight to the template; nil
	// means every push tries a customer-service message first.
	Window *Window
	Log    *slog.Logger
}

// NoticeTemplateLabels are the fixed words of the notice template the
// Sender fills, field by field: register the template in the WeChat admin
// console as "{{first.DATA}} 编号：{{keyword1.DATA}} 内容：{{keyword2.DATA}}
// {{remark.DATA}}". The simulator is given the same labels.
func NoticeTemplateLabels() map[string]string {
	return map[string]string{"keyword1": "编号：", "keyword2": "内容："}
}

// Sender pushes notices: a customer-service text message, or a template
// message when the user's window is closed (45015) or its quota is spent
// (45047). It implements core.Notifier.
type Sender struct {
	cfg SenderConfig
}

var _ core.Notifier = (*Sender)(nil)

// NewSender returns a sender.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("bot: sender has no token source")
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	if cfg.Client == nil {
		cfg.Client = NewAPIClient(DefaultAPITimeout)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Sender{cfg: cfg}, nil
}

// Notify pushes n and reports the channel that carried it. WeChat's refusals
// are *core.PushError (find them with errors.As); transport failures are
// plain errors.
func (s *Sender) Notify(ctx context.Context, n core.Notice) (string, error) {
	if n.To == "" {
		return "", fmt.Errorf("wechat push: no recipient: %w", core.ErrInvalid)
	}
	open, err := s.cfg.Window.open(ctx, n.To)
	if err != nil {
		s.cfg.Log.Warn("wechat window unknown; trying a customer-service message", "err", err)
		open = true
	}
	code := 45047 // what WeChat would answer; for the template's log line
	if open || s.cfg.TemplateID == "" {
		msg := message.NewCustomerTextMessage(n.To, customText(n))
		if n.Image != "" {
			msg = message.NewCustomerImgMessage(n.To, n.Image)
		}
		err := s.post(ctx, "/cgi-bin/message/custom/send", msg)
		if err == nil {
			if err := s.cfg.Window.spend(ctx, n.To); err != nil {
				s.cfg.Log.Warn("wechat quota not counted", "err", err)
			}
			return ChannelCustom, nil
		}
		pe, ok := errors.AsType[*core.PushError](err)
		if !ok || (pe.Code != 45015 && pe.Code != 45047) || s.cfg.TemplateID == "" {
			return "", fmt.Errorf("wechat custom message: %w", err)
		}
		code = pe.Code
		s.cfg.Log.Info("wechat custom message refused; sending a template message", "errcode", pe.Code)
	}
	tm := &message.TemplateMessage{
		ToUser:      n.To,
		TemplateID:  s.cfg.TemplateID,
		ClientMsgID: n.Key,
		Data: map[string]*message.TemplateDataItem{
			"first":    {Value: n.Title},
			"keyword1": {Value: n.Case},
			"keyword2": {Value: n.Text},
			"remark":   {Value: s.cfg.Remark},
		},
	}
	if err := s.post(ctx, "/cgi-bin/message/template/send", tm); err != nil {
		return "", fmt.Errorf("wechat template message (custom window: errcode %d): %w", code, err)
	}
	return ChannelTemplate, nil
}

// WeChat's rules for customer-service messages: within 48 hours of the
// user's last message, at most 5 per message.
const (
	windowSpan  = 48 * time.Hour
	windowQuota = 5
)

// Window tracks, per openid in a core.Ephemeral, when the user last wrote
// and how many customer-service messages were sent since: the callback
// calls Inbound, the Sender asks before sending and counts after. A nil
// *Window tracks nothing and reports every window open.
type Window struct {
	Store core.Ephemeral
	Now   func() time.Time // nil means time.Now
}

// windowState is what Window keeps per openid.
type windowState struct {
	Last time.Time `json:"last"`
	Sent int       `json:"sent"`
}

func windowKey(openid string) string { return "wxwindow:" + openid }

func (w *Window) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// Inbound records that openid wrote to the account: a new window with a
// fresh quota.
func (w *Window) Inbound(ctx context.Context, openid string) error {
	if w == nil {
		return nil
	}
	return w.put(ctx, openid, windowState{Last: w.now()})
}

// inbound is Inbound as an operation, for a caller that batches it with
// others on the same store.
func (w *Window) inbound(openid string) core.KeyOp {
	op, _ := w.setOp(openid, windowState{Last: w.now()})
	return op
}

// setOp is the write that stores st; false when st's window has closed
// and there is nothing to keep.
func (w *Window) setOp(openid string, st windowState) (core.KeyOp, bool) {
	ttl := windowSpan - w.now().Sub(st.Last)
	if ttl <= 0 {
		return core.KeyOp{}, false
	}
	return core.KeyOp{Kind: core.KeySet, Key: windowKey(openid), Value: st.encode(), TTL: ttl}, true
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

func (w *Window) put(ctx context.Context, openid string, st windowState) error {
	op, ok := w.setOp(openid, st)
	if !ok {
		return nil
	}
	if err := w.Store.Set(ctx, op.Key, op.Value, op.TTL); err != nil {
		return fmt.Errorf("wechat window: %w", err)
	}
	return nil
}

func (w *Window) get(ctx context.Context, openid string) (windowState, bool, error) {
	var st windowState
	b, ok, err := w.Store.Get(ctx, windowKey(openid))
	if err != nil || !ok {
		return st, false, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, nil
	}
	return st, true, nil
}

// open reports whether a customer-service message to openid is within the
// window and the quota.
func (w *Window) open(ctx context.Context, openid string) (bool, error) {
	if w == nil {
		return true, nil
	}
	st, ok, err := w.get(ctx, openid)
	if err != nil {
		return false, fmt.Errorf("wechat window: %w", err)
	}
	return ok && w.now().Sub(st.Last) < windowSpan && st.Sent < windowQuota, nil
}

// spend counts one customer-service message to openid. Two instances
// counting at once may count one send too few; WeChat's 45047 is still
// answered with a template message.
func (w *Window) spend(ctx context.Context, openid string) error {
	if w == nil {
		return nil
	}
	st, ok, err := w.get(ctx, openid)
	if err != nil || !ok {
		return err
	}
	st.Sent++
	return w.put(ctx, openid, st)
}

// customText is the customer-service message for n.
func customText(n core.Notice) string {
	var lines []string
	for _, l := range []string{n.Title, n.Text} {
		if l != "" {
			lines = append(lines, l)
		}
	}
	if n.Case != "" {
		lines = append(lines, "编号："+n.Case)
	}
	return strings.Join(lines, "\n")
}

// post sends payload to path with the access token, refreshing the token and
// retrying once when WeChat says it is stale.
func (s *Sender) post(ctx context.Context, path string, payload any) error {
	for attempt := 0; ; attempt++ {
		token, err := s.cfg.Tokens.GetAccessTokenContext(ctx)
		if err != nil {
			return err
		}
		call := apiCall{
			client:  s.cfg.Client,
			base:    s.cfg.APIBase,
			path:    path,
			query:   url.Values{"access_token": {token}},
			body:    payload,
			secrets: []string{token},
		}
		res, err := call.do(ctx)
		if err != nil {
			return err
		}
		if res.ErrCode == 0 {
			return nil
		}
		if isTokenError(res.ErrCode) && attempt == 0 {
			s.cfg.Tokens.Invalidate(ctx, token)
			continue
		}
		return &core.PushError{Code: res.ErrCode, Msg: res.ErrMsg}
	}
}
