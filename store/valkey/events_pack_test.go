package valkey_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/sealing"
	"gridbot/store/storetest"
	"gridbot/store/valkey"
)

// A closed case's log is packed into one string; it reads as before
// (Events, EventsSince), a reopened case appends after it at the right
// positions, and closing it again packs the whole log. A log written
// before packing (one element an event) still reads.
func TestClosedLogPackedWhole(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, nil)
	cl := s.Client()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	other, _, err := createCase(ctx, s, now, "an open case beside")
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := createCase(ctx, s, now, "井盖松动")
	if err != nil {
		t.Fatal(err)
	}
	step := func(number string, st core.State, kind core.EventKind, text string) {
		t.Helper()
		now = now.Add(time.Minute)
		if _, _, err := s.UpdateCase(ctx, number, func(c *core.Case) ([]core.Event, error) {
			if st != "" {
				c.State = st
			}
			return []core.Event{{Kind: kind, Actor: "gl1", At: now, Text: text, Data: map[string]string{"k": text}}}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	logKey := prefix + "{gb}:log:" + c.Number
	// logLen is the log's elements; a packed log is a string, one element.
	logLen := func() int64 {
		t.Helper()
		return logShape(t, cl, logKey)
	}
	step(c.Number, core.StateAssigned, core.EventAssigned, "派给一组")
	step(other.Number, "", core.EventReplied, "beside 1")
	step(c.Number, "", core.EventReplied, "在修")
	step(c.Number, core.StateResolved, core.EventResolved, "修好了")
	if n := logLen(); n != 4 {
		t.Fatalf("open case: %d elements, want 4", n)
	}
	before, err := s.Events(ctx, c.Number)
	if err != nil {
		t.Fatal(err)
	}
	step(c.Number, core.StateClosed, core.EventClosed, "结案")
	if n := logLen(); n != 0 {
		t.Fatalf("closed case: a list of %d elements, want it packed into a string", n)
	}
	head, err := cl.Do(ctx, cl.B().Get().Key(logKey).Build()).ToString()
	if err != nil || !strings.HasPrefix(head, "P5:") {
		t.Fatalf("head %.10q %v", head, err)
	}
	closed, err := s.Events(ctx, c.Number)
	if err != nil || len(closed) != 5 || !reflect.DeepEqual(closed[:4], before) {
		t.Fatalf("events of the packed log: %d %v\n got %+v\nwant %+v", len(closed), err, closed, before)
	}
	// Reopened: appended after the head, and the sequence index points at
	// the right positions.
	step(c.Number, core.StateReopened, core.EventReopened, "又松了")
	step(other.Number, "", core.EventReplied, "beside 2")
	step(c.Number, "", core.EventReplied, "再修")
	if n := logLen(); n != 3 {
		t.Fatalf("reopened: %d elements, want 3", n)
	}
	all := func() []core.Event {
		t.Helper()
		var out []core.Event
		for _, n := range []string{other.Number, c.Number} {
			evs, err := s.Events(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, evs...)
		}
		byseq := make([]core.Event, len(out))
		for _, ev := range out {
			byseq[ev.Seq-1] = ev
		}
		return byseq
	}
	want := all()
	if len(want) != 10 {
		t.Fatalf("%d events", len(want))
	}
	checkEventsSince(t, ctx, s, want)
	// packedAfter checks, after a write that left the case closed, that
	// its log is packed into a string, that EventsSince reads every event,
	// and that the case has n events, the last with text.
	packedAfter := func(what string, n int, text string) {
		t.Helper()
		if l := logLen(); l != 0 {
			t.Fatalf("%s: a list of %d elements, want it packed into a string", what, l)
		}
		want = all()
		checkEventsSince(t, ctx, s, want)
		if evs, err := s.Events(ctx, c.Number); err != nil || len(evs) != n || evs[n-1].Text != text {
			t.Fatalf("%s: %d events %v", what, len(evs), err)
		}
	}
	step(c.Number, core.StateClosed, core.EventClosed, "再结案")
	packedAfter("closed again", 8, "再结案")
	// Packed before as a list of one head element, it reads the same, and
	// becomes a string when its case is next written closed.
	packed, err := cl.Do(ctx, cl.B().Get().Key(logKey).Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []vk.Completed{cl.B().Del().Key(logKey).Build(), cl.B().Rpush().Key(logKey).Element(packed).Build()} {
		if err := cl.Do(ctx, cmd).Error(); err != nil {
			t.Fatal(err)
		}
	}
	if n := logLen(); n != 1 {
		t.Fatalf("the log packed as a list: %d elements", n)
	}
	checkEventsSince(t, ctx, s, want)
	step(c.Number, "", core.EventReplied, "结案后回访")
	packedAfter("written closed", 9, "结案后回访")
	// A store opened again reads the same.
	if got, err := open(t, prefix, nil).EventsSince(ctx, 0, 100); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("another store: %v\n got %+v\nwant %+v", err, got, want)
	}
}

// A packed log is resealed under a rotated key like the rest: after the
// reseal it reads with the new key alone.
func TestPackedLogResealed(t *testing.T) {
	ctx := context.Background()
	addr, prefix := valkeytest.Addr(t), valkeytest.Prefix(t)
	text := sealing.NewFile()
	rotated, _, err := sealing.Rotate(text)
	if err != nil {
		t.Fatal(err)
	}
	k1, err1 := sealing.Parse(text)
	k2, err2 := sealing.Parse(rotated)
	var k2Only []string
	for _, line := range strings.Split(rotated, "\n") {
		if !strings.HasPrefix(line, "key k1 ") {
			k2Only = append(k2Only, line)
		}
	}
	k2Alone, err3 := sealing.Parse(strings.Join(k2Only, "\n"))
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	openSealed := func(keys core.Sealer) *valkey.Store {
		s, err := valkey.Open(ctx, valkey.Options{Addr: []string{addr}, Prefix: prefix, CasePrefix: "ST", Sealer: keys,
			Search: storetest.SealedSearch(keys)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := openSealed(k1)
	now := time.Now()
	c, _, err := createCase(ctx, s, now, "紫藤花开井盖松动")
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range []core.State{core.StateResolved, core.StateClosed} {
		if _, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
			c.State = st
			return []core.Event{{Kind: core.EventReplied, Actor: core.ActorResident, At: now.Add(time.Duration(i+1) * time.Minute),
				Text: "住在紫藤路3号"}}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	want, err := s.Events(ctx, c.Number)
	if err != nil || len(want) != 3 {
		t.Fatalf("%d events, %v", len(want), err)
	}
	s2 := openSealed(k2)
	n, err := s2.Reseal(ctx)
	if err != nil || n == 0 {
		t.Fatalf("reseal: %d, %v", n, err)
	}
	if again, err := s2.Reseal(ctx); err != nil || again != 0 {
		t.Errorf("a second reseal rewrote %d (%v)", again, err)
	}
	got, err := openSealed(k2Alone).Events(ctx, c.Number)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("with k2 alone: %v\n got %+v\nwant %+v", err, got, want)
	}
}

// logShape is the number of elements of the log at key when it is a list,
// and 0 when it is a string (packed); it fails the test for anything else.
func logShape(t *testing.T, cl vk.Client, key string) int64 {
	t.Helper()
	typ, err := cl.Do(context.Background(), cl.B().Type().Key(key).Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
	switch typ {
	case "string":
		return 0
	case "list":
		n, err := cl.Do(context.Background(), cl.B().Llen().Key(key).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Fatalf("the log %s is a %s", key, typ)
	return 0
}
