package valkey_test

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/store/storetest"
	"gridbot/store/valkey"
)

// A ledger whose figures were counted before the grid's own work was
// (marks of version 1, no such counters, no callbacks waiting kept) is
// brought up to date when a store opens it, and a write to a case still
// marked the old way brings that case up to date first: the figures come
// out as if counted all along.
func TestMarksUpgradedOnOpen(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	clock := &storetest.Clock{}
	s := open(t, prefix, clock.Now)
	numbers := storetest.FillGridWork(t, s, clock)
	want, err := s.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// As an older gridbot left the keys.
	downgrade := func() {
		cl := s.Client()
		for _, n := range numbers {
			key := prefix + "{gb}:case:" + n
			raw, err := cl.Do(ctx, cl.B().Get().Key(key).Build()).AsBytes()
			if err != nil {
				t.Fatal(err)
			}
			var c core.Case
			m, err := valkey.DecodeCase(raw, &c)
			if err != nil || m == nil {
				t.Fatalf("case %s: marks %v, %v", n, m, err)
			}
			m.Version, m.Origin, m.Supervised, m.Mediation, m.CallbacksDone, m.CallbacksOnTime = 0, "", false, "", 0, 0
			m.CallbackDue = time.Time{}
			raw, _ = valkey.EncodeCase(&c, m)
			if err := cl.Do(ctx, cl.B().Set().Key(key).Value(string(raw)).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}
		fields, err := cl.Do(ctx, cl.B().Hgetall().Key(prefix+"{gb}:figures").Build()).AsStrMap()
		if err != nil {
			t.Fatal(err)
		}
		for f, v := range fields {
			if _, ok := core.ParseFigureCell(f); !ok {
				continue
			}
			parts := strings.Split(v, ",")
			if len(parts) > core.FigByResident {
				parts = parts[:core.FigByResident]
			}
			if err := cl.Do(ctx, cl.B().Hset().Key(prefix+"{gb}:figures").FieldValue().FieldValue(f, strings.Join(parts, ",")).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.Do(ctx, cl.B().Del().Key(prefix+"{gb}:marks-version", prefix+"{gb}:callbacks", prefix+"{gb}:figures:waiting").Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, got core.FigureTally) {
		t.Helper()
		if !reflect.DeepEqual(got.Cells, want.Cells) {
			t.Errorf("%s: cells\n got %v\nwant %v", what, got.Cells, want.Cells)
		}
		if len(got.Callbacks) != 1 || got.Callbacks[0].Number != numbers[3] {
			t.Errorf("%s: callbacks waiting %+v", what, got.Callbacks)
		}
	}

	downgrade()
	s2 := open(t, prefix, clock.Now)
	got, err := s2.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("opened", got)

	// Downgraded again with the upgrade marked done: a write upgrades the
	// case it writes first.
	downgrade()
	cl := s.Client()
	if err := cl.Do(ctx, cl.B().Set().Key(prefix+"{gb}:marks-version").Value(strconv.Itoa(core.MarksVersion)).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	s3 := open(t, prefix, clock.Now)
	for _, n := range numbers {
		if _, _, err := s3.UpdateCase(ctx, n, func(c *core.Case) ([]core.Event, error) {
			return []core.Event{{Kind: core.EventReplied, Actor: "gl1", At: clock.Now(), Text: "x"}}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err = s3.Figures(ctx); err != nil {
		t.Fatal(err)
	}
	check("written", got)
}

// A ledger that kept the callbacks waiting as a set of numbers around the
// write (a member too many possible) gets the hash of what the figures read
// of each when a store opens it, from the cases' marks; the set goes.
func TestCallbacksWaitingMovedFromTheSet(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	clock := &storetest.Clock{}
	s := open(t, prefix, clock.Now)
	numbers := storetest.FillGridWork(t, s, clock)
	want, err := s.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Callbacks) != 1 || want.Callbacks[0].Number != numbers[3] {
		t.Fatalf("callbacks waiting %+v", want.Callbacks)
	}
	// As the layout before left it: the set, with a member whose callback
	// was recorded since, and no hash.
	cl := s.Client()
	waiting, set := prefix+"{gb}:figures:waiting", prefix+"{gb}:callbacks"
	if err := cl.Do(ctx, cl.B().Del().Key(waiting).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Do(ctx, cl.B().Sadd().Key(set).Member(numbers[3], numbers[1], "X-none").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	// Changed behind the store's back: the tally it kept goes too.
	if err := cl.Do(ctx, cl.B().Hincrby().Key(prefix+"{gb}:figures").Field("ver").Increment(1).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Figures(ctx); err != nil || len(got.Callbacks) != 0 {
		t.Fatalf("before the move: %+v %v", got.Callbacks, err)
	}
	s2 := open(t, prefix, clock.Now)
	got, err := s2.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Callbacks, want.Callbacks) {
		t.Errorf("callbacks waiting\n got %+v\nwant %+v", got.Callbacks, want.Callbacks)
	}
	if n, err := cl.Do(ctx, cl.B().Exists().Key(set).Build()).AsInt64(); err != nil || n != 0 {
		t.Errorf("the old set is still there: %d %v", n, err)
	}
	if n, err := cl.Do(ctx, cl.B().Hlen().Key(waiting).Build()).AsInt64(); err != nil || n != 1 {
		t.Errorf("%d fields in the hash, want 1: %v", n, err)
	}
	// The callback recorded on the opened store leaves the hash.
	if _, _, err := s2.UpdateCase(ctx, numbers[3], func(c *core.Case) ([]core.Event, error) {
		c.Callback = nil
		return []core.Event{{Kind: core.EventCalledBack, Actor: "c1", At: clock.Now(),
			Data: map[string]string{core.DataReached: "true", core.DataOnTime: "false"}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := cl.Do(ctx, cl.B().Hlen().Key(waiting).Build()).AsInt64(); err != nil || n != 0 {
		t.Errorf("%d fields in the hash after the callback, want 0: %v", n, err)
	}
}

// A ledger whose marks are of the layout before the board's (version 2)
// has only its live marks brought up when a store opens it: the board
// reads no closed case, and walking a ledger years deep at start would
// take minutes.
func TestBoardMarksUpgradedOnOpen(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	clock := &storetest.Clock{}
	s := open(t, prefix, clock.Now)
	live, closed := storetest.FillBoard(t, s, clock)
	cl := s.Client()
	marks := func(number string) (*core.FigureMarks, core.Case) {
		t.Helper()
		raw, err := cl.Do(ctx, cl.B().Get().Key(prefix+"{gb}:case:"+number).Build()).AsBytes()
		if err != nil {
			t.Fatal(err)
		}
		var c core.Case
		m, err := valkey.DecodeCase(raw, &c)
		if err != nil || m == nil {
			t.Fatalf("case %s: marks %v, %v", number, m, err)
		}
		return m, c
	}
	for _, n := range append(live, closed) {
		m, c := marks(n)
		m.Version, m.Warning, m.Paused, m.Returned = core.MarksVersionBoard-1, "", false, nil
		raw, _ := valkey.EncodeCase(&c, m)
		if err := cl.Do(ctx, cl.B().Set().Key(prefix+"{gb}:case:"+n).Value(string(raw)).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Do(ctx, cl.B().Set().Key(prefix+"{gb}:marks-version").Value(strconv.Itoa(core.MarksVersionBoard-1)).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	storetest.CheckBoard(t, open(t, prefix, clock.Now), clock)
	if m, _ := marks(closed); m.Version != core.MarksVersionBoard-1 {
		t.Errorf("the closed case's marks are of version %d: the upgrade walked more than the live cases", m.Version)
	}
}

// Each instance keeps the tally it read last; a write by another moves
// the version it is kept by, so the next page reads the tally again —
// the counters, the board's marks and the callbacks waiting alike.
func TestFiguresKeptFollowAnotherInstance(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	clock := &storetest.Clock{}
	a, b := open(t, prefix, clock.Now), open(t, prefix, clock.Now)
	live, _ := storetest.FillBoard(t, a, clock)
	storetest.CheckBoard(t, a, clock)
	storetest.CheckBoard(t, a, clock) // the second from what the first kept
	cases := func() int {
		t.Helper()
		f, err := a.Figures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for cell, v := range f.Cells {
			if cell.Month != "" && cell.Department == "" { // each case once
				n += v[core.FigCases]
			}
		}
		return n
	}
	before := cases()
	if _, _, err := b.UpdateCase(ctx, live[0], func(c *core.Case) ([]core.Event, error) {
		c.Warning = core.WarningRed
		return []core.Event{{Kind: core.EventNoted, Actor: "c1", At: clock.Now(), Text: "x"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	f, err := a.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	red := 0
	for _, r := range core.BoardOf(&core.Town{}, f, core.FigureScope{}, clock.Now()) {
		if r.Kind == core.ByGrid {
			red += r.Red
		}
	}
	if red != 2 {
		t.Errorf("%d red cases on the board after another instance warned one, want 2", red)
	}
	if _, _, err := b.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Village: "v1", Resident: "oz",
		CreatedAt: clock.Now()}, core.Event{Kind: core.EventSubmitted, At: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if got := cases(); got != before+1 {
		t.Errorf("%d cases counted after another instance filed one, want %d", got, before+1)
	}
}

// The cases a list decoded are kept by the value they came from: a case
// another instance changed since is decoded again, and what a caller
// changes of a case it got is its own.
func TestListedCasesFollowAnotherInstance(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	clock := &storetest.Clock{}
	a, b := open(t, prefix, clock.Now), open(t, prefix, clock.Now)
	c, _, err := a.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Village: "v1", Resident: "oz",
		Text: "路灯不亮", CreatedAt: clock.Now()}, core.Event{Kind: core.EventSubmitted, At: clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	list := func() core.Case {
		t.Helper()
		got, err := a.Cases(ctx, core.CaseQuery{Grids: []string{"g1"}})
		if err != nil || len(got) != 1 {
			t.Fatalf("list: %+v, %v", got, err)
		}
		return got[0]
	}
	first := list()
	first.Text = "changed by the caller"
	if again := list(); again.Text != "路灯不亮" {
		t.Fatalf("the kept case was changed through a copy: %q", again.Text)
	}
	if _, _, err := b.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
		c.Text = "井盖缺失"
		return []core.Event{{Kind: core.EventNoted, Actor: "c1", At: clock.Now(), Text: "x"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := list(); got.Text != "井盖缺失" {
		t.Errorf("after another instance's write the list shows %q", got.Text)
	}
}
