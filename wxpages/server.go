package wxpages

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"gridbot/core"
)

//go:embed web
var webFiles embed.FS

// Bounds of what a reader may send.
const (
	// MaxPhotos is how many photos one report or one 补充 may carry.
	MaxPhotos = 3
	// maxFormBytes bounds a body without photos.
	maxFormBytes = 32 << 10
	// postsPerMinute bounds the steps and reports of one reader, and
	// authsPerMinute the authorisations started from one address.
	postsPerMinute = 30
	authsPerMinute = 60
)

// Messages readers see. They never carry internal error text.
const (
	msgServerError  = "服务暂时不可用，请稍后再试。"
	msgAuthAgain    = "授权已失效，请从公众号消息或菜单重新打开本页。"
	msgNotFound     = "没有找到这件事项，请核对编号。"
	msgForbidden    = "请求来源不被允许，请刷新页面后重试。"
	msgTooLarge     = "内容太大：每张照片不超过2MB，最多3张。"
	msgBadRequest   = "请求格式不对，请刷新页面后重试。"
	msgTooMany      = "操作太频繁，请稍后再试。"
	msgLoginFirst   = "登录已过期，请刷新页面。"
	msgConflict     = "事项刚被更新，请刷新后重试。"
	msgWrongState   = "当前状态不能进行这项操作。"
	msgBadPhoto     = "照片格式不对，请选 JPG 或 PNG 图片。"
	msgTooManyFiled = "您提交得太频繁了，请稍后再提交；已提交的事项正在办理，可在公众号回复“我的”查看进度。"
)

// Server serves the pages inside WeChat. Fill the fields, then mount
// Handler on /wx/.
type Server struct {
	Town   core.TownSource
	Ledger *core.Ledger
	Roster *core.Roster
	Media  *core.MediaStore
	// Keys keeps sessions, authorisations under way and used codes; shared
	// by every instance, so a reader may land on any.
	Keys core.Ephemeral
	Auth Authority
	// WeComAuth, when set, authorises a reader who opens a page from a
	// WeCom card (?via=wecom): WeCom's web authorisation, whose "openid"
	// is the member's WeCom address (wecom:userid).
	WeComAuth Authority
	// PublicBase is where these pages are reached
	// (https://grid.example.org), which must be the account's
	// web-authorisation domain; empty takes the request's host.
	PublicBase string
	// FrameAncestors are origins that may show the pages in a frame: the
	// simulator's phone, which plays WeChat's browser. Empty (a real
	// deployment) lets nobody frame them.
	FrameAncestors []string
	// SubscribeTemplates are the account's 订阅通知 template IDs for
	// progress notices, which a resident's page asks the grant of; none
	// hides the button.
	SubscribeTemplates []string
	// JSSign signs wx.config, and JSSDKURL is where the pages load the
	// JS-SDK from (bot.DefaultJSSDKURL; the simulator's stand-in in the
	// demo and tests): with both, a resident's page shows WeChat's own
	// subscribe button (wx-open-subscribe); without, it says progress
	// comes by the account's messages.
	JSSign   JSSign
	JSSDKURL string
	// Simplify gives the simplified reading of what a resident wrote in
	// traditional characters, which staff see beside the words as written;
	// nil shows the words only.
	Simplify func(string) string
	// SessionKey signs the session cookie; every instance needs the same.
	SessionKey []byte
	// SessionTTL is how long a session lasts; zero means DefaultSessionTTL.
	SessionTTL time.Duration
	Now        func() time.Time
	Log        *slog.Logger

	limits limiter
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) sessionTTL() time.Duration {
	if s.SessionTTL > 0 {
		return s.SessionTTL
	}
	return DefaultSessionTTL
}

// Handler returns the pages and their API, all under /wx/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /wx/auth", s.handleAuth)
	mux.HandleFunc("GET /wx/cases/{number}", s.page("case.html"))
	mux.HandleFunc("GET /wx/report", s.page("report.html"))
	mux.Handle("GET /wx/api/cases/{number}", s.reader(s.handleCase))
	mux.Handle("GET /wx/api/media/{number}/{id}", s.reader(s.handleMedia))
	mux.Handle("GET /wx/api/directory", s.reader(s.handleDirectory))
	mux.Handle("GET /wx/api/jsconfig", s.reader(s.handleJSConfig))
	mux.Handle("POST /wx/api/cases/{number}/{step}", s.reader(s.handleStep))
	mux.Handle("POST /wx/api/report", s.reader(s.handleReport))
	static, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux.Handle("GET /wx/static/", http.StripPrefix("/wx/static/", http.FileServerFS(static)))
	mux.HandleFunc("/wx/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/wx/api/") {
			writeError(w, http.StatusNotFound, msgNotFound)
			return
		}
		s.errorPage(w, http.StatusNotFound, "页面不存在。")
	})
	return s.guard(mux)
}

// contentPolicy lets the pages load only their own scripts, styles and
// images, and talk only to their own origin.
// The JS-SDK's origin is added to script-src when it is configured.
const (
	contentPolicyScripts = "default-src 'self'; script-src 'self'"
	contentPolicy        = "; style-src 'self'; img-src 'self'; " +
		"media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors "
)

