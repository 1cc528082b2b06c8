package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"gridbot/core"
	"gridbot/store/embedded"
)

// dialSince opens the websocket of base (an http:// URL) resuming after
// since.
func dialSince(t *testing.T, base string, cookie *http.Cookie, since uint64) *websocket.Conn {
	t.Helper()
	h := http.Header{}
	h.Set("Origin", base)
	h.Set("Cookie", cookie.Name+"="+cookie.Value)
	url := "ws" + strings.TrimPrefix(base, "http") + "/api/ws?since=" + strconv.FormatUint(since, 10)
	conn, _, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// readEvents reads n event messages (skipping heartbeats) and returns
// their sequence numbers.
func readEvents(t *testing.T, conn *websocket.Conn, n int) []uint64 {
	t.Helper()
	var out []uint64
	for _, m := range readEventMessages(t, conn, n) {
		if m.Seq != m.Event.Seq {
			t.Fatalf("message seq %d, event seq %d", m.Seq, m.Event.Seq)
		}
		out = append(out, m.Seq)
	}
	return out
}

// expectQuiet fails if an event arrives within a short while.
func expectQuiet(t *testing.T, conn *websocket.Conn) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if strings.Contains(string(data), `"type":"event`) { // "event" or "events"
			t.Errorf("unexpected %s", data)
		}
	}
}

func seqs(evs []core.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// reply writes a reply without ringing the feed: the event is only in the
// log, as when another instance wrote it.
func (f *fixture) reply(t *testing.T, number, text string) core.Event {
	t.Helper()
	_, evs, err := f.ledger.Reply(context.Background(), number, "admin", text)
	if err != nil {
		t.Fatal(err)
	}
	return evs[0]
}

func TestLastSeq(t *testing.T) {
	f := newFixture(t)
	for range 37 {
		all, err := f.store.EventsSince(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		got, err := lastSeq(context.Background(), f.store)
		if err != nil || got != all[len(all)-1].Seq {
			t.Fatalf("lastSeq %d (%v), want %d", got, err, all[len(all)-1].Seq)
		}
		f.reply(t, f.cases["g1"], "再一条")
	}
	empty, err := embedded.Open(filepath.Join(t.TempDir(), "empty.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if got, err := lastSeq(context.Background(), empty); got != 0 || err != nil {
		t.Errorf("empty log: %d %v", got, err)
	}
}

// TestFeedResumesWithoutGapOrDuplicate drops the socket between events and
// checks that the page, resuming from the last number it saw, receives
// exactly what it missed, in order, then live events.
func TestFeedResumesWithoutGapOrDuplicate(t *testing.T) {
	f := newFixture(t)
	cookie := f.login(t, "admin")
	head, err := lastSeq(context.Background(), f.store)
	if err != nil {
		t.Fatal(err)
	}
	conn := dialSince(t, f.ts.URL, cookie, head)
	waitClients(t, f.hub, 1)
	first := []core.Event{f.replyAndPublish(t, f.cases["g1"], "admin", "一"), f.replyAndPublish(t, f.cases["g3"], "admin", "二")}
	got := readEvents(t, conn, 2)
	if !equalSeqs(got, seqs(first)) {
		t.Fatalf("live: %v, want %v", got, seqs(first))
	}
	conn.Close() // the network drops
	waitClients(t, f.hub, 0)
	missed := []core.Event{f.reply(t, f.cases["g2"], "三"), f.reply(t, f.cases["g1"], "四"), f.reply(t, f.cases["g3"], "五")}

	conn = dialSince(t, f.ts.URL, cookie, got[len(got)-1])
	// What was missed comes as one message: one write per connection.
	replay := readMessage(t, conn)
	var replayed []uint64
	for _, m := range replay.Events {
		replayed = append(replayed, m.Seq)
	}
	if replay.Type != "events" || !equalSeqs(replayed, seqs(missed)) || replay.Seq != missed[2].Seq {
		t.Fatalf("replayed %s %v (seq %d), want events %v", replay.Type, replayed, replay.Seq, seqs(missed))
	}
	after := f.replyAndPublish(t, f.cases["g2"], "admin", "六")
	if live := readEvents(t, conn, 1); live[0] != after.Seq {
		t.Fatalf("live after replay: %v, want %d", live, after.Seq)
	}
	expectQuiet(t, conn)
}

// TestFeedReadsWithoutDoorbell: an event nobody announced (written by
// another instance) still arrives, by the poll.
func TestFeedReadsWithoutDoorbell(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.hub.poll = 50 * time.Millisecond })
	conn := f.connect(t, "lead1", nil)
	ev := f.reply(t, f.cases["g1"], "别的实例写的")
	if got := readEvents(t, conn, 1); got[0] != ev.Seq {
		t.Fatalf("got %v, want %d", got, ev.Seq)
	}
}

// TestFeedTooFarBehindResyncs: a page further behind than maxReplay is
// told to reload rather than replayed event by event.
func TestFeedTooFarBehindResyncs(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.hub.maxReplay = 3 })
	for range 4 {
		f.reply(t, f.cases["g1"], "积压")
	}
	conn := dialSince(t, f.ts.URL, f.login(t, "admin"), 0)
	if m := readMessage(t, conn); m.Type != "resync" {
		t.Fatalf("first message %+v, want resync", m)
	}
	if code := readUntilClosed(t, conn); code != closeResync {
		t.Errorf("close code %d, want %d", code, closeResync)
	}
	head, _ := lastSeq(context.Background(), f.store)
	conn = dialSince(t, f.ts.URL, f.login(t, "admin"), head-2)
	if got := readEvents(t, conn, 2); got[1] != head {
		t.Errorf("caught up to %v, want %d", got, head)
	}
}

