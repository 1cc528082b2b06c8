package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"gridbot/internal/valkeytest"
)

// closeCode reads ws until it closes and returns the server's close code.
func closeCode(t *testing.T, ws *websocket.Conn, within time.Duration) int {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(within))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		t.Fatalf("the websocket did not close with a code within %s: %v", within, err)
	}
}

// On Valkey, two instances: a password reset on one ends the person's
// sessions and websockets on both; so do a logout on the other and a
// disable, and an enable does not bring the sessions back; a new login
// works on both.
func TestValkeySessionsEndOnEveryInstance(t *testing.T) {
	addr, prefix := valkeytest.Addr(t), valkeytest.Prefix(t)
	one := []string{"GRIDBOT_SECURITY_PASSWORD_HISTORY=1"}
	a := boot(t, rigOptions{valkey: addr, prefix: prefix, environ: one})
	b := boot(t, rigOptions{valkey: addr, prefix: prefix, peer: a, environ: one})
	const who = "gl-L10-a"
	onA, onB := a.login(who), b.login(who)
	feedA, feedB := onA.feed(), onB.feed()

	admin := a.login("sys-admin")
	// A new password: the policy refuses the one they have.
	if status := admin.post("/api/staff/"+who+"/password", map[string]string{"password": testPassword}, nil); status != 400 {
		t.Fatalf("reset to the same password: %d, want 400", status)
	}
	if status := admin.post("/api/staff/"+who+"/password", map[string]string{"password": "E2e-another-pw1"}, nil); status != 200 {
		t.Fatalf("reset: %d", status)
	}
	for name, ws := range map[string]*websocket.Conn{"A": feedA, "B": feedB} {
		if code := closeCode(t, ws, 3*time.Second); code != 4001 {
			t.Errorf("websocket on %s closed with %d, want 4001", name, code)
		}
	}
	for _, c := range []*staffClient{onA, onB} {
		for _, r := range []*rig{a, b} {
			c.base = r.urls.Console[:len(r.urls.Console)-1]
			if status := c.get("/api/me", nil); status != http.StatusUnauthorized {
				t.Errorf("an old session on %s: %d", c.base, status)
			}
		}
	}

	// Back to the rig's password (the test remembers only the current one).
	if status := admin.post("/api/staff/"+who+"/password", map[string]string{"password": testPassword}, nil); status != 200 {
		t.Fatalf("reset back: %d", status)
	}
	// Logged in again on both; a logout on B ends A's session and feed.
	onA, onB = a.login(who), b.login(who)
	feedA = onA.feed()
	if status := onB.post("/api/logout", struct{}{}, nil); status != 200 {
		t.Fatalf("logout: %d", status)
	}
	if code := closeCode(t, feedA, 3*time.Second); code != 4001 {
		t.Errorf("websocket on A after a logout on B: %d, want 4001", code)
	}
	if status := onA.get("/api/me", nil); status != http.StatusUnauthorized {
		t.Errorf("session on A after a logout on B: %d", status)
	}
	if status := a.login(who).get("/api/me", nil); status != 200 {
		t.Errorf("a new login: %d", status)
	}

	// Disabled on A: B's session and feed end; enabled again, the old
	// session stays ended.
	onB = b.login(who)
	feedB = onB.feed()
	if status := admin.post("/api/staff/"+who+"/disable", map[string]bool{"disabled": true}, nil); status != 200 {
		t.Fatalf("disable: %d", status)
	}
	if code := closeCode(t, feedB, 3*time.Second); code != 4001 {
		t.Errorf("websocket on B after a disable on A: %d, want 4001", code)
	}
	if status := admin.post("/api/staff/"+who+"/disable", map[string]bool{"disabled": false}, nil); status != 200 {
		t.Fatalf("enable: %d", status)
	}
	// Asked on A, whose staff book already has the account enabled.
	onB.base = a.urls.Console[:len(a.urls.Console)-1]
	if status := onB.get("/api/me", nil); status != http.StatusUnauthorized {
		t.Errorf("a session from before the disable, after the enable: %d", status)
	}
	if status := a.login(who).get("/api/me", nil); status != 200 {
		t.Errorf("a new login after the enable: %d", status)
	}
}

// On Valkey, 1,000 wrong passwords for one account sent at once to two
// instances reach the password check at most 5 times. The client keeps to
// 100 connections per instance, under the listener's per-address bound
// (http.max_conns_per_addr), which would otherwise refuse connections
// before the login limit is reached.
func TestValkeyParallelGuesses(t *testing.T) {
	addr, prefix := valkeytest.Addr(t), valkeytest.Prefix(t)
	a := boot(t, rigOptions{valkey: addr, prefix: prefix})
	b := boot(t, rigOptions{valkey: addr, prefix: prefix, peer: a})
	body, _ := json.Marshal(map[string]string{"username": "gl-L10-a", "password": "wrong-guess"})
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 100, MaxIdleConnsPerHost: 100}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 1000 {
		base := []*rig{a, b}[i%2].urls.Console
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, base+"api/login", bytes.NewReader(body))
			req.Header.Set("Origin", base[:len(base)-1])
			req.Header.Set("X-Requested-With", "gridbot")
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	t.Logf("answers: %v", codes)
	if codes[http.StatusUnauthorized] > 5 || codes[http.StatusUnauthorized]+codes[http.StatusTooManyRequests] != 1000 {
		t.Errorf("answers %v: want at most 5 checked (401), the rest 429", codes)
	}
	c := &staffClient{r: a, http: &http.Client{Timeout: 5 * time.Second}, base: a.urls.Console[:len(a.urls.Console)-1]}
	if status := c.post("/api/login", map[string]string{"username": "gl-L10-a", "password": testPassword}, nil); status != http.StatusTooManyRequests {
		t.Errorf("the right password within the window: %d, want 429", status)
	}
}
