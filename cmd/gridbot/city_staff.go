package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/crypto/bcrypt"

	"gridbot/audit"
	"gridbot/configs"
	"gridbot/console"
	"gridbot/core"
	"gridbot/totp"
)

// The city's own view (/city/): city staff (city.staff) log in with their
// password and, where security.second_factor asks, an authenticator code,
// and read every town's figures from its counters — each town's 三率 and
// counts, and their total — and drill down into one town's figures by
// village or grid. What they may do is the domain's rule (core.CityMay):
// figures only, never a case or personal data; a city staff member is no
// town's staff and has no session in any town's console.

//go:embed cityweb
var cityWeb embed.FS

// cityStaff serves the city's view.
type cityStaff struct {
	city         *city
	staff        map[string]configs.CityStaffEntry
	secondFactor bool
	sessionTTL   time.Duration
	now          func() time.Time
	// trail is the city's own audit trail (in the city's store): its
	// staff's logins, codes and logouts.
	trail *audit.Trail
	// throttle counts the logins' attempts by the console's rule, in the
	// city's store: a stranger's wrong passwords from elsewhere do not
	// keep a city official out from where they logged in before.
	throttle *console.LoginThrottle
}

// CityCookie is the city view's session cookie.
const CityCookie = "gridbot_city"

// Bounds of the city view's logins (their attempts: console.LoginThrottle).
const (
	cityEnrolTTL      = 10 * time.Minute
	cityMaxLoginBytes = 4 << 10
)

// Keys and records of the city view in the city's store.
const (
	citySessionKey = "city-session:"
	cityLoginKey   = "city-login:"
	cityEnrolKey   = "city-enrol:"
	cityCodeKey    = "city-code:"
	// The enrolled authenticator secrets, sealed at rest with the towns'.
	cityFactorNS = "second-factor"
)

func newCityStaff(c *city, cfg *configs.Config) *cityStaff {
	s := &cityStaff{city: c, staff: map[string]configs.CityStaffEntry{}, secondFactor: cfg.Security.SecondFactorRequired(),
		sessionTTL: cfg.Security.SessionLifetime, now: time.Now, trail: &audit.Trail{Store: c.store, Log: c.log},
		throttle: &console.LoginThrottle{Keys: c.store, Proxies: c.proxies, Prefix: cityLoginKey}}
	for _, e := range cfg.City.Staff {
		s.staff[e.ID] = e
	}
	if s.sessionTTL <= 0 {
		s.sessionTTL = 12 * time.Hour
	}
	return s
}

func (s *cityStaff) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /city/{$}", s.page("city.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /city/city.js", s.page("city.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /city/city.css", s.page("city.css", "text/css; charset=utf-8"))
	mux.HandleFunc("POST /city/api/login", s.handleLogin)
	mux.HandleFunc("POST /city/api/logout", s.handleLogout)
	mux.HandleFunc("GET /city/api/me", s.authed(core.CityViewFigures, s.handleMe))
	mux.HandleFunc("GET /city/api/figures", s.authed(core.CityViewFigures, s.handleFigures))
	mux.HandleFunc("GET /city/api/towns/{key}/figures", s.authed(core.CityDrillDown, s.handleTownFigures))
	mux.HandleFunc("GET /city/api/towns/{key}/cases", s.authed(core.CityReadCases, s.handleTownCases))
	mux.HandleFunc("/city/", func(w http.ResponseWriter, r *http.Request) {
		writeCityJSON(w, http.StatusNotFound, map[string]string{"error": "接口不存在"})
	})
}

// page serves one of the view's files, under the console's strict policy.
func (s *cityStaff) page(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := cityWeb.ReadFile("cityweb/" + name)
		if err != nil {
			http.Error(w, "服务器出错", http.StatusInternalServerError)
			return
		}
		s.headers(w, r)
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(b)
	}
}

