package console

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"gridbot/internal/clientaddr"
	"gridbot/store/embedded"
	"gridbot/store/storetest"
)

// withKeyClock gives the fixture's logins a store on a clock the test moves.
func withKeyClock(clock *storetest.Clock) fixtureOption {
	return func(f *fixture) { f.srv.Sessions = &embedded.MemoryKeys{Now: clock.Now} }
}

// withProxy makes the test server's own address (loopback) a trusted proxy.
func withProxy(t *testing.T) fixtureOption {
	return func(f *fixture) {
		p, err := clientaddr.Parse([]string{"127.0.0.1", "::1"})
		if err != nil {
			t.Fatal(err)
		}
		f.srv.Proxies = p
	}
}

// from sends the request as a proxy would for a client at addr.
func from(addr string) func(*http.Request) {
	return withHeader("X-Forwarded-For", addr)
}

func (f *fixture) tryLogin(t *testing.T, user, pass string, edit ...func(*http.Request)) (int, string) {
	t.Helper()
	resp, body := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: user, Password: pass}, edit...)
	msg := ""
	if resp.StatusCode != http.StatusOK {
		msg = errorMessage(t, body)
	}
	return resp.StatusCode, msg
}

// TestLoginParallelGuesses: a thousand wrong passwords for one account sent
// at once reach bcrypt at most maxPairAttempts times (each attempt is
// counted, atomically, before it is checked); the right password is then
// refused until the window has passed, and works after it.
func TestLoginParallelGuesses(t *testing.T) {
	clock := &storetest.Clock{}
	f := newFixture(t, withKeyClock(clock))
	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 1000 {
		wg.Go(func() {
			<-start
			code, _ := f.tryLogin(t, "lead1", "guess")
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if codes[http.StatusUnauthorized] > maxPairAttempts || codes[http.StatusUnauthorized]+codes[http.StatusTooManyRequests] != 1000 {
		t.Fatalf("answers %v: want at most %d checked (401), the rest refused unchecked (429)", codes, maxPairAttempts)
	}
	t.Logf("1000 parallel guesses: %v", codes)
	if code, msg := f.tryLogin(t, "lead1", password("lead1")); code != http.StatusTooManyRequests || msg != msgTooMany {
		t.Fatalf("right password within the window: %d %q", code, msg)
	}
	clock.Advance(loginWindow + time.Second)
	if code, msg := f.tryLogin(t, "lead1", password("lead1")); code != http.StatusOK {
		t.Fatalf("right password after the window: %d %q", code, msg)
	}
}

// TestLoginBehindProxy: behind a trusted proxy each client is counted at
// its own address, so one address's failures stop only that address; the
// headers of a client that is not a proxy are ignored, and what a client
// writes into X-Forwarded-For before the proxy's own hop does not count.
func TestLoginBehindProxy(t *testing.T) {
	f := newFixture(t, withProxy(t), func(f *fixture) { f.srv.addrFailures = 8 })
	// One address tries many names, and its left part of the header
	// changes every time, as a forger's would.
	for i := range 12 {
		f.tryLogin(t, "nobody"+string(rune('a'+i)), "x", from("10.9.9."+string(rune('0'+i%10))+", 198.51.100.66"))
	}
	if code, _ := f.tryLogin(t, "lead2", password("lead2"), from("198.51.100.66")); code != http.StatusTooManyRequests {
		t.Errorf("the flooding address itself: %d, want 429", code)
	}
	if code, msg := f.tryLogin(t, "lead2", password("lead2"), from("198.51.100.7")); code != http.StatusOK {
		t.Errorf("another user at another address: %d %q", code, msg)
	}

	// Without trusted proxies the same headers are a client's own words:
	// every request counts against the connection's address.
	g := newFixture(t, func(f *fixture) { f.srv.addrFailures = 8 })
	for i := range 12 {
		g.tryLogin(t, "nobody"+string(rune('a'+i)), "x", from("198.51.100."+string(rune('0'+i%10))))
	}
	if code, _ := g.tryLogin(t, "lead2", password("lead2"), from("198.51.100.200")); code != http.StatusTooManyRequests {
		t.Errorf("forged X-Forwarded-For escaped the address limit: %d", code)
	}
}

// TestAccountLimitSlowsStrangers: guesses at one account from many
// addresses are checked accountFreeAttempts times, then about one per wait;
// meanwhile the holder logs in from an address they used before at once,
// and from a new one after the wait.
func TestAccountLimitSlowsStrangers(t *testing.T) {
	clock := &storetest.Clock{}
	f := newFixture(t, withKeyClock(clock), withProxy(t))
	const home = "198.51.100.7"
	if code, msg := f.tryLogin(t, "lead1", password("lead1"), from(home)); code != http.StatusOK {
		t.Fatalf("first login: %d %q", code, msg)
	}
	checked := 0
	for i := range 40 {
		code, _ := f.tryLogin(t, "lead1", "guess", from("203.0.113."+string(rune('0'+i/10))+string(rune('0'+i%10))))
		if code == http.StatusUnauthorized {
			checked++
		}
	}
	if checked > accountFreeAttempts+1 {
		t.Errorf("%d of 40 guesses from 40 addresses checked, want at most %d", checked, accountFreeAttempts+1)
	}
	if code, msg := f.tryLogin(t, "lead1", password("lead1"), from(home)); code != http.StatusOK {
		t.Errorf("holder from a known address during the flood: %d %q", code, msg)
	}
	code, msg := f.tryLogin(t, "lead1", password("lead1"), from("192.0.2.1"))
	if code != http.StatusTooManyRequests || msg != msgAccountBusy {
		t.Errorf("holder from a new address during the wait: %d %q", code, msg)
	}
	clock.Advance(accountWait(40) + time.Second)
	if code, msg := f.tryLogin(t, "lead1", password("lead1"), from("192.0.2.1")); code != http.StatusOK {
		t.Errorf("holder from a new address after the wait: %d %q", code, msg)
	}
	// Other accounts never noticed.
	if code, msg := f.tryLogin(t, "lead2", password("lead2"), from("203.0.113.1")); code != http.StatusOK {
		t.Errorf("another account: %d %q", code, msg)
	}
}

func TestAccountWaitDoubles(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want time.Duration
	}{
		{accountFreeAttempts + 1, time.Minute},
		{2 * accountFreeAttempts, time.Minute},
		{2*accountFreeAttempts + 1, 2 * time.Minute},
		{3*accountFreeAttempts + 1, 4 * time.Minute},
		{4*accountFreeAttempts + 1, 8 * time.Minute},
		{5*accountFreeAttempts + 1, loginWindow},
		{1 << 40, loginWindow},
	} {
		if got := accountWait(tt.n); got != tt.want {
			t.Errorf("accountWait(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}
