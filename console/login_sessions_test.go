package console

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gridbot/core"
)

// withClock gives the console a clock the test moves.
func withClock(clock *atomic.Int64) fixtureOption {
	return func(f *fixture) {
		clock.Store(t0.Add(48 * time.Hour).Unix())
		f.srv.Now = func() time.Time { return time.Unix(clock.Load(), 0) }
	}
}

// TestIdleTimeout: a session lives while it is used, ends after the idle
// timeout without a request (and says why), and ends at its lifetime
// however busy.
func TestIdleTimeout(t *testing.T) {
	var clock atomic.Int64
	f := newFixture(t, withClock(&clock), func(f *fixture) {
		f.srv.IdleTimeout, f.srv.SessionTTL = 30*time.Minute, 2*time.Hour
	})
	me := func(c *http.Cookie) (int, string) {
		resp, body := f.request(t, http.MethodGet, "/api/me", c, nil)
		if resp.StatusCode == 200 {
			return 200, ""
		}
		return resp.StatusCode, errorMessage(t, body)
	}
	busy := f.login(t, "lead1")
	for range 5 { // 100 minutes of work, a request every 20
		clock.Add(int64(20 * time.Minute / time.Second))
		if status, msg := me(busy); status != 200 {
			t.Fatalf("a busy session ended at %v: %d %s", time.Unix(clock.Load(), 0), status, msg)
		}
	}
	idle := f.login(t, "lead2")
	clock.Add(int64(29 * time.Minute / time.Second))
	if status, _ := me(idle); status != 200 {
		t.Fatalf("ended before the idle timeout: %d", status)
	}
	clock.Add(int64(31 * time.Minute / time.Second))
	if status, msg := me(idle); status != http.StatusUnauthorized || msg != msgSessionIdle {
		t.Errorf("after 31 idle minutes: %d %q", status, msg)
	}
	// busy was last seen 60 minutes ago too; a fresh busy one reaches its
	// lifetime.
	busy = f.login(t, "cadre1")
	for i := range 7 {
		clock.Add(int64(20 * time.Minute / time.Second))
		status, _ := me(busy)
		if want := map[bool]int{true: 200, false: 401}[i < 5]; status != want {
			t.Errorf("at %d minutes: %d, want %d", (i+1)*20, status, want)
		}
	}
}

// TestNewLoginEndsOlderSessions: with one session per person a new login
// ends the older one — its next request is refused with when and from
// where — and the new login is told; with "allow" both live.
func TestNewLoginEndsOlderSessions(t *testing.T) {
	var clock atomic.Int64
	f := newFixture(t, withAudit, withClock(&clock), func(f *fixture) { f.srv.SingleSession = true })
	older := f.login(t, "lead1")
	clock.Add(60)
	resp, body := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "lead1", Password: password("lead1")})
	if resp.StatusCode != 200 || decode[map[string]any](t, body)["notice"] != msgEndedOthers {
		t.Fatalf("the new login: %d %s", resp.StatusCode, body)
	}
	newer := cookieNamed(resp, SessionCookie)
	resp, body = f.request(t, http.MethodGet, "/api/me", older, nil)
	if msg := errorMessage(t, body); resp.StatusCode != 401 || !strings.Contains(msg, "已在其他地方登录") || !strings.Contains(msg, "127.0.0.1") {
		t.Errorf("the older session: %d %q", resp.StatusCode, msg)
	}
	if resp, _ := f.request(t, http.MethodGet, "/api/me", newer, nil); resp.StatusCode != 200 {
		t.Errorf("the newer session: %d", resp.StatusCode)
	}
	// A first login after a logout ends nothing and says nothing.
	f.request(t, http.MethodPost, "/api/logout", newer, struct{}{})
	resp, body = f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "lead1", Password: password("lead1")})
	if resp.StatusCode != 200 || decode[map[string]any](t, body)["notice"] != nil {
		t.Errorf("a login after a logout: %d %s", resp.StatusCode, body)
	}
	findAudit(t, f.auditRecords(t), core.AuditQuery{Actor: "lead1", Action: core.AuditLogout, Text: "新登录"}, "the older session ended")

	g := newFixture(t)
	a, b := g.login(t, "lead1"), g.login(t, "lead1")
	for _, c := range []*http.Cookie{a, b} {
		if resp, _ := g.request(t, http.MethodGet, "/api/me", c, nil); resp.StatusCode != 200 {
			t.Errorf("allowed concurrent sessions: %d", resp.StatusCode)
		}
	}
}
