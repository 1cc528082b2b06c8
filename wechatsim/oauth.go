package wechatsim

import (
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Web authorisation (网页授权), as WeChat plays it for a page opened inside
// the phone: the page sends the browser to /connect/oauth2/authorize, WeChat
// knows who is reading and sends it back to redirect_uri with a code; the
// page's server exchanges the code at /sns/oauth2/access_token for the
// reader's openid. The simulator knows the reader from the cookie the phone
// page sets when it opens a page (/sim/open), or the one PhoneBrowser sends.

// readerCookie names the phone's current user inside the simulator's own
// browser pages.
const readerCookie = "wxsim_openid"

// codeLife is how long an authorisation code may be exchanged, as at WeChat.
const codeLife = 5 * time.Minute

// oauthCode is an issued authorisation code.
type oauthCode struct {
	openid, scope string
	expires       time.Time
	used          bool
}

// authorizePage answers a request WeChat would refuse the way it does: a
// page in the phone saying what is wrong.
func authorizePage(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
		`<title>微信</title><p style="font:16px sans-serif;padding:2em;text-align:center">` + html.EscapeString(text) + `</p>`))
}

func (s *Sim) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, err := r.Cookie(readerCookie)
	reader := ""
	if err == nil {
		reader = strings.TrimSpace(c.Value)
	}
	redirect, perr := url.Parse(q.Get("redirect_uri"))
	switch {
	case reader == "":
		authorizePage(w, http.StatusForbidden, "请在微信客户端打开链接")
		return
	case q.Get("appid") != s.cfg.AppID:
		authorizePage(w, http.StatusBadRequest, "appid 参数错误（40013）")
		return
	case q.Get("response_type") != "code":
		authorizePage(w, http.StatusBadRequest, "response_type 参数错误")
		return
	case q.Get("scope") != "snsapi_base" && q.Get("scope") != "snsapi_userinfo":
		authorizePage(w, http.StatusBadRequest, "scope 参数错误（10005）")
		return
	case perr != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "",
		len(s.cfg.OAuthDomains) > 0 && !slices.Contains(s.cfg.OAuthDomains, redirect.Host):
		// The domain must be set as a web-authorisation domain.
		authorizePage(w, http.StatusBadRequest, "redirect_uri 域名与后台配置不一致，错误码 10003")
		return
	}
	code := randomHex(16)
	s.mu.Lock()
	now := s.cfg.Now()
	for k, c := range s.codes {
		if now.After(c.expires) {
			delete(s.codes, k)
		}
	}
	s.codes[code] = oauthCode{openid: reader, scope: q.Get("scope"), expires: now.Add(codeLife)}
	s.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	redirect.Fragment = ""
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Sim) serveOAuthToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("appid") != s.cfg.AppID:
		apiError(w, 40013, "invalid appid")
		return
	case q.Get("secret") != s.cfg.AppSecret:
		apiError(w, 40125, "invalid appsecret")
		return
	case q.Get("grant_type") != "authorization_code":
		apiError(w, 40002, "invalid grant_type")
		return
	}
	s.mu.Lock()
	c, ok := s.codes[q.Get("code")]
	code := 0
	switch {
	case !ok || !s.cfg.Now().Before(c.expires):
		code = 40029
	case c.used:
		code = 40163
	default:
		c.used = true
		s.codes[q.Get("code")] = c
	}
	s.mu.Unlock()
	switch code {
	case 40029:
		apiError(w, code, "invalid code")
		return
	case 40163:
		apiError(w, code, "code been used")
		return
	}
	apiAnswer(w, map[string]any{"access_token": randomHex(32), "expires_in": 7200, "refresh_token": randomHex(32),
		"openid": c.openid, "scope": c.scope})
}

// serveOpen opens a page inside the phone as openid: it sets the reader
// cookie web authorisation reads and goes to the page.
func (s *Sim) serveOpen(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	openid := strings.TrimSpace(q.Get("openid"))
	u, err := url.Parse(q.Get("url"))
	if openid == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		authorizePage(w, http.StatusBadRequest, "无法打开此网页")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: readerCookie, Value: openid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// PhoneBrowser is the browser inside openid's phone, for tests of pages
// opened in WeChat: it follows redirects, and web authorisation at the
// simulator knows it as openid (the cookie goes to the authorize endpoint
// only, never to the page's own server).
func (s *Sim) PhoneBrowser(openid string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: readerTransport{openid: openid}}
}

// readerTransport sends the reader cookie to web authorisation.
type readerTransport struct{ openid string }

func (t readerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/connect/oauth2/authorize" {
		r = r.Clone(r.Context())
		r.AddCookie(&http.Cookie{Name: readerCookie, Value: t.openid})
	}
	return http.DefaultTransport.RoundTrip(r)
}