func (s *cityStaff) headers(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if s.secure(r) {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

func (s *cityStaff) secure(r *http.Request) bool { return s.city.secure || s.city.proxies.TLS(r) }

// fromPage reports whether a post came from the view itself: the header
// no other site can send without asking, and an Origin naming this host.
func fromPage(r *http.Request) bool {
	if r.Header.Get("X-Requested-With") != "gridbot" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// cityLogin is what the login form posts.
type cityLogin struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Code     string `json:"code"`
}

func (s *cityStaff) handleLogin(w http.ResponseWriter, r *http.Request) {
	s.headers(w, r)
	w.Header().Set("Cache-Control", "no-store")
	if !fromPage(r) {
		writeCityJSON(w, http.StatusForbidden, map[string]string{"error": "请求来源不被允许"})
		return
	}
	var in cityLogin
	if err := json.NewDecoder(io.LimitReader(r.Body, cityMaxLoginBytes)).Decode(&in); err != nil || len(in.Username) > 64 || len(in.Password) > 128 {
		writeCityJSON(w, http.StatusBadRequest, map[string]string{"error": "请求格式错误"})
		return
	}
	ctx := r.Context()
	if ok, refusal, err := s.throttle.Admit(r, in.Username); err != nil {
		s.city.log.Error("city login: count attempts", "err", err)
		writeCityJSON(w, http.StatusInternalServerError, map[string]string{"error": "服务器出错，请稍后再试"})
		return
	} else if !ok {
		s.record(r, s.actorOf(in.Username), core.AuditLogin, core.AuditRefused, "市级登录：尝试过多，未核对密码")
		writeCityJSON(w, http.StatusTooManyRequests, map[string]string{"error": refusal})
		return
	}
	who, known := s.staff[in.Username]
	hash := []byte(console.UnknownUserHash)
	if known {
		hash = []byte(who.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(in.Password)) != nil || !known {
		s.record(r, s.actorOf(in.Username), core.AuditLogin, core.AuditRefused, "市级登录：用户名或密码错误")
		writeCityJSON(w, http.StatusUnauthorized, map[string]string{"error": "用户名或密码错误"})
		return
	}
	if s.secondFactor {
		answer, ok := s.checkCode(ctx, who, in.Code)
		if !ok {
			if answer.status == http.StatusUnauthorized {
				s.record(r, who.ID, core.AuditSecondFactor, core.AuditRefused, "市级登录：验证码不正确或已用过")
			}
			writeCityJSON(w, answer.status, answer.body)
			return
		}
	}
	token := make([]byte, 32)
	rand.Read(token)
	raw, _ := json.Marshal(map[string]any{"staff": who.ID, "at": s.now().Unix()})
	if err := s.city.store.Set(ctx, citySessionKey+tokenDigest(hex.EncodeToString(token)), raw, s.sessionTTL); err != nil {
		s.city.log.Error("city login: keep session", "err", err)
		writeCityJSON(w, http.StatusInternalServerError, map[string]string{"error": "服务器出错，请稍后再试"})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CityCookie, Value: hex.EncodeToString(token), Path: "/city/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteStrictMode, MaxAge: int(s.sessionTTL / time.Second)})
	if err := s.throttle.LoggedIn(r, who.ID); err != nil {
		s.city.log.Warn("city login: throttle", "err", err)
	}
	s.record(r, who.ID, core.AuditLogin, core.AuditOK, "市级登录")
	writeCityJSON(w, http.StatusOK, map[string]any{"staff": map[string]string{"id": who.ID, "name": who.Name}})
}

// record writes one line of the city's audit trail; a failure is logged.
func (s *cityStaff) record(r *http.Request, actor string, action core.AuditAction, outcome core.AuditOutcome, detail string) {
	rec := core.AuditRecord{Actor: actor, Addr: s.city.proxies.Addr(r).String(), Action: action, Object: "city",
		Outcome: outcome, Detail: detail}
	if err := s.trail.Record(r.Context(), rec); err != nil {
		s.city.log.Error("city audit", "err", err)
	}
}

// codeAnswer is what a login without the right code is told.
type codeAnswer struct {
	status int
	body   any
}

// checkCode is the second factor: an enrolled person's current code, used
// once; a person not yet enrolled is given a new secret to add to their
// authenticator app, kept for a while, and enrolled by its first code.
func (s *cityStaff) checkCode(ctx context.Context, who configs.CityStaffEntry, code string) (codeAnswer, bool) {
	failed := codeAnswer{http.StatusInternalServerError, map[string]string{"error": "服务器出错，请稍后再试"}}
	secret, enrolled, err := s.city.store.Record(ctx, cityFactorNS, "city:"+who.ID)
	if err != nil {
		s.city.log.Error("city login: read second factor", "err", err)
		return failed, false
	}
	if !enrolled {
		pending, ok, err := s.city.store.Get(ctx, cityEnrolKey+who.ID)
		if err != nil {
			s.city.log.Error("city login: read enrolment", "err", err)
			return failed, false
		}
		if !ok {
			k, err := totp.NewKey("网格通·"+s.city.name, who.ID)
			if err != nil {
				return failed, false
			}
			pending = []byte(k.Secret)
			if err := s.city.store.Set(ctx, cityEnrolKey+who.ID, pending, cityEnrolTTL); err != nil {
				return failed, false
			}
		}
		if code == "" {
			return codeAnswer{http.StatusOK, map[string]any{"second_factor": true, "enrol": true, "secret": string(pending)}}, false
		}
		secret = pending
	} else if code == "" {
		return codeAnswer{http.StatusOK, map[string]any{"second_factor": true}}, false
	}
	// A code is good once: a second login with it is refused.
	ok, err := console.CodeOnce(ctx, s.city.store, cityCodeKey, who.ID, string(secret), code, s.now())
	if err != nil {
		s.city.log.Error("city login: second factor", "err", err)
		return failed, false
	}
	if !ok {
		return codeAnswer{http.StatusUnauthorized, map[string]string{"error": "验证码不正确或已用过"}}, false
	}
	if !enrolled {
		if err := s.city.store.PutRecord(ctx, cityFactorNS, "city:"+who.ID, secret); err != nil {
			return failed, false
		}
		s.city.store.Delete(ctx, cityEnrolKey+who.ID)
	}
	return codeAnswer{}, true
}

// actorOf is a login's name for the audit trail: the name when it is a
// city login, else "?" (what was typed may be a password).
func (s *cityStaff) actorOf(name string) string {
	if _, ok := s.staff[name]; ok {
		return name
	}
	return "?"
}

func tokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (s *cityStaff) handleLogout(w http.ResponseWriter, r *http.Request) {
	s.headers(w, r)
	if !fromPage(r) {
		writeCityJSON(w, http.StatusForbidden, map[string]string{"error": "请求来源不被允许"})
		return
	}
	if c, err := r.Cookie(CityCookie); err == nil && c.Value != "" && len(c.Value) <= 128 {
		key := citySessionKey + tokenDigest(c.Value)
		if raw, ok, err := s.city.store.Get(r.Context(), key); err == nil && ok {
			var sess struct {
				Staff string `json:"staff"`
			}
			if json.Unmarshal(raw, &sess) == nil {
				s.record(r, sess.Staff, core.AuditLogout, core.AuditOK, "市级退出")
			}
		}
		s.city.store.Delete(r.Context(), key)
	}
	http.SetCookie(w, &http.Cookie{Name: CityCookie, Value: "", Path: "/city/", MaxAge: -1, HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
	writeCityJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// authed runs h for a city staff member with a live session, when the
// city's rule lets them do duty.
func (s *cityStaff) authed(duty core.CityDuty, h func(http.ResponseWriter, *http.Request, configs.CityStaffEntry)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.headers(w, r)
		w.Header().Set("Cache-Control", "no-store")
		c, err := r.Cookie(CityCookie)
		if err != nil || c.Value == "" || len(c.Value) > 128 {
			writeCityJSON(w, http.StatusUnauthorized, map[string]string{"error": "请先登录"})
			return
		}
		raw, ok, err := s.city.store.Get(r.Context(), citySessionKey+tokenDigest(c.Value))
		if err != nil {
			s.city.log.Error("city session", "err", err)
			writeCityJSON(w, http.StatusInternalServerError, map[string]string{"error": "服务器出错，请稍后再试"})
			return
		}
		var sess struct {
			Staff string `json:"staff"`
		}
		if !ok || json.Unmarshal(raw, &sess) != nil {
			writeCityJSON(w, http.StatusUnauthorized, map[string]string{"error": "请先登录"})
			return
		}
		who, known := s.staff[sess.Staff]
		if !known {
			// Taken out of city.staff since: the session ends.
			writeCityJSON(w, http.StatusUnauthorized, map[string]string{"error": "请先登录"})
			return
		}
		if !core.CityMay(core.RoleCity, duty) {
			writeCityJSON(w, http.StatusForbidden, map[string]string{"error": "无权查看"})
			return
		}
		h(w, r, who)
	}
}

func (s *cityStaff) handleMe(w http.ResponseWriter, r *http.Request, who configs.CityStaffEntry) {
	writeCityJSON(w, http.StatusOK, map[string]any{"staff": map[string]string{"id": who.ID, "name": who.Name}, "city": s.city.name})
}

// cityRateView is a row of figures with its rates rendered.
type cityRateView struct {
	core.RateRow
	ResponseRate     string `json:"response_rate"`
	ResolutionRate   string `json:"resolution_rate"`
	SatisfactionRate string `json:"satisfaction_rate"`
}

func rateViews(rows []core.RateRow) []cityRateView {
	out := make([]cityRateView, 0, len(rows))
	for _, r := range rows {
		out = append(out, cityRateView{RateRow: r, ResponseRate: r.ResponseRate(), ResolutionRate: r.ResolutionRate(),
			SatisfactionRate: r.SatisfactionRate()})
	}
	return out
}

// townRates are a town's figures by a grouping, from its counters.
func (s *cityStaff) townRates(ctx context.Context, t *cityTown, by core.Grouping) ([]core.RateRow, error) {
	tally, err := t.app.ledger.Store.Figures(ctx)
	if err != nil {
		return nil, err
	}
	return core.RatesOf(t.town(), t.app.ledger.Rules, tally, core.CityScope(), by, s.now()), nil
}

// handleFigures is every town's figures — each its total row — and the
// city's total.
func (s *cityStaff) handleFigures(w http.ResponseWriter, r *http.Request, _ configs.CityStaffEntry) {
	rows := make([]core.RateRow, 0, len(s.city.towns))
	for _, t := range s.city.towns {
		all, err := s.townRates(r.Context(), t, core.ByVillage)
		if err != nil {
			s.city.log.Error("city figures", "town", t.key, "err", err)
			writeCityJSON(w, http.StatusInternalServerError, map[string]string{"error": "服务器出错，请稍后再试"})
			return
		}
		row := core.SumRates(t.key, t.name)
		for _, r := range all {
			if r.Key == "total" {
				row = core.SumRates(t.key, t.name, r)
			}
		}
		rows = append(rows, row)
	}
	total := core.SumRates("total", "全市合计", rows...)
	writeCityJSON(w, http.StatusOK, map[string]any{"city": s.city.name, "towns": rateViews(rows), "total": rateViews([]core.RateRow{total})[0]})
}

// handleTownFigures drills down into one town: its figures by village
// (default) or grid.
func (s *cityStaff) handleTownFigures(w http.ResponseWriter, r *http.Request, _ configs.CityStaffEntry) {
	t, ok := s.city.byKey[r.PathValue("key")]
	if !ok {
		writeCityJSON(w, http.StatusNotFound, map[string]string{"error": "没有这个镇"})
		return
	}
	by := core.Grouping(r.URL.Query().Get("by"))
	switch by {
	case "":
		by = core.ByVillage
	case core.ByVillage, core.ByGrid:
	default:
		writeCityJSON(w, http.StatusBadRequest, map[string]string{"error": "按村（社区）或按网格"})
		return
	}
	rows, err := s.townRates(r.Context(), t, by)
	if err != nil {
		s.city.log.Error("city figures", "town", t.key, "err", err)
		writeCityJSON(w, http.StatusInternalServerError, map[string]string{"error": "服务器出错，请稍后再试"})
		return
	}
	writeCityJSON(w, http.StatusOK, map[string]any{"town": townView{Key: t.key, Name: t.name}, "by": by, "rows": rateViews(rows)})
}

// cityCasesPage is how many cases one page of a town's list holds.
const cityCasesPage = 100

// handleTownCases lists one town's cases as city staff read them
// (core.CityCaseOf: nothing personal), newest first: ?state=open (the
// default) or all, and ?before=NUMBER for the page after.
func (s *cityStaff) handleTownCases(w http.ResponseWriter, r *http.Request, _ configs.CityStaffEntry) {
	t, ok := s.city.byKey[r.PathValue("key")]
	if !ok {
		writeCityJSON(w, http.StatusNotFound, map[string]string{"error": "没有这个镇"})
		return
	}
	q := core.CaseQuery{Limit: cityCasesPage + 1, Before: r.URL.Query().Get("before")}
	if len(q.Before) > 32 {
		writeCityJSON(w, http.StatusBadRequest, map[string]string{"error": "请求格式错误"})
		return
	}
	switch r.URL.Query().Get("state") {
	case "", "open":
		q.States = []core.State{core.StateSubmitted, core.StateAssigned, core.StateInProgress, core.StateReopened}
	case "all":
	default:
		writeCityJSON(w, http.StatusBadRequest, map[string]string{"error": "在办（open）或全部（all）"})
		return
	}
	cases, err := t.app.ledger.Store.Cases(r.Context(), q)
	if err != nil {
		s.city.log.Error("city cases", "town", t.key, "err", err)
		writeCityJSON(w, http.StatusInternalServerError, map[string]string{"error": "服务器出错，请稍后再试"})
		return
	}
	more := len(cases) > cityCasesPage
	if more {
		cases = cases[:cityCasesPage]
	}
	town, now := t.town(), s.now()
	out := make([]core.CityCase, 0, len(cases))
	for i := range cases {
		out = append(out, core.CityCaseOf(town, &cases[i], now))
	}
	writeCityJSON(w, http.StatusOK, map[string]any{"town": townView{Key: t.key, Name: t.name}, "cases": out, "more": more})
}
