package console

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gridbot/audit"
	"gridbot/core"
	"gridbot/internal/clientaddr"
)

//go:embed web
var webFiles embed.FS

// Limits of the HTTP API.
const (
	// MaxBodyBytes caps a request body.
	MaxBodyBytes = 16 << 10
	// DefaultSessionTTL is how long a login lasts when Server.SessionTTL is 0.
	DefaultSessionTTL = 12 * time.Hour
	// defaultListed is the cases one list answer carries when the page
	// asks for no limit, and maxListed the most it may ask for: decoding
	// and sending the cases is most of a list's cost, so the console pages
	// by ?before= (加载更多) instead of loading 500 at once.
	defaultListed = 100
	maxListed     = 500
)

// Messages staff read. They never carry internal error text.
const (
	msgBadRequest    = "请求格式错误"
	msgTooLarge      = "请求内容过大"
	msgForbidden     = "请求来源不被允许"
	msgLoginFirst    = "请先登录"
	msgBadLogin      = "用户名或密码错误"
	msgNotFound      = "未找到该案件"
	msgWrongState    = "当前状态不能进行此操作"
	msgConflict      = "案件刚被更新，请刷新后重试"
	msgServerError   = "服务器出错，请稍后再试"
	msgBadState      = "未知的案件状态"
	msgBadLimit      = "每页件数应为1至500的整数"
	msgBadBefore     = "翻页位置应为本镇的案件编号"
	msgReplyInvalid  = "回复内容不能为空，且不超过1000字"
	msgResultBad     = "办理结果不能为空，且不超过1000字"
	msgNoLiveFeed    = "实时推送暂不可用"
	msgNoAPI         = "接口不存在"
	msgTooMany       = "登录尝试过多，请15分钟后再试"
	msgReasonBad     = "请填写原因，且不超过1000字"
	msgBadDept       = "请选择要吹哨的部门"
	msgBadChange     = "请选择新的类别或网格，并填写原因"
	msgBadTermChange = "请填写原因；延期为1至22个工作日，挂起的截止日期须在半年之内"
	msgNoteBad       = "不同意时请填写意见，且不超过1000字"
	msgBadMonth      = "月份格式应为 2026-11"
	msgBadGrouping   = "未知的统计口径"
)

// SessionStore keeps the logins and counts login attempts, atomically
// across every instance that shares it.
type SessionStore interface {
	core.Ephemeral
	core.Counter
}