// TestFeedResumesAcrossRestart runs two console servers in turn on the same
// store file: the page, reconnecting to the second with the last number the
// first sent, receives what happened while no server ran, then live events.
func TestFeedResumesAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gridbot.db")
	town := testTown(t)
	now := func() time.Time { return t0 }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	type instance struct {
		store  *embedded.Store
		ledger *core.Ledger
		hub    *Hub
		ts     *httptest.Server
		stop   func()
	}
	start := func() *instance {
		st, err := embedded.Open(path, embedded.Options{CasePrefix: "ST"})
		if err != nil {
			t.Fatal(err)
		}
		in := &instance{store: st, ledger: &core.Ledger{Store: st, Town: town, Now: now}, hub: NewHub(log)}
		srv := &Server{Town: town, Store: st, Ledger: in.ledger, Sessions: st, Log: log, Now: now, Hub: in.hub}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); in.hub.Run(ctx) }()
		in.ts = httptest.NewServer(srv.Handler())
		in.stop = func() {
			cancel()
			<-done
			in.ts.Close()
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
		}
		return in
	}
	ctx := context.Background()
	reply := func(in *instance, number, text string, publish bool) core.Event {
		c, evs, err := in.ledger.Reply(ctx, number, "admin", text)
		if err != nil {
			t.Fatal(err)
		}
		if publish {
			in.hub.Publish(evs[0], c)
		}
		return evs[0]
	}

	one := start()
	c, err := one.ledger.Submit(ctx, "o-res", core.Draft{Category: "road", Text: "路灯", Grid: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{ts: one.ts}
	resp, body := fx.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "admin", Password: password("admin")})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s", body)
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == SessionCookie {
			cookie = ck
		}
	}
	head, _ := lastSeq(ctx, one.store)
	conn := dialSince(t, one.ts.URL, cookie, head)
	waitClients(t, one.hub, 1)
	before := reply(one, c.Number, "重启前", true)
	seen := readEvents(t, conn, 1)
	if seen[0] != before.Seq {
		t.Fatalf("before the restart: %v, want %d", seen, before.Seq)
	}
	one.stop() // the server restarts: the page is cut off
	if code := readUntilClosed(t, conn); code != websocket.CloseGoingAway {
		t.Errorf("close code at shutdown %d", code)
	}

	// While no console runs, the router (here: the ledger) goes on.
	between, err := embedded.Open(path, embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	l := &core.Ledger{Store: between, Town: town, Now: now}
	var missed []uint64
	for _, text := range []string{"重启中一", "重启中二"} {
		_, evs, err := l.Reply(ctx, c.Number, "lead1", text)
		if err != nil {
			t.Fatal(err)
		}
		missed = append(missed, evs[0].Seq)
	}
	if err := between.Close(); err != nil {
		t.Fatal(err)
	}

	two := start()
	defer two.stop()
	conn = dialSince(t, two.ts.URL, cookie, seen[0]) // the login survived the restart
	if got := readEvents(t, conn, 2); !equalSeqs(got, missed) {
		t.Fatalf("after restart: %v, want %v", got, missed)
	}
	live := reply(two, c.Number, "重启后", true)
	if got := readEvents(t, conn, 1); got[0] != live.Seq {
		t.Fatalf("live after restart %v, want %d", got, live.Seq)
	}
	expectQuiet(t, conn)
}
