package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"gridbot/core"
	"gridbot/store/embedded"
	"gridbot/store/storetest"
)

// townSwitch is a core.TownSource a test can switch while servers read it.
type townSwitch struct{ v atomic.Value } // of townFrom

type townFrom struct{ core.TownSource }

func (s *townSwitch) Town() *core.Town        { return s.v.Load().(townFrom).Town() }
func (s *townSwitch) set(src core.TownSource) { s.v.Store(townFrom{src}) }

// switchable puts f's servers' town behind sw (after withBook).
func switchable(sw *townSwitch) fixtureOption {
	return func(f *fixture) {
		sw.set(f.srv.Town)
		f.srv.Town = sw
	}
}

// quickSessionChecks makes the fixture's hub check sessions every 20 ms.
func quickSessionChecks(f *fixture) { f.hub.sessionEvery = 20 * time.Millisecond }

// instance is a second console on the fixture's store, as a second process
// sharing a Valkey would be: its own hub, its own staff book.
type instance struct {
	srv *Server
	hub *Hub
	ts  *httptest.Server
}

// town, when not nil, replaces the instance's own book as its town.
func (f *fixture) secondInstance(t *testing.T, town core.TownSource) *instance {
	t.Helper()
	book, err := core.NewStaffBook(context.Background(), f.town, f.store)
	if err != nil {
		t.Fatal(err)
	}
	if town == nil {
		town = book
	}
	in := &instance{hub: NewHub(nil)}
	in.hub.sessionEvery = 20 * time.Millisecond
	in.srv = &Server{Town: town, Store: f.store, Ledger: f.ledger, Sessions: f.srv.Sessions, Log: f.srv.Log,
		Now: f.srv.Now, Hub: in.hub, Book: book, hashCost: f.srv.hashCost}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); in.hub.Run(ctx) }()
	in.ts = httptest.NewServer(in.srv.Handler())
	t.Cleanup(in.ts.Close)
	t.Cleanup(func() { cancel(); <-done })
	return in
}

// dialAt opens a websocket on the server at base with cookie.
func dialAt(t *testing.T, base string, cookie *http.Cookie) *websocket.Conn {
	t.Helper()
	h := http.Header{"Origin": {base}, "Cookie": {cookie.Name + "=" + cookie.Value}}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/ws", h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (%d)", base, err, status)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// meAt asks who the cookie is, at the server at base.
func meAt(t *testing.T, base string, cookie *http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/me", nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// closedWithin reads conn until it closes and returns the close code and
// how long that took.
func closedWithin(t *testing.T, conn *websocket.Conn) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	code := readUntilClosed(t, conn)
	return code, time.Since(start)
}

// withStaffEdited returns f's town with edit applied to staff member id.
func withStaffEdited(t *testing.T, town *core.Town, id string, edit func(*core.Staff)) *core.Town {
	t.Helper()
	changed := *town
	changed.Staff = slices.Clone(town.Staff)
	for i := range changed.Staff {
		if changed.Staff[i].ID == id {
			edit(&changed.Staff[i])
		}
	}
	out, err := core.NewTown(changed)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSessionsEndEverywhere: a password reset, a disable, a logout and a
// role or scope change end every session of that person at once: their other
// logins are refused on both instances, their websockets on this instance
// close at once and on the other within its session check, and a new login
// works (with the new password).
func TestSessionsEndEverywhere(t *testing.T) {
	tests := []struct {
		name     string
		act      func(t *testing.T, f *fixture, town *townSwitch, own *http.Cookie)
		password string // to log in again afterwards; "" when they cannot
	}{
		{"password reset", func(t *testing.T, f *fixture, _ *townSwitch, _ *http.Cookie) {
			resp, body := f.request(t, http.MethodPost, "/api/staff/dept1/password", f.login(t, "sysadm"), map[string]string{"password": "a-new-password"})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("reset: %d %s", resp.StatusCode, body)
			}
		}, "a-new-password"},
		{"disable", func(t *testing.T, f *fixture, _ *townSwitch, _ *http.Cookie) {
			resp, body := f.request(t, http.MethodPost, "/api/staff/dept1/disable", f.login(t, "sysadm"), map[string]bool{"disabled": true})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("disable: %d %s", resp.StatusCode, body)
			}
		}, ""},
		{"logout", func(t *testing.T, f *fixture, _ *townSwitch, own *http.Cookie) {
			resp, body := f.request(t, http.MethodPost, "/api/logout", own, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("logout: %d %s", resp.StatusCode, body)
			}
		}, password("dept1")},
		{"role change in the directory", func(t *testing.T, f *fixture, sw *townSwitch, _ *http.Cookie) {
			town := withStaffEdited(t, f.town, "dept1", func(s *core.Staff) { s.Role, s.Department = core.RoleTown, "" })
			sw.set(town)
		}, password("dept1")},
		{"scope change in the directory", func(t *testing.T, f *fixture, sw *townSwitch, _ *http.Cookie) {
			town := withStaffEdited(t, f.town, "dept1", func(s *core.Staff) { s.Department = "pcs" })
			sw.set(town)
		}, password("dept1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw := &townSwitch{}
			f := newFixture(t, withBook(t), switchable(sw), quickSessionChecks)
			var town core.TownSource
			if strings.Contains(tt.name, "directory") {
				town = sw // the directory file is the same for both
			}
			other := f.secondInstance(t, town)
			own, here, there := f.login(t, "dept1"), f.login(t, "dept1"), f.login(t, "dept1")
			wsHere, wsThere := dialAt(t, f.ts.URL, here), dialAt(t, other.ts.URL, there)
			colleague := f.login(t, "lead2")
			wsColleague := dialAt(t, other.ts.URL, colleague)
			waitClients(t, f.hub, 1)
			waitClients(t, other.hub, 2)

			tt.act(t, f, sw, own)

			for _, c := range []*http.Cookie{own, here, there} {
				for _, base := range []string{f.ts.URL, other.ts.URL} {
					if got := meAt(t, base, c); got != http.StatusUnauthorized {
						t.Errorf("an old session still answers %d", got)
					}
				}
			}
			if code, took := closedWithin(t, wsHere); code != closeSessionEnded || took > time.Second {
				t.Errorf("websocket on this instance: close %d after %s, want %d at once", code, took, closeSessionEnded)
			}
			if code, took := closedWithin(t, wsThere); code != closeSessionEnded || took > 2*time.Second {
				t.Errorf("websocket on the other instance: close %d after %s, want %d within the check", code, took, closeSessionEnded)
			}
			// Somebody else is untouched.
			if got := meAt(t, other.ts.URL, colleague); got != http.StatusOK {
				t.Errorf("colleague's session: %d", got)
			}
			waitClients(t, other.hub, 1)
			_ = wsColleague
			if tt.password != "" {
				c := f.loginAs(t, "dept1", tt.password)
				if got := meAt(t, other.ts.URL, c); got != http.StatusOK {
					t.Errorf("a new login after it: %d", got)
				}
			}
		})
	}
}