// Server is the staff console. Fill the fields, then mount Handler.
type Server struct {
	// Simplify reads a case's words in simplified characters, shown beside
	// the words as written where they differ; nil shows them as written.
	Simplify func(string) string
	// Guesses gives the category guess's share of right guesses by month
	// (the figures page); nil shows none.
	Guesses  GuessFigures
	Town     core.TownSource
	Store    core.CaseStore
	Ledger   *core.Ledger
	Sessions SessionStore
	Log      *slog.Logger
	// Now is the clock for overdue marks and sessions; nil means time.Now.
	Now func() time.Time
	// AllowedOrigins lists origins (scheme://host[:port]) besides the
	// request's own host that may send state-changing requests and open the
	// websocket, e.g. the public address behind a reverse proxy.
	AllowedOrigins []string
	// Hub carries ledger events to the websockets; nil disables /api/ws.
	Hub *Hub
	// SessionTTL is how long a login lasts; 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// IdleTimeout ends a session this long after its last request; 0
	// never does. SingleSession makes a new login end the person's older
	// sessions (login_sessions.go).
	IdleTimeout   time.Duration
	SingleSession bool
	// Book administers staff at runtime (the town's 人员管理); nil turns
	// those endpoints off. Town should be the same book, so that logins
	// and visibility see its changes.
	Book *core.StaffBook
	// StaffSlots is how many console requests run at once (heavy.go); 0
	// is one per CPU but one.
	StaffSlots int
	// HouseholdRadiusM is how near (metres) another case of the grid must
	// be to be listed in a case's household file as 附近; 0 lists none.
	HouseholdRadiusM float64
	// Media keeps the photos staff upload (代录, the fix on 办结); nil
	// turns photo uploads off.
	Media *core.MediaStore
	// Households finds a bound resident by phone when staff file a case
	// for them (代录) and lists a merged case's survivor among what its
	// residents follow; nil files every such case as offline.
	Households *core.Households
	// Visits keeps the linked households and their visits (二十户包联,
	// households.go); nil leaves those pages out.
	Visits *core.Visits
	// Audit is the audit trail: logins, reads of personal data, downloads
	// and administration are recorded in it, and the audit administrator
	// reads it; nil records nothing and turns the audit pages off.
	Audit *audit.Trail
	// SecondFactor asks every console login for a code from the person's
	// authenticator app after the password (login_factor.go), enrolled at
	// their first login; Factors keeps the enrolled secrets (needed with
	// it).
	SecondFactor bool
	Factors      core.Records
	// Passwords is the password policy (password.go): what a new password
	// must be, when it expires, how many old ones it must differ from.
	Passwords core.PasswordPolicy
	// Roster issues WeChat binding codes for staff; nil turns that off.
	Roster *core.Roster
	// TiandituKey is a 天地图 browser key (tk); when set, the map draws the
	// grids over 天地图's tiles, and the page may load images from it.
	// Without it the map is the grids alone, and works offline.
	TiandituKey string
	// Proxies are the reverse proxies whose X-Forwarded-For, X-Real-IP and
	// X-Forwarded-Proto are believed (http.trusted_proxies); the zero
	// value believes nobody's.
	Proxies clientaddr.Proxies
	// SecureCookies marks the login cookie Secure and sends HSTS on every
	// answer, for a TLS proxy that does not send X-Forwarded-Proto
	// (console.secure_cookies).
	SecureCookies bool

	// The tests lower these: bcrypt's cost for new passwords (0:
	// bcrypt.DefaultCost) and the attempts allowed per address (0:
	// maxAddrAttempts).
	hashCost     int
	addrFailures int

	// heavyLine holds a token for each heavy request running (heavy.go).
	heavyLine chan struct{}
	// staffLine holds a token for each console request running (heavy.go).
	staffLine chan struct{}
	// excelRows lowers maxExcelRows for the tests (0: maxExcelRows).
	excelRows int
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

// msgTooManyFeeds answers a websocket over the per-person or per-address
// limit.
const msgTooManyFeeds = "实时连接过多，请关闭多余的页面后再试"

// overTLS reports whether the client reached the console over TLS: the
// connection, a trusted proxy's X-Forwarded-Proto, or SecureCookies (a
// proxy that says nothing). Cookies are then Secure and answers carry HSTS.
func (s *Server) overTLS(r *http.Request) bool {
	return s.SecureCookies || s.Proxies.TLS(r)
}

func (s *Server) sessionTTL() time.Duration {
	if s.SessionTTL > 0 {
		return s.SessionTTL
	}
	return DefaultSessionTTL
}

// Handler returns the console: the API under /api/, the websocket at
// /api/ws and the page at /.
func (s *Server) Handler() http.Handler {
	if s.heavyLine == nil {
		s.heavyLine = make(chan struct{}, heavySlots())
	}
	if s.staffLine == nil {
		s.staffLine = make(chan struct{}, staffSlots(s.StaffSlots))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", s.handleLogin)
	mux.HandleFunc("POST /api/login/code", s.handleLoginCode)
	mux.HandleFunc("POST /api/login/password", s.handleLoginPassword)
	mux.Handle("POST /api/me/password", s.authed(s.handleMyPassword))
	mux.HandleFunc("GET /api/login/qr", s.handleLoginQR)
	mux.HandleFunc("POST /api/logout", s.handleLogout)
	mux.Handle("GET /api/me", s.authed(s.handleMe))
	mux.HandleFunc("GET /api/config", s.handleConfig)
	mux.Handle("GET /api/cases", s.authed(s.handleList))
	mux.Handle("GET /api/cases/{number}", s.authed(s.audited(core.AuditViewCase, "number", s.handleCase)))
	mux.Handle("GET /api/cases.csv", s.authed(s.audited(core.AuditExport, "", s.heavy(s.handleCasesCSV))))
	mux.Handle("GET /api/cases.xlsx", s.authed(s.audited(core.AuditExport, "", s.heavy(s.handleCasesXLSX))))
	mux.Handle("GET /api/figures.xlsx", s.authed(s.audited(core.AuditExport, "", s.heavy(s.handleFiguresXLSX))))
	mux.Handle("GET /api/directory", s.authed(s.handleDirectory))
	mux.Handle("POST /api/cases", s.authed(s.handleFileFor))
	mux.Handle("POST /api/cases/{number}/resolve-photo", s.authed(s.handleResolvePhoto))
	for _, a := range append(caseActions(), s.deskActions()...) {
		mux.Handle("POST /api/cases/{number}/"+string(a.step), s.authed(s.actionHandler(a)))
	}
	mux.Handle("GET /api/figures/board", s.authed(s.handleBoard))
	mux.Handle("GET /api/map", s.authed(s.handleMap))
	mux.Handle("GET /api/figures/rates", s.authed(s.heavy(s.handleRates)))
	mux.Handle("GET /api/figures/charts", s.authed(s.heavy(s.handleCharts)))
	mux.Handle("GET /api/figures/guess", s.authed(s.handleGuessFigures))
	mux.Handle("GET /api/figures/rates.csv", s.authed(s.audited(core.AuditExport, "", s.heavy(s.handleRatesCSV))))
	mux.Handle("GET /api/figures/ledger", s.authed(s.heavy(s.handleLedger)))
	mux.Handle("GET /api/figures/ledger.csv", s.authed(s.audited(core.AuditExport, "", s.heavy(s.handleLedgerCSV))))
	s.adminRoutes(mux)
	s.channelRoutes(mux)
	s.gridWorkRoutes(mux)
	mux.HandleFunc("GET /api/ws", s.handleWebsocket)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, msgNoAPI)
	})

	static, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(static)
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	// Vendored libraries sit under their version's name and never change.
	mux.Handle("GET /static/vendor/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		files.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		page, err := fs.ReadFile(static, "index.html")
		if err != nil {
			http.Error(w, msgServerError, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	})
	return s.guard(s.lined(mux))
}

