package console

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"gridbot/core"
)

// dial opens the console websocket as a browser on origin would.
func (f *fixture) dial(t *testing.T, cookie *http.Cookie, origin string, dialer *websocket.Dialer) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if cookie != nil {
		h.Set("Cookie", cookie.Name+"="+cookie.Value)
	}
	if dialer == nil {
		dialer = websocket.DefaultDialer
	}
	conn, resp, err := dialer.Dial("ws"+strings.TrimPrefix(f.ts.URL, "http")+"/api/ws", h)
	if conn != nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, resp, err
}

// connect opens a websocket for staff member id and waits until the hub
// counts it.
func (f *fixture) connect(t *testing.T, id string, dialer *websocket.Dialer) *websocket.Conn {
	t.Helper()
	before := f.hub.Clients()
	conn, _, err := f.dial(t, f.login(t, id), f.ts.URL, dialer)
	if err != nil {
		t.Fatalf("dial as %s: %v", id, err)
	}
	waitClients(t, f.hub, before+1)
	return conn
}

func waitClients(t *testing.T, h *Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.Clients() != n {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d clients, want %d", h.Clients(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readMessage(t *testing.T, conn *websocket.Conn) wireMessage {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	kind, data, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if kind != websocket.TextMessage {
		t.Fatalf("message kind %d", kind)
	}
	var m wireMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("message %s: %v", data, err)
	}
	return m
}

// readEventMessages reads n events (skipping heartbeats), unpacking
// "events" messages; more than n at once is a failure.
func readEventMessages(t *testing.T, conn *websocket.Conn, n int) []wireMessage {
	t.Helper()
	var out []wireMessage
	for len(out) < n {
		switch m := readMessage(t, conn); m.Type {
		case "event":
			out = append(out, m)
		case "events":
			if len(m.Events) < 2 || m.Seq != m.Events[len(m.Events)-1].Seq {
				t.Fatalf("events message %+v", m)
			}
			out = append(out, m.Events...)
		}
	}
	if len(out) > n {
		t.Fatalf("%d events, want %d", len(out), n)
	}
	return out
}

// readUntilClosed reads until the connection fails and returns the close
// code the server sent, or 0 when it closed without one.
func readUntilClosed(t *testing.T, conn *websocket.Conn) int {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server did not close the connection")
		}
		return 0
	}
}

// replyAndPublish writes a staff reply to the ledger and hands its events to
// the hub, as the router does.
func (f *fixture) replyAndPublish(t *testing.T, number, staff, text string) core.Event {
	t.Helper()
	c, evs, err := f.ledger.Reply(context.Background(), number, staff, text)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		f.hub.Publish(ev, c)
	}
	return evs[len(evs)-1]
}

func TestHubSendsOnlyVisibleEvents(t *testing.T) {
	f := newFixture(t)
	g1, g3 := f.cases["g1"], f.cases["g3"]
	conns := map[string]*websocket.Conn{}
	for _, id := range []string{"admin", "cadre1", "lead1", "lead2"} {
		conns[id] = f.connect(t, id, nil)
	}
	a := f.replyAndPublish(t, g1, "lead1", "第一条")
	b := f.replyAndPublish(t, g3, "lead2", "第二条")
	c := f.replyAndPublish(t, g1, "lead1", "第三条")
	d := f.replyAndPublish(t, g3, "lead2", "第四条")

	tests := []struct {
		staff string
		want  []core.Event
	}{
		{"admin", []core.Event{a, b, c, d}},
		{"cadre1", []core.Event{a, c}},
		{"lead1", []core.Event{a, c}},
		{"lead2", []core.Event{b, d}},
	}
	for _, tt := range tests {
		t.Run(tt.staff, func(t *testing.T) {
			conn := conns[tt.staff]
			for i, m := range readEventMessages(t, conn, len(tt.want)) {
				want := tt.want[i]
				if m.Type != "event" || m.Event.Seq != want.Seq || m.Event.Case != want.Case || m.Case.Number != want.Case {
					t.Fatalf("got %s #%d on %s, want #%d on %s", m.Type, m.Event.Seq, m.Event.Case, want.Seq, want.Case)
				}
				if m.Event.Kind != core.EventReplied || m.Event.Label != "回复居民" || m.Event.Text != want.Text ||
					m.Event.ActorName == "" || m.Case.StateLabel != "办理中" {
					t.Errorf("message %+v", m)
				}
				if m.Case.Phone != "138****5678" {
					t.Errorf("the feed shows phone %q", m.Case.Phone)
				}
			}
			// Nothing else may follow.
			_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, data, err := conn.ReadMessage(); err == nil {
				t.Errorf("unexpected message %s", data)
			}
		})
	}
}

