package bot_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"gridbot/bot"
)

// A signed URL captured in 2023 is refused in plain mode, messages and
// handshake alike, before anything is answered; so is one signed in the
// future. A timestamp within the window is accepted.
func TestStaleTimestampRefused(t *testing.T) {
	cb, rec := newCallback(t, nil)
	old := strconv.FormatInt(time.Date(2023, 6, 1, 8, 0, 0, 0, time.UTC).Unix(), 10)
	tests := []struct {
		name   string
		ts     string
		status int
	}{
		{"signed in 2023", old, http.StatusForbidden},
		{"six minutes old", strconv.FormatInt(fixedNow.Add(-6*time.Minute).Unix(), 10), http.StatusForbidden},
		{"six minutes ahead", strconv.FormatInt(fixedNow.Add(6*time.Minute).Unix(), 10), http.StatusForbidden},
		{"not a number", "yesterday", http.StatusForbidden},
		{"four minutes old", strconv.FormatInt(fixedNow.Add(-4*time.Minute).Unix(), 10), http.StatusOK},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.calls())
			rr := serve(cb, wechatRequest{body: textXML("o_leader", int64(100+i), "受理"), timestamp: tt.ts}.build(t))
			if rr.Code != tt.status {
				t.Fatalf("message: status %d, want %d", rr.Code, tt.status)
			}
			if answered := len(rec.calls()) - before; (tt.status == http.StatusOK) != (answered == 1) {
				t.Fatalf("the responder was called %d times", answered)
			}
			q := wechatRequest{timestamp: tt.ts}.build(t).URL.Query()
			q.Set("echostr", "42")
			rr = serve(cb, httptest.NewRequest(http.MethodGet, "/wechat?"+q.Encode(), nil))
			if rr.Code != tt.status {
				t.Fatalf("handshake: status %d, want %d", rr.Code, tt.status)
			}
		})
	}
}

// In safe mode an encrypted message sent again two and a half minutes later
// (past the old two-minute dedupe mark, inside the timestamp window) is not
// answered twice; sent again past the window it is refused as stale.
func TestReplayedEncryptedMessageAnsweredOnce(t *testing.T) {
	var mu sync.Mutex
	now := fixedNow
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
	cb, rec := newCallback(t, func(c *bot.CallbackConfig) {
		c.AESKey = keyCurrent
		c.Now = clock
		c.Dedupe = &memEphemeral{Now: clock}
	})
	// The very request, captured: its query and its sealed body.
	captured := wechatRequest{body: textXML("o_res", 7001, "路灯坏了"), aesKey: keyCurrent}.build(t)
	sealed, err := io.ReadAll(captured.Body)
	if err != nil {
		t.Fatal(err)
	}
	replay := func() *httptest.ResponseRecorder {
		return serve(cb, httptest.NewRequest(http.MethodPost, captured.URL.String(), bytes.NewReader(sealed)))
	}
	if rr := replay(); rr.Code != http.StatusOK {
		t.Fatalf("first: status %d", rr.Code)
	}
	advance(150 * time.Second)
	if rr := replay(); rr.Code != http.StatusOK {
		t.Fatalf("replay after 2.5 min: status %d", rr.Code)
	}
	if n := len(rec.calls()); n != 1 {
		t.Fatalf("the message was answered %d times, want once", n)
	}
	advance(3 * time.Minute)
	if rr := replay(); rr.Code != http.StatusForbidden {
		t.Fatalf("replay after 5.5 min: status %d, want 403", rr.Code)
	}
	if n := len(rec.calls()); n != 1 {
		t.Fatalf("the message was answered %d times, want once", n)
	}
}

// MarkTTL keeps a mark until the stamp leaves the window, and never less
// than asked.
func TestFreshnessMarkTTL(t *testing.T) {
	f := bot.Freshness{MaxSkew: 5 * time.Minute, Now: func() time.Time { return fixedNow }}
	for _, tt := range []struct {
		at   time.Time
		want time.Duration
	}{
		{fixedNow, 5*time.Minute + time.Second},
		{fixedNow.Add(-5 * time.Minute), 2 * time.Minute},
		{fixedNow.Add(5 * time.Minute), 10*time.Minute + time.Second},
	} {
		if got := f.MarkTTL(tt.at, 2*time.Minute); got != tt.want {
			t.Errorf("MarkTTL(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
}
