package wxpages

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// Inside the real WeChat a page asks for 订阅通知 with WeChat's own button,
// the open tag wx-open-subscribe, which shows only after the page has
// passed wx.config: the account's AppID, a timestamp, a random string and
// a signature made with the jsapi_ticket over the page's own URL, on the
// account's JS-safe domain. The page asks /wx/api/jsconfig for that
// configuration with its URL; the server signs it (JSSign) for its own
// pages only.

// JSConfig is what a page passes to wx.config (bot.JSConfig).
type JSConfig struct {
	AppID     string `json:"appId"`
	Timestamp int64  `json:"timestamp"`
	NonceStr  string `json:"nonceStr"`
	Signature string `json:"signature"`
}

// JSSign signs wx.config for the page at pageURL (bot.JSSigner.Config).
type JSSign func(ctx context.Context, pageURL string) (JSConfig, error)

// msgNoJSSDK is what the page reads when WeChat's button cannot be shown.
const msgNoJSSDK = "暂时不能订阅，进展仍会通过公众号消息通知您。"

// jsConfigAnswer is the answer of /wx/api/jsconfig: the configuration,
// where the JS-SDK is loaded from and what the page asks for.
type jsConfigAnswer struct {
	JSConfig
	Script      string   `json:"script"`
	JSAPIList   []string `json:"jsApiList"`
	OpenTagList []string `json:"openTagList"`
}

// handleJSConfig signs wx.config for one of these pages, as its reader
// opened it: the URL must be a page of this server (PublicBase's origin, or
// the request's host without one), so the signature is no use elsewhere.
func (s *Server) handleJSConfig(w http.ResponseWriter, r *http.Request, rd *reader) {
	if s.JSSign == nil || s.JSSDKURL == "" {
		writeError(w, http.StatusNotFound, msgNoJSSDK)
		return
	}
	page := r.URL.Query().Get("url")
	if i := strings.IndexByte(page, '#'); i >= 0 {
		page = page[:i]
	}
	u, err := url.Parse(page)
	if len(page) > 512 || err != nil || u.User != nil || !pagePath(u.Path) || !s.ownOrigin(r, u) {
		writeError(w, http.StatusBadRequest, msgBadRequest)
		return
	}
	cfg, err := s.JSSign(r.Context(), page)
	if err != nil {
		s.log().ErrorContext(r.Context(), "wx pages: sign wx.config", "err", err)
		writeError(w, http.StatusServiceUnavailable, msgNoJSSDK)
		return
	}
	writeJSON(w, http.StatusOK, jsConfigAnswer{JSConfig: cfg, Script: s.JSSDKURL,
		JSAPIList: []string{"checkJsApi"}, OpenTagList: []string{"wx-open-subscribe"}})
}

// ownOrigin reports whether u is on this server's public origin.
func (s *Server) ownOrigin(r *http.Request, u *url.URL) bool {
	if s.PublicBase != "" {
		pub, err := url.Parse(s.PublicBase)
		return err == nil && strings.EqualFold(u.Scheme, pub.Scheme) && strings.EqualFold(u.Host, pub.Host)
	}
	return (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, r.Host)
}

// scriptOrigins are the origins the pages may load scripts from besides
// their own: the JS-SDK's, and WeChat's second host for it.
func (s *Server) scriptOrigins() string {
	if s.JSSign == nil || s.JSSDKURL == "" {
		return ""
	}
	u, err := url.Parse(s.JSSDKURL)
	if err != nil || u.Host == "" {
		return ""
	}
	out := " " + u.Scheme + "://" + u.Host
	if u.Host == "res.wx.qq.com" {
		out += " " + u.Scheme + "://res2.wx.qq.com"
	}
	return out
}