func TestWebsocketRefused(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.srv.AllowedOrigins = []string{"https://console.example.org"} })
	cookie := f.login(t, "admin")
	forged := &http.Cookie{Name: SessionCookie, Value: "forged"}
	tests := []struct {
		name   string
		cookie *http.Cookie
		origin string
		want   int
	}{
		{"same origin", cookie, f.ts.URL, http.StatusSwitchingProtocols},
		{"allowed origin", cookie, "https://console.example.org", http.StatusSwitchingProtocols},
		{"foreign origin", cookie, "https://evil.example.com", http.StatusForbidden},
		{"no origin", cookie, "", http.StatusForbidden},
		{"no cookie", nil, f.ts.URL, http.StatusUnauthorized},
		{"forged cookie", forged, f.ts.URL, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, resp, err := f.dial(t, tt.cookie, tt.origin, nil)
			if resp == nil {
				t.Fatalf("no handshake answer: %v", err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tt.want, err)
			}
			if tt.want != http.StatusSwitchingProtocols {
				if conn != nil || !errors.Is(err, websocket.ErrBadHandshake) {
					t.Errorf("refused handshake: conn %v err %v", conn, err)
				}
				return
			}
			conn.Close()
		})
	}
}

func TestHubClosesHostileClient(t *testing.T) {
	f := newFixture(t)
	good := f.connect(t, "admin", nil)
	tests := []struct {
		name     string
		send     func(conn *websocket.Conn) error
		wantCode int // 0: any way of closing
	}{
		{"oversized message", func(conn *websocket.Conn) error {
			return conn.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 10<<10)))
		}, websocket.CloseMessageTooBig},
		{"binary message", func(conn *websocket.Conn) error {
			return conn.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2, 3})
		}, websocket.CloseUnsupportedData},
		{"text message", func(conn *websocket.Conn) error {
			return conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","all":true}`))
		}, websocket.ClosePolicyViolation},
		{"broken frame", func(conn *websocket.Conn) error {
			_, err := conn.NetConn().Write([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			return err
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hostile := f.connect(t, "lead1", nil)
			if err := tt.send(hostile); err != nil {
				// The server may drop the connection before the client has
				// finished writing (an oversized frame): closed all the same.
				hostile.Close()
			} else if code := readUntilClosed(t, hostile); tt.wantCode != 0 && code != tt.wantCode {
				t.Errorf("close code %d, want %d", code, tt.wantCode)
			}
			waitClients(t, f.hub, 1)

			ev := f.replyAndPublish(t, f.cases["g2"], "lead1", "照常推送："+tt.name)
			if m := readEventMessages(t, good, 1)[0]; m.Event.Seq != ev.Seq {
				t.Errorf("good client got #%d, want #%d", m.Event.Seq, ev.Seq)
			}
		})
	}
}

func TestHubRunStopClosesClients(t *testing.T) {
	f := newFixture(t)
	a := f.connect(t, "admin", nil)
	b := f.connect(t, "lead2", nil)

	stopped := make(chan struct{})
	go func() {
		f.stopHub()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	for _, conn := range []*websocket.Conn{a, b} {
		if code := readUntilClosed(t, conn); code != websocket.CloseGoingAway {
			t.Errorf("close code %d, want %d", code, websocket.CloseGoingAway)
		}
	}
	if n := f.hub.Clients(); n != 0 {
		t.Errorf("%d clients after Run returned", n)
	}

	// A client arriving after the hub stopped is closed at once.
	late, _, err := f.dial(t, f.login(t, "admin"), f.ts.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code := readUntilClosed(t, late); code != websocket.CloseGoingAway {
		t.Errorf("late client close code %d", code)
	}
	// Publishing to a stopped hub neither blocks nor panics.
	f.hub.Publish(core.Event{Seq: 1, Case: f.cases["g1"]}, core.Case{Number: f.cases["g1"]})
}

func TestPublishNeverBlocks(t *testing.T) {
	h := NewHub(nil)       // not running
	bell := *h.bell.Load() // as a feed holds it while it reads the log
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10000 {
			h.Publish(core.Event{Seq: uint64(i + 1), Case: "ST1"}, core.Case{Number: "ST1"})
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked")
	}
	select {
	case <-bell:
	default:
		t.Error("the feeds were not woken")
	}
}
