package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// DefaultOAuthBase is the host of WeChat's web authorisation page.
const DefaultOAuthBase = "https://open.weixin.qq.com"

// WebAuth is web authorisation (网页授权) with scope snsapi_base, for pages
// opened inside WeChat: it sends the reader to WeChat, which silently sends
// them back with a code, and turns the code into the reader's openid. The
// openid is the only proof of who reads a page; a link alone never is.
type WebAuth struct {
	AppID     string
	AppSecret string
	APIBase   string       // "" means DefaultAPIBase (/sns/oauth2/access_token)
	OAuthBase string       // "" means DefaultOAuthBase (/connect/oauth2/authorize)
	Client    *http.Client // nil means NewAPIClient(DefaultAPITimeout)
}

// ErrBadCode is a code WeChat does not know, has expired (5 minutes) or
// has already exchanged (40029, 40163): send the reader to AuthorizeURL
// again.
var ErrBadCode = errors.New("wechat web authorisation: the code is invalid, expired or used")

// AuthorizeURL is where to send a reader who has no openid yet: WeChat
// comes back to redirectURI with ?code=…&state=state. state should be
// unguessable and tied to the reader's browser (it guards against a forged
// login).
func (a *WebAuth) AuthorizeURL(redirectURI, state string) string {
	base := a.OAuthBase
	if base == "" {
		base = DefaultOAuthBase
	}
	// WeChat wants the parameters in this order, and the fragment.
	return strings.TrimRight(base, "/") + "/connect/oauth2/authorize?appid=" + url.QueryEscape(a.AppID) +
		"&redirect_uri=" + url.QueryEscape(redirectURI) + "&response_type=code&scope=snsapi_base&state=" +
		url.QueryEscape(state) + "#wechat_redirect"
}

// OpenID exchanges code for the reader's openid. A code WeChat refuses is
// ErrBadCode; other refusals are *core.PushError.
func (a *WebAuth) OpenID(ctx context.Context, code string) (string, error) {
	if code == "" || len(code) > 256 {
		return "", ErrBadCode
	}
	client := a.Client
	if client == nil {
		client = NewAPIClient(DefaultAPITimeout)
	}
	base := a.APIBase
	if base == "" {
		base = DefaultAPIBase
	}
	res, err := apiCall{client: client, base: base, path: "/sns/oauth2/access_token",
		query:   url.Values{"appid": {a.AppID}, "secret": {a.AppSecret}, "code": {code}, "grant_type": {"authorization_code"}},
		secrets: []string{a.AppSecret, code}}.do(ctx)
	switch {
	case err != nil:
		return "", err
	case res.ErrCode == 40029 || res.ErrCode == 40163:
		return "", ErrBadCode
	case res.ErrCode != 0:
		return "", fmt.Errorf("wechat web authorisation: %w", pushError(res.ErrCode, res.ErrMsg))
	case res.OpenID == "":
		return "", errors.New("wechat web authorisation: no openid in the answer")
	}
	return res.OpenID, nil
}
