package wecomsim

import (
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Web authorisation as WeCom plays it for a page opened in the app: the
// page sends the browser to /connect/oauth2/authorize with the corp ID, WeCom
// knows the member and sends it back with a code, which the page's server
// exchanges at /cgi-bin/auth/getuserinfo for the member's userid. The
// simulator knows the member from the cookie its page sets when it opens a
// card (/sim/open), or the one MemberBrowser sends.

const readerCookie = "wecomsim_userid"

// codeLife is how long a code may be exchanged.
const codeLife = 5 * time.Minute

func authorizePage(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<!doctype html><meta charset="utf-8"><title>企业微信</title><p style="font:16px sans-serif;padding:2em;text-align:center">` +
		html.EscapeString(text) + `</p>`))
}

func (s *Sim) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	reader := ""
	if c, err := r.Cookie(readerCookie); err == nil {
		reader = strings.TrimSpace(c.Value)
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case reader == "":
		authorizePage(w, http.StatusForbidden, "请在企业微信客户端打开链接")
		return
	case q.Get("appid") != s.cfg.CorpID:
		authorizePage(w, http.StatusBadRequest, "appid 参数错误")
		return
	case q.Get("agentid") != "" && q.Get("agentid") != strconv.Itoa(s.cfg.AgentID):
		authorizePage(w, http.StatusBadRequest, "agentid 参数错误")
		return
	case q.Get("response_type") != "code" || q.Get("scope") != "snsapi_base":
		authorizePage(w, http.StatusBadRequest, "参数错误")
		return
	case err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "":
		authorizePage(w, http.StatusBadRequest, "redirect_uri 参数错误")
		return
	}
	c := randomHex(16)
	s.mu.Lock()
	now := s.cfg.Now()
	for k, v := range s.codes {
		if now.After(v.expires) {
			delete(s.codes, k)
		}
	}
	s.codes[c] = code{userid: reader, expires: now.Add(codeLife)}
	s.mu.Unlock()
	back := redirect.Query()
	back.Set("code", c)
	back.Set("state", q.Get("state"))
	redirect.RawQuery, redirect.Fragment = back.Encode(), ""
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Sim) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tokenOK(w, r) {
		return
	}
	k := r.URL.Query().Get("code")
	c, ok := s.codes[k]
	switch {
	case !ok || !s.cfg.Now().Before(c.expires):
		apiError(w, 40029, "invalid code")
		return
	case c.used:
		apiError(w, 40029, "code been used")
		return
	}
	c.used = true
	s.codes[k] = c
	if !s.member(c.userid) {
		// Someone outside the corporation: an openid, no userid.
		answer(w, map[string]any{"openid": "o" + randomHex(8)})
		return
	}
	answer(w, map[string]any{"userid": c.userid, "user_ticket": ""})
}

// MemberBrowser is the browser inside userid's WeCom, for tests of pages a
// card opens: web authorisation at the simulator knows it as userid.
func (s *Sim) MemberBrowser(userid string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: readerTransport{userid: userid}}
}

type readerTransport struct{ userid string }

func (t readerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/connect/oauth2/authorize" {
		r = r.Clone(r.Context())
		r.AddCookie(&http.Cookie{Name: readerCookie, Value: t.userid})
	}
	return http.DefaultTransport.RoundTrip(r)
}
