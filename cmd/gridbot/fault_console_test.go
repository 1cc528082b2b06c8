package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"gridbot/console"
)

// A console client that never reads is dropped, and nobody else is slowed:
// while it sits on a full socket, a reading console still gets every event
// promptly and residents' answers stay quick.
func TestFaultConsoleNeverReads(t *testing.T) {
	r := boot(t, rigOptions{})
	staff := r.login("town-admin")

	// The stuck client: a tiny receive buffer, and nobody reads it.
	u, _ := http.NewRequest("GET", staff.base, nil)
	header := http.Header{"Origin": {staff.base}}
	for _, ck := range staff.http.Jar.Cookies(u.URL) {
		header.Add("Cookie", ck.String())
	}
	dialer := websocket.Dialer{NetDialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
		return errors.Join(err, serr)
	}}).DialContext, ReadBufferSize: 256}
	stuck, _, err := dialer.Dial("ws"+strings.TrimPrefix(staff.base, "http")+"/api/ws", header)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()

	reader := staff.feed()
	var mu sync.Mutex
	seen := map[string]time.Time{} // case → when its submitted event arrived
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			reader.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, data, err := reader.ReadMessage()
			if err != nil {
				return
			}
			evs, _ := console.DecodeFeed(data)
			for _, ev := range evs {
				if ev.Kind == "submitted" {
					mu.Lock()
					seen[ev.Case] = time.Now()
					mu.Unlock()
				}
			}
		}
	}()

	// Enough cases that the stuck client's buffers overflow, the kernel's
	// included (up to 4 MB on loopback): each case brings several events
	// that carry its 1,900-character description.
	const cases = 200
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sent := map[string]time.Time{}
	var slowest time.Duration
	for i := range cases {
		openid := fmt.Sprintf("oresident-stuck-%d", i)
		for _, text := range []string{"报事", "2", strings.Repeat("路灯不亮，", 380), "10", "1", "跳过"} {
			if _, err := r.sim.SendText(ctx, openid, text); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		reply, err := r.sim.SendText(ctx, openid, "确认")
		if err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
		m := caseNumber.FindStringSubmatch(reply)
		if m == nil {
			t.Fatalf("no case number in %q", reply)
		}
		sent[m[1]] = start
	}
	// The reading console got every case, each quickly.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == cases || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	var worst time.Duration
	for number, at := range sent {
		got, ok := seen[number]
		if !ok {
			t.Errorf("the reading console never got case %s", number)
			continue
		}
		worst = max(worst, got.Sub(at))
	}
	mu.Unlock()
	if worst > 2*time.Second || slowest > 2*time.Second {
		t.Errorf("with a stuck console the slowest event took %s and the slowest 确认 %s", worst, slowest)
	}
	// The stuck client has been dropped: once its buffered messages are
	// read, the connection ends (a close frame, or a reset), well before
	// its read deadline. A hub may drop it at once when its queue for the
	// client overflows, or when one write has blocked for the hub's write
	// timeout (10 s): give it that long before reading unblocks it.
	time.Sleep(12 * time.Second)
	stuck.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		if _, _, err := stuck.ReadMessage(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the client that never read is still connected: %v", err)
			}
			t.Logf("the stuck client ended with: %v; slowest event elsewhere %s, slowest 确认 %s", err, worst, slowest)
			break
		}
	}
}
