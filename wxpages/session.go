package wxpages

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Names and lifetimes of what the pages keep about a reader.
const (
	sessionCookie = "wx_session"
	stateCookie   = "wx_state"
	// DefaultSessionTTL is how long a page session lasts without a new
	// authorisation; WeChat authorises again silently when it ends.
	DefaultSessionTTL = 2 * time.Hour
	// stateTTL is how long a reader has to come back from WeChat.
	stateTTL = 10 * time.Minute
	// codeTTL outlives WeChat's five minutes for a code, so a code seen
	// once is refused for as long as WeChat would still take it.
	codeTTL = 10 * time.Minute

	keySession = "wxpage:session:"
	keyState   = "wxpage:state:"
	keyCode    = "wxpage:code:"
)

// session is a reader known through web authorisation.
type session struct {
	OpenID string `json:"openid"`
	// CSRF must come back on every POST (X-CSRF-Token): the pages read it
	// from the JSON they load, which another site cannot read.
	CSRF string `json:"csrf"`
}

// pending is an authorisation under way: where the reader was going.
type pending struct {
	Path string `json:"path"`
	// Via is "wecom" when the reader came from a WeCom card and WeCom
	// authorises them.
	Via string `json:"via,omitempty"`
}

// viaWeCom names the authorisation of a reader from WeCom.
const viaWeCom = "wecom"

// authority is the web authorisation for a reader who came via via.
func (s *Server) authority(via string) Authority {
	if via == viaWeCom && s.WeComAuth != nil {
		return s.WeComAuth
	}
	return s.Auth
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign appends the token's MAC under the server's key, so a forged or
// altered cookie is refused before any store is asked.
func (s *Server) sign(token string) string {
	m := hmac.New(sha256.New, s.SessionKey)
	m.Write([]byte("wx-session\x00" + token))
	return token + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// unsign returns the token of a signed value, or "" when the MAC is wrong.
func (s *Server) unsign(v string) string {
	token, _, ok := strings.Cut(v, ".")
	if !ok || token == "" || len(v) > 200 {
		return ""
	}
	if !hmac.Equal([]byte(s.sign(token)), []byte(v)) {
		return ""
	}
	return token
}

// SessionKey derives the key that signs page sessions from the account's
// AppSecret, which every instance has and nobody outside does. Without a
// secret (a local trial) the key is random: sessions then last only as long
// as this process and work on this instance alone.
func SessionKey(appSecret string) []byte {
	if appSecret == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return b
	}
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write([]byte("gridbot wxpages session key"))
	return m.Sum(nil)
}

// base is where the pages are reached: PublicBase, or else the scheme and
// host the request names.
func (s *Server) base(r *http.Request) string {
	if s.PublicBase != "" {
		return strings.TrimRight(s.PublicBase, "/")
	}
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (s *Server) secureCookies(r *http.Request) bool { return strings.HasPrefix(s.base(r), "https://") }

// readSession returns the reader of r, or nil when there is no valid
// session.
func (s *Server) readSession(ctx context.Context, r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	token := s.unsign(c.Value)
	if token == "" {
		return nil, nil
	}
	raw, ok, err := s.Keys.Get(ctx, keySession+token)
	if err != nil || !ok {
		return nil, err
	}
	var sess session
	if err := json.Unmarshal(raw, &sess); err != nil || sess.OpenID == "" {
		return nil, nil
	}
	return &sess, nil
}

// startSession keeps openid as the reader of this browser.
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, openid string) error {
	token := randomToken()
	raw, err := json.Marshal(session{OpenID: openid, CSRF: randomToken()})
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if err := s.Keys.Set(ctx, keySession+token, raw, s.sessionTTL()); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.sign(token), Path: "/wx/",
		MaxAge: int(s.sessionTTL() / time.Second), HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	return nil
}

// authorize sends the browser to WeChat's web authorisation, to come back
// to the page at path. The state is random, kept for one use, and bound to
// this browser by a cookie, so nobody can hand a reader a return link
// started in another browser (login CSRF).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, path, via string) {
	state := hex.EncodeToString([]byte(randomToken()))[:32]
	if via != viaWeCom || s.WeComAuth == nil {
		via = ""
	}
	raw, _ := json.Marshal(pending{Path: path, Via: via})
	if err := s.Keys.Set(r.Context(), keyState+state, raw, stateTTL); err != nil {
		s.log().ErrorContext(r.Context(), "wx pages: keep state", "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, msgServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: "/wx/auth",
		MaxAge: int(stateTTL / time.Second), HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.authority(via).AuthorizeURL(s.base(r)+"/wx/auth", state), http.StatusFound)
}

// handleAuth is where WeChat sends the reader back: the state must be the
// one this browser was given and unused, the code new; then the code is
// exchanged once for the openid and a session begins.
func (s *Server) handleAuth(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	state, code := q.Get("state"), q.Get("code")
	if !s.limits.allow("auth:"+clientIP(r), authsPerMinute, s.now()) {
		s.errorPage(w, http.StatusTooManyRequests, msgTooMany)
		return
	}
	c, err := r.Cookie(stateCookie)
	if state == "" || code == "" || err != nil || len(state) > 64 || len(code) > 128 ||
		!hmac.Equal([]byte(c.Value), []byte(state)) {
		s.errorPage(w, http.StatusForbidden, msgAuthAgain)
		return
	}
	// The state is claimed before it is read, so two returns with it (a
	// double tap, a replay racing the reader) cannot both pass.
	claimed, err := s.Keys.SetNX(ctx, keyState+"used:"+state, []byte("1"), stateTTL)
	var raw []byte
	ok := false
	if err == nil && claimed {
		raw, ok, err = s.Keys.Get(ctx, keyState+state)
	}
	if err == nil && ok {
		err = s.Keys.Delete(ctx, keyState+state)
	}
	if err != nil {
		s.log().ErrorContext(ctx, "wx pages: read state", "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, msgServerError)
		return
	}
	var p pending
	if !ok || json.Unmarshal(raw, &p) != nil || !pagePath(p.Path) {
		s.errorPage(w, http.StatusForbidden, msgAuthAgain)
		return
	}
	// A code counts as used once it is seen, even if WeChat would have
	// refused it anyway: a replayed code gets nowhere near WeChat.
	fresh, err := s.Keys.SetNX(ctx, keyCode+code, []byte("1"), codeTTL)
	if err != nil {
		s.log().ErrorContext(ctx, "wx pages: mark code", "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, msgServerError)
		return
	}
	if !fresh {
		s.errorPage(w, http.StatusForbidden, msgAuthAgain)
		return
	}
	openid, err := s.authority(p.Via).OpenID(ctx, code)
	if err != nil {
		s.log().WarnContext(ctx, "wx pages: code exchange", "err", err)
		s.errorPage(w, http.StatusForbidden, msgAuthAgain)
		return
	}
	if err := s.startSession(ctx, w, r, openid); err != nil {
		s.log().ErrorContext(ctx, "wx pages: start session", "err", err)
		s.errorPage(w, http.StatusServiceUnavailable, msgServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: "/wx/auth", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, p.Path, http.StatusFound)
}

// pagePath reports whether p is one of the pages, so that the return after
// authorisation can only lead there (no open redirect).
func pagePath(p string) bool {
	if p == "/wx/report" {
		return true
	}
	n, ok := strings.CutPrefix(p, "/wx/cases/")
	return ok && caseNumberShape(n)
}

// caseNumberShape is a cheap check of a path's case number: letters and
// digits, bounded.
func caseNumberShape(n string) bool {
	if n == "" || len(n) > 32 {
		return false
	}
	for _, r := range n {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}
