package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store"
)

// setState writes c's state with one event at at (a step's write, as the
// ledger's would be).
func setState(t *testing.T, s store.Store, number string, st core.State, at time.Time) {
	t.Helper()
	_, _, err := s.UpdateCase(context.Background(), number, func(c *core.Case) ([]core.Event, error) {
		c.State = st
		return []core.Event{{Kind: core.EventNoted, Actor: "gl-1", At: at, Text: string(st)}}, nil
	})
	if err != nil {
		t.Fatalf("%s to %s: %v", number, st, err)
	}
}

// testRetention: the retention index lists the closed cases still holding
// personal data whose clock started before a cutoff, oldest first, and
// follows every write: a reopened case leaves it and, closed again,
// re-enters with its new time; a later change to a closed case moves it
// (to another day too); a failed write moves nothing; the write that
// erases the resident takes it out; a write of several cases moves each.
func testRetention(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	t0 := clock.Now()
	due := func(cutoff time.Time, limit int) string {
		t.Helper()
		got, err := s.RetentionDue(ctx, cutoff, limit)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(got)
	}
	want := func(numbers ...string) string { return fmt.Sprint(numbers) }
	a := mustCreate(t, s, clock, "o1", "g1").Number
	b := mustCreate(t, s, clock, "o2", "g1").Number
	c := mustCreate(t, s, clock, "o3", "g2").Number
	if got := due(t0.AddDate(10, 0, 0), 10); got != want() {
		t.Fatalf("nothing closed, due %s", got)
	}
	setState(t, s, a, core.StateClosed, t0.Add(time.Hour))
	setState(t, s, c, core.StateClosed, t0.Add(3*time.Hour))
	for _, tc := range []struct {
		cutoff time.Time
		limit  int
		want   string
	}{
		{t0.Add(time.Hour), 10, want()}, // not before its own time
		{t0.Add(2 * time.Hour), 10, want(a)},
		{t0.Add(4 * time.Hour), 10, want(a, c)},
		{t0.Add(4 * time.Hour), 1, want(a)},
	} {
		if got := due(tc.cutoff, tc.limit); got != tc.want {
			t.Errorf("due before +%s (limit %d) = %s, want %s", tc.cutoff.Sub(t0), tc.limit, got, tc.want)
		}
	}
	// Reopened: out; closed again: in, with its new time.
	setState(t, s, a, core.StateReopened, t0.Add(5*time.Hour))
	if got := due(t0.Add(10*time.Hour), 10); got != want(c) {
		t.Fatalf("after %s reopened: %s", a, got)
	}
	setState(t, s, a, core.StateClosed, t0.Add(6*time.Hour))
	if got, w := due(t0.Add(4*time.Hour), 10), want(c); got != w {
		t.Fatalf("closed again, due before +4h %s, want %s", got, w)
	}
	if got, w := due(t0.Add(7*time.Hour), 10), want(c, a); got != w {
		t.Fatalf("closed again, due before +7h %s, want %s", got, w)
	}
	// A write that fails half way moves nothing.
	_, _, err := s.UpdateCase(ctx, c, func(x *core.Case) ([]core.Event, error) {
		x.State, x.Resident = core.StateReopened, ""
		return nil, errors.New("boom")
	})
	if err == nil {
		t.Fatal("the failing change wrote")
	}
	if got, w := due(t0.Add(7*time.Hour), 10), want(c, a); got != w {
		t.Fatalf("after a failed write %s, want %s", got, w)
	}
	// A later change to a closed case restarts its clock: the same day,
	// then another day (UTC).
	setState(t, s, c, core.StateClosed, t0.Add(8*time.Hour))
	if got, w := due(t0.Add(7*time.Hour), 10), want(a); got != w {
		t.Fatalf("after a note on %s: %s, want %s", c, got, w)
	}
	if got, w := due(t0.Add(9*time.Hour), 10), want(a, c); got != w {
		t.Fatalf("after a note on %s: %s, want %s", c, got, w)
	}
	setState(t, s, c, core.StateClosed, t0.Add(50*time.Hour))
	if got, w := due(t0.Add(49*time.Hour), 10), want(a); got != w {
		t.Fatalf("after a note on %s two days on: %s, want %s", c, got, w)
	}
	// The erasing write takes it out.
	if _, _, err := s.UpdateCase(ctx, a, func(x *core.Case) ([]core.Event, error) {
		x.Resident, x.Text = "", core.ErasedText
		return []core.Event{{Kind: core.EventAnonymised, Actor: core.ActorSystem, At: t0.Add(51 * time.Hour)}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, w := due(t0.AddDate(10, 0, 0), 10), want(c); got != w {
		t.Fatalf("after %s was erased: %s, want %s", a, got, w)
	}
	// Several cases in one write: b closes, c reopens.
	if _, _, err := s.UpdateCases(ctx, []string{b, c}, func(cs []*core.Case) ([][]core.Event, error) {
		cs[0].State, cs[1].State = core.StateClosed, core.StateReopened
		ev := core.Event{Kind: core.EventNoted, Actor: "gl-1", At: t0.Add(60 * time.Hour)}
		return [][]core.Event{{ev}, {ev}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, w := due(t0.AddDate(10, 0, 0), 10), want(b); got != w {
		t.Fatalf("after one write of two: %s, want %s", got, w)
	}
}

// RetentionIndexBuiltWhenOpened checks, for a store that open opens (each
// call a new store on the same ledger), that a ledger whose retention
// index dropIndex removes (as an older gridbot left it) gets it built when
// opened: n cases, every third closed, every ninth of those erased.
func RetentionIndexBuiltWhenOpened(t *testing.T, n int, open func() store.Store, dropIndex func()) {
	ctx := context.Background()
	s := open()
	t0 := time.Date(2023, 1, 1, 9, 0, 0, 0, time.UTC)
	var wantDue []string
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(i) * 7 * time.Hour)
		c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Resident: fmt.Sprintf("o%d", i), Text: "路灯",
			CreatedAt: at}, core.Event{Kind: core.EventSubmitted, At: at})
		if err != nil {
			t.Fatal(err)
		}
		if i%3 != 0 {
			continue
		}
		if _, _, err := s.UpdateCase(ctx, c.Number, func(x *core.Case) ([]core.Event, error) {
			x.State = core.StateClosed
			if i%9 == 0 {
				x.Resident = ""
			}
			return []core.Event{{Kind: core.EventClosed, At: at.Add(time.Hour)}}, nil
		}); err != nil {
			t.Fatal(err)
		}
		if i%9 != 0 {
			wantDue = append(wantDue, c.Number)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dropIndex()
	s = open()
	defer s.Close()
	got, err := s.RetentionDue(ctx, t0.AddDate(20, 0, 0), n)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, wantDue) {
		t.Fatalf("built on open: %d due, want %d (%v…)", len(got), len(wantDue), got[:min(5, len(got))])
	}
}

// RetentionErasesExactlyTheExpired fills a ledger over three years (cases
// closed, reopened after the cutoff, closed again, left open, erased by
// 注销's kin before), runs the retention from two instances at once
// (open gives each its store on the same ledger), and checks that exactly
// the cases whose clock started before the cutoff were erased, each once,
// their media returned, and that no other case was written.
func RetentionErasesExactlyTheExpired(t *testing.T, n int, open func() store.Store) {
	ctx := context.Background()
	s := open()
	defer s.Close()
	rng := rand.New(rand.NewPCG(17, 21))
	t0 := time.Date(2023, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	cutoff := t0.AddDate(1, 6, 0)
	var numbers []string
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour))))
		c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Category: "env", Resident: fmt.Sprintf("o%d", i),
			Text: "路灯坏了", Phone: "13800001111", Photos: []core.Media{{MediaID: fmt.Sprintf("m%d", i)}}, CreatedAt: at},
			core.Event{Kind: core.EventSubmitted, At: at})
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, c.Number)
		step := func(st core.State, d time.Duration) {
			at = at.Add(d)
			setState(t, s, c.Number, st, at)
		}
		switch i % 6 {
		case 0, 1: // closed
			step(core.StateClosed, time.Duration(rng.Int64N(int64(30*24*time.Hour))))
		case 2: // closed before the cutoff, reopened after it
			at = cutoff.Add(-48 * time.Hour)
			step(core.StateClosed, 0)
			step(core.StateReopened, 72*time.Hour)
		case 3: // the same, closed again after it
			at = cutoff.Add(-48 * time.Hour)
			step(core.StateClosed, 0)
			step(core.StateReopened, 72*time.Hour)
			step(core.StateClosed, time.Hour)
		case 4: // closed, erased of its openid already
			step(core.StateClosed, time.Hour)
			if _, _, err := s.UpdateCase(ctx, c.Number, func(x *core.Case) ([]core.Event, error) {
				x.Resident = ""
				return []core.Event{{Kind: core.EventAnonymised, At: at.Add(time.Minute)}}, nil
			}); err != nil {
				t.Fatal(err)
			}
		case 5: // left open
		}
	}
	before := map[string]core.Case{}
	var want []string
	for _, number := range numbers {
		c, err := s.Case(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		before[number] = c
		if at, ok := core.RetentionClock(&c); ok && at.Before(cutoff) {
			want = append(want, number)
		}
	}
	if len(want) < n/10 {
		t.Fatalf("only %d of %d cases expired: the fill is wrong", len(want), n)
	}
	// Two instances at once.
	other := open()
	defer other.Close()
	now := func() time.Time { return cutoff.AddDate(1, 0, 0) }
	var (
		wg     sync.WaitGroup
		erased [2][]string
		media  [2][]string
		errs   [2]error
	)
	for i, st := range []store.Store{s, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &core.Ledger{Store: st, Now: now}
			erased[i], media[i], errs[i] = l.EraseExpired(ctx, cutoff)
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	all := append(slices.Clone(erased[0]), erased[1]...)
	slices.Sort(all)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("erased %d cases (%d + %d), want %d: %v", len(all), len(erased[0]), len(erased[1]), len(want), all[:min(len(all), 8)])
	}
	allMedia := append(slices.Clone(media[0]), media[1]...)
	if len(allMedia) != len(want) {
		t.Fatalf("%d media IDs for %d cases", len(allMedia), len(want))
	}
	for _, number := range numbers {
		c, err := s.Case(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := slices.BinarySearch(want, number); ok {
			if c.Resident != "" || c.Phone != "" || c.Text != core.ErasedText || len(c.Photos) != 0 || c.State != core.StateClosed {
				t.Fatalf("%s not erased: %+v", number, c)
			}
			continue
		}
		if c.Version != before[number].Version {
			t.Fatalf("%s, not expired, was written (version %d, was %d)", number, c.Version, before[number].Version)
		}
	}
	if left, err := s.RetentionDue(ctx, cutoff, n); err != nil || len(left) != 0 {
		t.Fatalf("due after the run: %v, %v", left, err)
	}
	// Run again (the next day, another instance): nothing.
	if again, _, err := (&core.Ledger{Store: other, Now: now}).EraseExpired(ctx, cutoff); err != nil || len(again) != 0 {
		t.Fatalf("second run erased %d, %v", len(again), err)
	}
}