// guard sets the security headers, and refuses a POST that a browser could
// have sent from another site: the Origin (or Referer) must be this host or
// PublicBase's. The CSRF token is checked with the session (reader).
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		policy := contentPolicyScripts + s.scriptOrigins() + contentPolicy
		h := w.Header()
		if len(s.FrameAncestors) == 0 {
			h.Set("Content-Security-Policy", policy+"'none'")
			h.Set("X-Frame-Options", "DENY")
		} else {
			h.Set("Content-Security-Policy", policy+strings.Join(s.FrameAncestors, " "))
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if strings.HasPrefix(r.URL.Path, "/wx/api/") {
			h.Set("Cache-Control", "no-store")
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !s.sameOrigin(r) {
				writeError(w, http.StatusForbidden, msgForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin reports whether r's Origin, or its Referer when there is no
// Origin, is this host or PublicBase. A POST with neither is refused.
func (s *Server) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		ref, err := url.Parse(r.Header.Get("Referer"))
		if err != nil || ref.Host == "" {
			return false
		}
		origin = ref.Scheme + "://" + ref.Host
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	if s.PublicBase == "" {
		return false
	}
	pub, err := url.Parse(s.PublicBase)
	return err == nil && strings.EqualFold(u.Scheme, pub.Scheme) && strings.EqualFold(u.Host, pub.Host)
}

// page serves an embedded page to a reader with a session, or first sends
// them through web authorisation. The page itself holds nothing about any
// case: it loads what its reader may see from the API.
func (s *Server) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if !pagePath(path) {
			s.errorPage(w, http.StatusNotFound, "页面不存在。")
			return
		}
		sess, err := s.readSession(r.Context(), r)
		if err != nil {
			s.log().ErrorContext(r.Context(), "wx pages: read session", "err", err)
			s.errorPage(w, http.StatusServiceUnavailable, msgServerError)
			return
		}
		if sess == nil {
			if !s.limits.allow("auth:"+clientIP(r), authsPerMinute, s.now()) {
				s.errorPage(w, http.StatusTooManyRequests, msgTooMany)
				return
			}
			s.authorize(w, r, path, r.URL.Query().Get("via"))
			return
		}
		body, err := fs.ReadFile(webFiles, "web/"+name)
		if err != nil {
			s.errorPage(w, http.StatusInternalServerError, msgServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	}
}

// readerHandler is an API handler for a reader known by their session.
type readerHandler func(w http.ResponseWriter, r *http.Request, rd *reader)

// reader is who is asking: their openid, and the staff member it is bound
// to, if any.
type reader struct {
	openid string
	csrf   string
	staff  *core.Staff
}

// reader resolves the session for an API call; a POST must also carry the
// session's CSRF token and stay within the reader's rate.
func (s *Server) reader(h readerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		sess, err := s.readSession(ctx, r)
		if err != nil {
			s.log().ErrorContext(ctx, "wx pages: read session", "err", err)
			writeError(w, http.StatusServiceUnavailable, msgServerError)
			return
		}
		if sess == nil {
			writeError(w, http.StatusUnauthorized, msgLoginFirst)
			return
		}
		if r.Method == http.MethodPost {
			tok := r.Header.Get("X-CSRF-Token")
			if tok == "" || tok != sess.CSRF {
				writeError(w, http.StatusForbidden, msgForbidden)
				return
			}
			if !s.limits.allow("post:"+sess.OpenID, postsPerMinute, s.now()) {
				writeError(w, http.StatusTooManyRequests, msgTooMany)
				return
			}
		}
		staff, err := s.Roster.StaffFrom(ctx, sess.OpenID)
		if err != nil {
			s.log().ErrorContext(ctx, "wx pages: staff by openid", "err", err)
			writeError(w, http.StatusServiceUnavailable, msgServerError)
			return
		}
		h(w, r, &reader{openid: sess.OpenID, csrf: sess.CSRF, staff: staff})
	})
}

// clientIP is the address a request came from (the direct peer: a proxy in
// front should rate-limit by the real address itself).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter counts requests per key in one-minute windows. It is per
// instance: a bound against a runaway page or a script, not an accounting.
type limiter struct {
	mu      sync.Mutex
	window  time.Time
	counted map[string]int
}

func (l *limiter) allow(key string, perMinute int, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := now.Truncate(time.Minute)
	if !w.Equal(l.window) || l.counted == nil {
		l.window, l.counted = w, map[string]int{}
	}
	if l.counted[key] >= perMinute {
		return false
	}
	l.counted[key]++
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// errorPage answers a page request with a short page in plain words.
func (s *Server) errorPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<!doctype html><html lang="zh-CN"><meta charset="utf-8">` +
		`<meta name="viewport" content="width=device-width,initial-scale=1"><title>网格服务</title>` +
		`<link rel="stylesheet" href="/wx/static/pages.css"><main class="notice"><p>` +
		html.EscapeString(msg) + `</p></main></html>`))
}

// answerLedger answers a ledger step's error in the reader's words: the
// policy's own reason when it refused, else a plain message by kind. It
// reports whether the step succeeded.
func (s *Server) answerLedger(ctx context.Context, w http.ResponseWriter, err error, invalid, what string) bool {
	if err == nil {
		return true
	}
	reason, refused := core.RefusalReason(err)
	pick := func(msg string) string {
		if refused {
			return reason
		}
		return msg
	}
	switch {
	case errors.Is(err, core.ErrNotFound):
		writeError(w, http.StatusNotFound, msgNotFound)
	case errors.Is(err, core.ErrForbidden):
		writeError(w, http.StatusForbidden, pick(msgNotFound))
	case errors.Is(err, core.ErrInvalid):
		writeError(w, http.StatusBadRequest, pick(invalid))
	case errors.Is(err, core.ErrWrongState), errors.Is(err, core.ErrNoChange):
		writeError(w, http.StatusConflict, pick(msgWrongState))
	case errors.Is(err, core.ErrConflict):
		writeError(w, http.StatusConflict, msgConflict)
	case errors.Is(err, core.ErrTooMany):
		// The ledger's per-resident filing limit: nothing was written.
		writeError(w, http.StatusTooManyRequests, msgTooManyFiled)
	default:
		s.log().ErrorContext(ctx, "wx pages: "+what, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
	}
	return false
}