// contentPolicy lets the page load only its own scripts and styles and talk
// only to its own origin; images also from 天地图 when its tiles are on.
func (s *Server) contentPolicy() string {
	img := "img-src 'self'"
	if s.TiandituKey != "" {
		img += " https://*.tianditu.gov.cn"
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; " + img + "; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
}

// guard adds the security headers and refuses state-changing requests that a
// browser could have sent from another site.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.contentPolicy())
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if s.overTLS(r) {
			// Served over TLS: browsers keep to it for a year.
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			if r.Header.Get("X-Requested-With") != "gridbot" || !s.sameSite(r) {
				writeError(w, http.StatusForbidden, msgForbidden)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, s.bodyLimit(r))
		}
		next.ServeHTTP(w, r)
	})
}

// sameSite reports whether the request's Origin, or its Referer when there is
// no Origin, names this host or an allowed origin. A request with neither is
// refused.
func (s *Server) sameSite(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return s.originAllowed(r, o)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return false
		}
		return s.originAllowed(r, u.Scheme+"://"+u.Host)
	}
	return false
}

// originAllowed reports whether origin is the request's own host or one of
// AllowedOrigins.
func (s *Server) originAllowed(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	norm := strings.ToLower(u.Scheme + "://" + u.Host)
	for _, a := range s.AllowedOrigins {
		if strings.ToLower(strings.TrimRight(a, "/")) == norm {
			return true
		}
	}
	return false
}

// errorBody is every error answer.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// readJSON decodes the body into v, answering the client itself when it
// cannot; it reports whether the handler should go on.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	err := json.NewDecoder(r.Body).Decode(v)
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, msgTooLarge)
	} else {
		writeError(w, http.StatusBadRequest, msgBadRequest)
	}
	return false
}
