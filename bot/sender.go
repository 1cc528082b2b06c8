package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

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
	ChannelCustom    = "custom"
	ChannelTemplate  = "template"
	ChannelSubscribe = "subscribe" // 订阅通知
)

// SenderConfig configures a Sender.
type SenderConfig struct {
	Tokens  Tokens
	APIBase string       // "" means DefaultAPIBase
	Client  *http.Client // nil means NewAPIClient(DefaultAPITimeout)
	// Templates are the message templates per kind of notice, used when
	// the customer-service window is closed; a kind without one is sent
	// as a customer-service message only.
	Templates map[core.NoticeKind]NoticeTemplate
	// Subscribe are the 订阅通知 templates per kind, used before the
	// message template while the recipient holds a grant (Window.Grant).
	Subscribe map[core.NoticeKind]NoticeTemplate
	// PublicBase is where pages inside WeChat are reached: a notice about
	// a case links to PublicBase/wx/cases/{number}. Empty sends no link.
	PublicBase string
	// Window tracks each user's customer-service allowances and 订阅通知
	// grants, so a push that WeChat would refuse goes straight to a
	// template; nil means every push tries a customer-service message
	// first, and no 订阅通知 is sent.
	Window *Window
	Log    *slog.Logger
}

// Sender pushes notices: a customer-service text message while the user's
// window allows one; when it is closed (45015) or spent (45047), a 订阅通知
// while the user holds a grant for the notice's kind, else the kind's
// template, its fields filled from the notice's values and linked to the
// case's page. It implements core.Notifier.
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
	if err := checkTemplates("message", cfg.Templates); err != nil {
		return nil, err
	}
	if err := checkTemplates("subscribe", cfg.Subscribe); err != nil {
		return nil, err
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
	tpl, hasTemplate := s.cfg.Templates[n.Kind]
	sub, hasSubscribe := s.cfg.Subscribe[n.Kind]
	hasSubscribe = hasSubscribe && s.cfg.Window != nil
	code := 45015 // what WeChat would answer; for the log lines
	if open || !hasTemplate && !hasSubscribe {
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
		if !ok || (pe.Code != 45015 && pe.Code != 45047) || !hasTemplate && !hasSubscribe {
			return "", fmt.Errorf("wechat custom message: %w", err)
		}
		code = pe.Code
		s.cfg.Log.Info("wechat custom message refused; sending a notice by template", "errcode", pe.Code, "kind", string(n.Kind))
	}
	link := caseURL(s.cfg.PublicBase, n.Case)
	if hasSubscribe {
		granted, err := s.cfg.Window.takeGrant(ctx, n.To, sub.ID)
		if err != nil {
			s.cfg.Log.Warn("wechat grant unknown", "err", err)
		}
		if granted {
			err := s.post(ctx, "/cgi-bin/message/subscribe/bizsend", templatePayload{ToUser: n.To, TemplateID: sub.ID,
				Page: link, Data: sub.data(n)})
			pe, isPush := errors.AsType[*core.PushError](err)
			switch {
			case err == nil:
				return ChannelSubscribe, nil
			case !hasTemplate || !isPush || pe.Code != 43101:
				return "", fmt.Errorf("wechat subscribe message (custom window: errcode %d): %w", code, err)
			}
			s.cfg.Log.Info("wechat subscribe message refused; sending a template message", "errcode", pe.Code)
		}
	}
	if !hasTemplate {
		return "", fmt.Errorf("wechat custom message: %w", pushError(code, "window closed, and no template for "+string(n.Kind)))
	}
	if err := s.post(ctx, "/cgi-bin/message/template/send", templatePayload{ToUser: n.To, TemplateID: tpl.ID,
		URL: link, ClientMsgID: n.Key, Data: tpl.data(n)}); err != nil {
		return "", fmt.Errorf("wechat template message (custom window: errcode %d): %w", code, err)
	}
	return ChannelTemplate, nil
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
		return pushError(res.ErrCode, res.ErrMsg)
	}
}