// TestReenabledAccountStartsAfresh: enabling an account again does not
// bring back the sessions it had before it was disabled.
func TestReenabledAccountStartsAfresh(t *testing.T) {
	f := newFixture(t, withBook(t))
	old := f.login(t, "lead1")
	admin := f.login(t, "sysadm")
	for _, disabled := range []bool{true, false} {
		if resp, body := f.request(t, http.MethodPost, "/api/staff/lead1/disable", admin, map[string]bool{"disabled": disabled}); resp.StatusCode != http.StatusOK {
			t.Fatalf("disabled=%v: %d %s", disabled, resp.StatusCode, body)
		}
	}
	if got := meAt(t, f.ts.URL, old); got != http.StatusUnauthorized {
		t.Errorf("a session from before the disable answers %d after the enable", got)
	}
	if got := meAt(t, f.ts.URL, f.login(t, "lead1")); got != http.StatusOK {
		t.Errorf("a new login: %d", got)
	}
}

// TestWebsocketEndsWithSession: a websocket closes when its session's
// lifetime is over, though nobody logged out.
func TestWebsocketEndsWithSession(t *testing.T) {
	clock := &storetest.Clock{}
	f := newFixture(t, quickSessionChecks, func(f *fixture) {
		f.srv.Sessions = &embedded.MemoryKeys{Now: clock.Now}
		f.srv.SessionTTL = time.Hour
	})
	conn := f.connect(t, "lead1", nil)
	time.Sleep(100 * time.Millisecond) // several checks: the session holds
	if n := f.hub.Clients(); n != 1 {
		t.Fatalf("a live session's websocket closed: %d clients", n)
	}
	clock.Advance(time.Hour + time.Second)
	if code, took := closedWithin(t, conn); code != closeSessionEnded || took > 2*time.Second {
		t.Errorf("close %d after %s, want %d", code, took, closeSessionEnded)
	}
}

// TestWebsocketLimits: one person, or one address, holds only so many
// websockets; a closed one frees its place, and other people are not
// affected by one person's limit.
func TestWebsocketLimits(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.hub.maxPerStaff, f.hub.maxPerAddr = 3, 5 })
	cookie := f.login(t, "lead1")
	var conns []*websocket.Conn
	for range 3 {
		conns = append(conns, dialAt(t, f.ts.URL, cookie))
	}
	waitClients(t, f.hub, 3)
	_, resp, err := f.dial(t, cookie, f.ts.URL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth websocket of one person: %v %v", err, resp)
	}
	conns[0].Close()
	waitClients(t, f.hub, 2)
	dialAt(t, f.ts.URL, cookie)
	waitClients(t, f.hub, 3)
	// The address (every test client is 127.0.0.1) has room for two more,
	// whoever they are.
	lead2 := f.login(t, "lead2")
	dialAt(t, f.ts.URL, lead2)
	dialAt(t, f.ts.URL, f.login(t, "admin"))
	waitClients(t, f.hub, 5)
	if _, resp, err := f.dial(t, lead2, f.ts.URL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("websocket past the address limit: %v %v", err, resp)
	}
}
