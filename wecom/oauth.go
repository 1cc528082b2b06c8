package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/silenceper/wechat/v2/work/oauth"

	"gridbot/core"
)

// DefaultOAuthBase is where WeCom's web authorisation starts: the same host
// as WeChat's.
const DefaultOAuthBase = "https://open.weixin.qq.com"

// WebAuth is WeCom's web authorisation (snsapi_base, silent inside WeCom):
// the case pages' Authority for a reader who came from a WeCom card. It
// reads a code as the member's WeCom address ("wecom:userid"), which the
// roster knows as a staff member's.
type WebAuth struct {
	App *App
	// OAuthBase is the authorisation host; "" means DefaultOAuthBase.
	OAuthBase string
}

// ErrNotMember means the code stands for someone outside the corporation.
var ErrNotMember = errors.New("wecom web authorisation: not a member")

// AuthorizeURL is where to send a reader to come back to redirectURI with
// a code and state.
func (a *WebAuth) AuthorizeURL(redirectURI, state string) string {
	base := a.OAuthBase
	if base == "" {
		base = DefaultOAuthBase
	}
	q := url.Values{"appid": {a.App.CorpID()}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"snsapi_base"}, "state": {state}, "agentid": {strconv.Itoa(a.App.AgentID())}}
	return strings.TrimRight(base, "/") + "/connect/oauth2/authorize?" + q.Encode() + "#wechat_redirect"
}

// OpenID exchanges code (good once, for five minutes) for the member's
// address; a non-member is ErrNotMember.
func (a *WebAuth) OpenID(ctx context.Context, code string) (string, error) {
	var res oauth.GetUserInfoResponse
	err := a.App.call(ctx, http.MethodGet, "/cgi-bin/auth/getuserinfo", url.Values{"code": {code}}, nil, &res,
		func() int { return int(res.ErrCode) })
	switch {
	case err != nil:
		return "", fmt.Errorf("wecom web authorisation: %w", err)
	case res.ErrCode != 0:
		return "", fmt.Errorf("wecom web authorisation: %w", pushError(int(res.ErrCode), a.App.scrub(res.ErrMsg)))
	case res.UserID == "" || strings.Contains(res.UserID, ":"):
		return "", ErrNotMember
	}
	return core.Address{Channel: core.ChannelWeCom, ID: res.UserID}.String(), nil
}
