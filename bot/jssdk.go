package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gridbot/core"
)

// The JS-SDK (jweixin-1.6.0) on pages inside WeChat: a page that shows
// WeChat's own subscribe button (the open tag wx-open-subscribe, for 订阅通知)
// first calls wx.config with the account's AppID, a timestamp, a random
// string and a signature its server made with the jsapi_ticket; WeChat checks
// the signature against the page's URL and that the URL is on the account's
// JS-safe domain (JS接口安全域名). The ticket comes from
// /cgi-bin/ticket/getticket with the access token, lives 7200 s, and must be
// cached by the server: like the token, one for every instance.

// DefaultJSSDKURL is the JS-SDK WeChat serves, the version that has the
// open tags.
const DefaultJSSDKURL = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"

// TicketConfig configures a TicketSource.
type TicketConfig struct {
	AppID   string
	Tokens  Tokens       // the access tokens the ticket is asked with
	APIBase string       // "" means DefaultAPIBase
	Client  *http.Client // nil means NewAPIClient(DefaultAPITimeout)
	// Shared keeps the ticket where every instance finds it (the Valkey
	// store), one instance at a time fetching it, as TokenConfig.Shared.
	Shared core.Ephemeral
	Now    func() time.Time
	Log    *slog.Logger
}

// TicketSource fetches the jsapi_ticket from /cgi-bin/ticket/getticket
// and caches it until five minutes before it expires, shared like the
// access token (TokenSource): WeChat limits how often a ticket may be
// fetched. An access token WeChat rejects while fetching is given back
// (Tokens.Invalidate) and the fetch tried once more with a fresh one.
type TicketSource struct {
	ts     *TokenSource
	tokens Tokens
}

// NewTicketSource returns a ticket source; it fetches nothing until asked.
func NewTicketSource(cfg TicketConfig) (*TicketSource, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("bot: ticket source has no token source")
	}
	ts := NewTokenSource(TokenConfig{AppID: cfg.AppID, APIBase: cfg.APIBase, Client: cfg.Client,
		Shared: cfg.Shared, Now: cfg.Now, Log: cfg.Log})
	t := &TicketSource{ts: ts, tokens: cfg.Tokens}
	ts.what = "jsapi-ticket"
	ts.get = t.request
	return t, nil
}

// Ticket returns a valid jsapi_ticket.
func (t *TicketSource) Ticket(ctx context.Context) (string, error) {
	return t.ts.GetAccessTokenContext(ctx)
}

// GetTicket implements the SDK's credential.JsTicketHandle, so the
// ticket can back silenceper/wechat's officialaccount/js.Js too; the
// access token it is handed is not needed (the source has its own).
func (t *TicketSource) GetTicket(string) (string, error) { return t.Ticket(context.Background()) }

// GetTicketContext implements credential.JsTicketContextHandle.
func (t *TicketSource) GetTicketContext(ctx context.Context, _ string) (string, error) {
	return t.Ticket(ctx)
}

// request asks /cgi-bin/ticket/getticket once, or twice when WeChat
// rejects the access token. The answer is put in the token's place for
// the cache.
func (t *TicketSource) request(ctx context.Context, _ bool) (apiResult, error) {
	var res apiResult
	for try := 0; try < 2; try++ {
		token, err := t.tokens.GetAccessTokenContext(ctx)
		if err != nil {
			return res, fmt.Errorf("wechat jsapi_ticket: %w", err)
		}
		call := apiCall{client: t.ts.cfg.Client, base: t.ts.cfg.APIBase, path: "/cgi-bin/ticket/getticket",
			query: url.Values{"access_token": {token}, "type": {"jsapi"}}, secrets: []string{token}}
		res, err = call.do(ctx)
		if err != nil {
			return res, fmt.Errorf("wechat jsapi_ticket: %w", err)
		}
		if isTokenError(res.ErrCode) && try == 0 {
			t.tokens.Invalidate(ctx, token)
			continue
		}
		break
	}
	if res.ErrCode != 0 {
		return res, fmt.Errorf("wechat jsapi_ticket: %w", &TokenError{Code: res.ErrCode, Msg: res.ErrMsg})
	}
	if res.Ticket == "" || res.ExpiresIn <= 0 {
		return res, errors.New("wechat jsapi_ticket: answer without ticket or lifetime")
	}
	res.AccessToken = res.Ticket
	return res, nil
}

// JSConfig is what a page passes to wx.config.
type JSConfig struct {
	AppID     string `json:"appId"`
	Timestamp int64  `json:"timestamp"`
	NonceStr  string `json:"nonceStr"`
	Signature string `json:"signature"`
}

// JSSignature is the JS-SDK's signature (附录1): the SHA-1 of
// jsapi_ticket=…&noncestr=…&timestamp=…&url=… in that order, nothing
// escaped, pageURL without its fragment.
func JSSignature(ticket, nonce string, timestamp int64, pageURL string) string {
	if i := strings.IndexByte(pageURL, '#'); i >= 0 {
		pageURL = pageURL[:i]
	}
	sum := sha1.Sum([]byte("jsapi_ticket=" + ticket + "&noncestr=" + nonce + "&timestamp=" +
		strconv.FormatInt(timestamp, 10) + "&url=" + pageURL))
	return hex.EncodeToString(sum[:])
}

// JSSigner signs wx.config for pages of the account.
type JSSigner struct {
	AppID   string
	Tickets interface {
		Ticket(ctx context.Context) (string, error)
	}
	Now func() time.Time // nil means time.Now
}

// Config returns the configuration a page at pageURL passes to wx.config.
func (s *JSSigner) Config(ctx context.Context, pageURL string) (JSConfig, error) {
	ticket, err := s.Tickets.Ticket(ctx)
	if err != nil {
		return JSConfig{}, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	nonce := hex.EncodeToString(b[:])
	ts := now().Unix()
	return JSConfig{AppID: s.AppID, Timestamp: ts, NonceStr: nonce, Signature: JSSignature(ticket, nonce, ts, pageURL)}, nil
}
