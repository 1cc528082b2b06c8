package valkey_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/routing"
	"gridbot/routing/valkeystream"
	"gridbot/store"
	"gridbot/store/storetest"
	"gridbot/store/valkey"
)

func TestMain(m *testing.M) { valkeytest.Main(m) }

// open opens a store on the test server under prefix, closed at cleanup.
func open(t testing.TB, prefix string, now func() time.Time) *valkey.Store {
	t.Helper()
	s, err := valkey.Open(context.Background(), valkey.Options{
		Addr: []string{valkeytest.Addr(t)}, Prefix: prefix, CasePrefix: "ST", Now: now, Search: storetest.SearchRule,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBehaviour(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		return open(t, valkeytest.Prefix(t), clock.Now)
	})
}

// Lists of records are cached by each instance, and a change made through
// another instance reaches it at once, not when the cache entry expires.
func TestRecordCacheFollowsOtherInstances(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	a, b := open(t, prefix, nil), open(t, prefix, nil)
	for i, want := range []string{"gl-L10-a", "gl-L10-b", ""} {
		switch want {
		case "":
			if err := b.DeleteRecord(ctx, "bindings", "o1"); err != nil {
				t.Fatal(err)
			}
		default:
			if err := b.PutRecord(ctx, "bindings", "o1", []byte(want)); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(time.Second)
		for {
			all, err := a.RecordsIn(ctx, "bindings")
			if err != nil {
				t.Fatal(err)
			}
			v, ok := all["o1"]
			if string(v) == want && ok == (want != "") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("step %d: instance a still reads %q (%v), want %q", i, v, ok, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// streamEvents reads every entry of the case events stream back as events.
func streamEvents(t *testing.T, s *valkey.Store, prefix string) []core.Event {
	t.Helper()
	c := s.Client()
	key := valkeystream.StreamKey(prefix, routing.TopicCaseEvents)
	entries, err := c.Do(context.Background(), c.B().Xrange().Key(key).Start("-").End("+").Build()).AsXRange()
	if err != nil {
		t.Fatal(err)
	}
	var out []core.Event
	for _, e := range entries {
		msg, err := valkeystream.MessageFromFields(e.FieldValues)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := routing.DecodeEvent(msg)
		if err != nil {
			t.Fatal(err)
		}
		if msg.UUID != ev.ID() {
			t.Errorf("entry %s: UUID %s, event seq %d", e.ID, msg.UUID, ev.Seq)
		}
		out = append(out, ev)
	}
	return out
}

func newCase(now time.Time, text string) (core.Case, core.Event) {
	return core.Case{State: core.StateSubmitted, Category: "env", Text: text, Grid: "g1", Village: "v1",
			Resident: "o1", CreatedAt: now, UpdatedAt: now},
		core.Event{Kind: core.EventSubmitted, Actor: core.ActorResident, At: now}
}

func createCase(ctx context.Context, s *valkey.Store, now time.Time, text string) (core.Case, core.Event, error) {
	c, ev := newCase(now, text)
	return s.CreateCase(ctx, c, ev)
}

// The events of a created and an updated case are on the transport's stream,
// each exactly once, with the sequence numbers the store gave them.
func TestStreamCarriesEachEventOnce(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, nil)
	// Text that looks like the script's placeholder must come through as it is.
	text := `路灯坏了 "seq":18446744073709551615 18446744073709551615`
	c, first, err := createCase(ctx, s, time.Now(), text)
	if err != nil {
		t.Fatal(err)
	}
	_, evs, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
		c.State = core.StateAssigned
		return []core.Event{
			{Kind: core.EventAssigned, Actor: core.ActorSystem, At: time.Now(), Data: map[string]string{"seq": "18446744073709551615"}},
			{Kind: core.EventReplied, Actor: "s1", Text: text, At: time.Now()},
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]core.Event{first}, evs...)
	got := streamEvents(t, s, prefix)
	if len(got) != len(want) {
		t.Fatalf("stream holds %d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || got[i].Case != c.Number || got[i].Kind != want[i].Kind || got[i].Text != want[i].Text {
			t.Errorf("stream event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got[1].Data["seq"] != "18446744073709551615" {
		t.Errorf("event data changed: %v", got[1].Data)
	}
	stored, err := s.Case(ctx, c.Number)
	if err != nil || stored.Text != text {
		t.Fatalf("stored case text %q, %v", stored.Text, err)
	}
	log, err := s.Events(ctx, c.Number)
	if err != nil || len(log) != 3 || log[2].Text != text || log[2].Seq != evs[1].Seq {
		t.Fatalf("case log %+v, %v", log, err)
	}

	// A failed update adds nothing to the stream.
	if _, _, err := s.UpdateCase(ctx, c.Number, func(*core.Case) ([]core.Event, error) { return nil, core.ErrNoChange }); !errors.Is(err, core.ErrNoChange) {
		t.Fatalf("no-change update: %v", err)
	}
	if got := streamEvents(t, s, prefix); len(got) != len(want) {
		t.Fatalf("stream grew to %d after a failed update", len(got))
	}
}

// Two instances (two clients) updating one case lose nothing, and the
// sequence numbers stay gap-free and in commit order.
func TestConcurrentUpdatesAcrossInstances(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	a, b := open(t, prefix, nil), open(t, prefix, nil)
	c, _, err := createCase(ctx, a, time.Now(), "x")
	if err != nil {
		t.Fatal(err)
	}
	const perInstance = 15
	var wg sync.WaitGroup
	for _, s := range []*valkey.Store{a, b} {
		for range perInstance {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
					c.Rating++
					return []core.Event{{Kind: core.EventReplied, Actor: "s1", At: time.Now()}}, nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	got, err := b.Case(ctx, c.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rating != 2*perInstance || got.Version != 1+2*perInstance {
		t.Fatalf("rating %d version %d, want %d and %d", got.Rating, got.Version, 2*perInstance, 1+2*perInstance)
	}
	all, err := a.EventsSince(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1+2*perInstance {
		t.Fatalf("%d events, want %d", len(all), 1+2*perInstance)
	}
	for i, ev := range all {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: numbers must be gap-free and in order", i, ev.Seq)
		}
	}
	if n := len(streamEvents(t, a, prefix)); n != len(all) {
		t.Fatalf("stream holds %d entries, want %d", n, len(all))
	}
}

// Many instances filing cases at once get distinct numbers, in one day's run.
func TestConcurrentCreatesNumberDistinctly(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	stores := []*valkey.Store{open(t, prefix, nil), open(t, prefix, nil), open(t, prefix, nil)}
	// 23:59 UTC, dated in the zone CreatedAt carries (the ledger gives the
	// town's): 07:59 on the 26th in China.
	day := time.Date(2026, 11, 25, 23, 59, 0, 0, time.UTC).In(time.FixedZone("CST", 8*3600))
	var (
		mu      sync.Mutex
		numbers = map[string]bool{}
		wg      sync.WaitGroup
	)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := createCase(ctx, stores[i%len(stores)], day, "x")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			numbers[c.Number] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	for i := 1; i <= 30; i++ {
		if n := fmt.Sprintf("ST20261126%04d", i); !numbers[n] {
			t.Errorf("number %s not given out; got %v", n, numbers)
		}
	}
	list, err := stores[0].Cases(ctx, core.CaseQuery{})
	if err != nil || len(list) != 30 || list[0].Number != "ST202611260030" {
		t.Fatalf("Cases: %d cases, %v", len(list), err)
	}
}

// Listing pages through the index: a filter that matches few cases still
// finds them beyond the first page, and Limit holds.
func TestCasesPagesThroughIndex(t *testing.T) {
	ctx := context.Background()
	s := open(t, valkeytest.Prefix(t), nil)
	now := time.Now()
	for i := range 150 {
		c, ev := newCase(now, "x")
		if i%50 == 0 {
			c.Grid = "rare"
		}
		if _, _, err := s.CreateCase(ctx, c, ev); err != nil {
			t.Fatal(err)
		}
	}
	rare, err := s.Cases(ctx, core.CaseQuery{Grids: []string{"rare"}, Limit: 10})
	if err != nil || len(rare) != 3 {
		t.Fatalf("rare cases: %d, %v", len(rare), err)
	}
	if !strings.HasSuffix(rare[0].Number, "0101") || !strings.HasSuffix(rare[2].Number, "0001") {
		t.Fatalf("rare cases out of order: %s %s %s", rare[0].Number, rare[1].Number, rare[2].Number)
	}
	some, err := s.Cases(ctx, core.CaseQuery{Resident: "o1", Limit: 70})
	if err != nil || len(some) != 70 || !strings.HasSuffix(some[69].Number, "0081") {
		t.Fatalf("limited listing: %d, %v", len(some), err)
	}
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// within fails the test if fn takes longer than d.
func within(t *testing.T, d time.Duration, what string, fn func() error) {
	t.Helper()
	start := time.Now()
	err := fn()
	took := time.Since(start)
	t.Logf("%s: %v after %v", what, err, took.Round(time.Millisecond))
	if err == nil {
		t.Errorf("%s: no error with the server gone", what)
	}
	if took > d {
		t.Errorf("%s took %v, want under %v (err %v)", what, took, d, err)
	}
}

func TestOpenFailsFastWithoutServer(t *testing.T) {
	ctx := context.Background()
	within(t, 2*time.Second, "open on a closed port", func() error {
		_, err := valkey.Open(ctx, valkey.Options{Addr: []string{freePort(t)}, CasePrefix: "ST", Password: "hunter2"})
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
		return err
	})

	// A server that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	within(t, 2500*time.Millisecond, "open on a silent server", func() error {
		_, err := valkey.Open(ctx, valkey.Options{Addr: []string{ln.Addr().String()}, CasePrefix: "ST", Timeout: time.Second})
		return err
	})
}

// A store whose server goes away answers every call with an error within
// the timeout instead of hanging.
func TestCallsFailFastWhenServerGoes(t *testing.T) {
	bin, err := exec.LookPath("valkey-server")
	if err != nil {
		if bin, err = exec.LookPath("redis-server"); err != nil {
			t.Skip("no valkey-server or redis-server on PATH")
		}
	}
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	srv := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			srv.Process.Kill()
			srv.Wait()
		}
	}
	defer stop()

	ctx := context.Background()
	const timeout = time.Second
	var s *valkey.Store
	for i := 0; ; i++ {
		if s, err = valkey.Open(ctx, valkey.Options{Addr: []string{addr}, CasePrefix: "ST", Timeout: timeout}); err == nil {
			break
		}
		if i == 50 {
			t.Fatalf("private server did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer s.Close()
	c, _, err := createCase(ctx, s, time.Now(), "x")
	if err != nil {
		t.Fatal(err)
	}
	limit := timeout + 500*time.Millisecond // the store's bound, and slack for -race
	calls := func(phase string) {
		within(t, limit, phase+" Ping", func() error { return s.Ping(ctx) })
		within(t, limit, phase+" Case", func() error { _, err := s.Case(ctx, c.Number); return err })
		within(t, limit, phase+" Cases", func() error { _, err := s.Cases(ctx, core.CaseQuery{}); return err })
		within(t, limit, phase+" CreateCase", func() error { _, _, err := createCase(ctx, s, time.Now(), "y"); return err })
		within(t, limit, phase+" UpdateCase", func() error {
			_, _, err := s.UpdateCase(ctx, c.Number, func(*core.Case) ([]core.Event, error) {
				return []core.Event{{Kind: core.EventReplied}}, nil
			})
			return err
		})
		within(t, limit, phase+" Get", func() error { _, _, err := s.Get(ctx, "k"); return err })
		within(t, limit, phase+" SetNX", func() error { _, err := s.SetNX(ctx, "k", []byte("v"), time.Minute); return err })
		within(t, limit, phase+" Record", func() error { _, _, err := s.Record(ctx, "ns", "k"); return err })
	}
	// A server that hangs: connections stay open, nothing answers.
	if err := srv.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	calls("hung:")
	// Back again: the store recovers without being reopened.
	srv.Process.Signal(syscall.SIGCONT)
	for i := 0; ; i++ {
		_, err := s.Case(ctx, c.Number)
		if err == nil {
			break
		}
		if i == 50 {
			t.Fatalf("store did not recover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A server that is gone.
	stop()
	calls("gone:")
}

func TestOpenChecksOptions(t *testing.T) {
	ctx := context.Background()
	for _, opt := range []valkey.Options{
		{CasePrefix: "ST"},
		{Addr: []string{"127.0.0.1:1"}},
		{Addr: []string{"127.0.0.1:1"}, CasePrefix: "ST", Prefix: "{x}:"},
	} {
		if _, err := valkey.Open(ctx, opt); err == nil {
			t.Errorf("Open(%+v) accepted", opt)
		}
	}
}

func TestCheckDurability(t *testing.T) {
	ctx := context.Background()
	s := open(t, valkeytest.Prefix(t), nil)
	warnings, err := s.CheckDurability(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if valkeytest.RestartCommand() == nil {
		t.Skipf("server not this binary's own (warnings: %q); not changing its configuration", warnings)
	}
	// The private server runs with appendonly yes, appendfsync everysec.
	if len(warnings) != 0 {
		t.Fatalf("warnings on a durable server: %q", warnings)
	}
	c := s.Client()
	set := func(policy string) {
		if err := c.Do(ctx, c.B().ConfigSet().ParameterValue().ParameterValue("maxmemory-policy", policy).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	set("allkeys-lru")
	defer set("noeviction")
	warnings, err = s.CheckDurability(ctx)
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "maxmemory-policy") {
		t.Fatalf("warnings with allkeys-lru: %q, %v", warnings, err)
	}
}

func TestRecordsAndKeysAreBinarySafe(t *testing.T) {
	ctx := context.Background()
	s := open(t, valkeytest.Prefix(t), nil)
	v := []byte{0, 0xff, '\r', '\n', 'x'}
	if err := s.PutRecord(ctx, "ns", "k", v); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Record(ctx, "ns", "k"); !ok || err != nil || string(got) != string(v) {
		t.Fatalf("record %q %v %v", got, ok, err)
	}
	if err := s.Set(ctx, "k", v, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Get(ctx, "k"); !ok || err != nil || string(got) != string(v) {
		t.Fatalf("ephemeral %q %v %v", got, ok, err)
	}
	// A record and an ephemeral key of the same name are apart.
	if got, _, _ := s.Record(ctx, "ns", "k"); string(got) != string(v) {
		t.Fatal("records and ephemeral keys collide")
	}
}

func BenchmarkCreateCase(b *testing.B) {
	ctx := context.Background()
	s := open(b, valkeytest.Prefix(b), nil)
	now := time.Now()
	b.ReportAllocs()
	b.SetParallelism(8) // many requests at once, as a busy instance has: valkey-go pipelines them
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := createCase(ctx, s, now, "路灯坏了，晚上很黑"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkUpdateCaseContended(b *testing.B) {
	ctx := context.Background()
	s := open(b, valkeytest.Prefix(b), nil)
	c, _, err := createCase(ctx, s, time.Now(), "x")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(8) // many requests at once, as a busy instance has: valkey-go pipelines them
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
				c.Rating++
				return []core.Event{{Kind: core.EventReplied, At: time.Now()}}, nil
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSessionSetGet(b *testing.B) {
	ctx := context.Background()
	s := open(b, valkeytest.Prefix(b), nil)
	session := []byte(`{"flow":"intake","step":"photo","draft":{"category":"env","text":"路灯坏了"}}`)
	var n int64
	var mu sync.Mutex
	b.ReportAllocs()
	b.SetParallelism(8) // many requests at once, as a busy instance has: valkey-go pipelines them
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		n++
		key := "session:o" + strconv.FormatInt(n, 10)
		mu.Unlock()
		for pb.Next() {
			if err := s.Set(ctx, key, session, 30*time.Minute); err != nil {
				b.Error(err)
				return
			}
			if _, ok, err := s.Get(ctx, key); !ok || err != nil {
				b.Error("get:", ok, err)
				return
			}
		}
	})
}

var _ store.Store = (*valkey.Store)(nil)

// BenchmarkIncr is the login limit's atomic count (a server-side script),
// under the same load as the other benchmarks.
func BenchmarkIncr(b *testing.B) {
	ctx := context.Background()
	s := open(b, valkeytest.Prefix(b), nil)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Incr(ctx, "console:login:pair:x", time.Minute); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkMergeWrite: the two cases of a merge written together
// (UpdateCases, one script) against the two writes a merge used to be.
func BenchmarkMergeWrite(b *testing.B) {
	ctx := context.Background()
	s := open(b, valkeytest.Prefix(b), nil)
	a, _, err := createCase(ctx, s, time.Now(), "x")
	if err != nil {
		b.Fatal(err)
	}
	c, _, err := createCase(ctx, s, time.Now(), "y")
	if err != nil {
		b.Fatal(err)
	}
	bump := func(x *core.Case) []core.Event {
		x.Rating++
		return []core.Event{{Kind: core.EventReplied, At: time.Now()}}
	}
	b.Run("one write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.UpdateCases(ctx, []string{a.Number, c.Number}, func(cs []*core.Case) ([][]core.Event, error) {
				return [][]core.Event{bump(cs[0]), bump(cs[1])}, nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("two writes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, n := range []string{a.Number, c.Number} {
				if _, _, err := s.UpdateCase(ctx, n, func(x *core.Case) ([]core.Event, error) { return bump(x), nil }); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
