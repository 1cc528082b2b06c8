package routing_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/routing"
)

// fakeClock is a clock the tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))}
}

// sweepers returns n sweepers on r's store, each with a ledger of its own,
// as n instances would have.
func sweepers(r *rig, clock *fakeClock, n int) []*routing.Sweeper {
	var out []*routing.Sweeper
	for range n {
		l := &core.Ledger{Store: r.ledger.Store, Town: r.ledger.Town, Now: clock.Now, Roster: r.ledger.Roster}
		out = append(out, &routing.Sweeper{Ledger: l, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}
	return out
}

// sweepAll runs every sweeper at once, as instances do.
func sweepAll(t *testing.T, ss []*routing.Sweeper) {
	t.Helper()
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Go(func() {
			if _, err := s.Sweep(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func countEvents(t *testing.T, r *rig, number string, kind core.EventKind) int {
	t.Helper()
	evs, err := r.store.Events(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// A yellow warning and each step of escalation fire once with two
// sweepers running, and a sweeper started later (a restart) repeats none.
func TestSupervisionFiresOnceWithTwoInstances(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	r := newRigAt(t, sampleTown(t, false), clock.Now)
	two := sweepers(r, clock, 2)
	c, err := r.ledger.Submit(ctx, "oresident1", core.Draft{Category: "security", Text: "路口有人聚集", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the leader's push", func() bool { return len(r.notes.to("osample-L10-a")) == 1 })
	if _, _, err := r.ledger.Accept(ctx, c.Number, "gl-L10-a"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		after  time.Duration // from filing; the category allows 24 h
		kind   core.EventKind
		count  int
		openid string // who is told
		pushes int    // how many pushes they have had by then
	}{
		{17 * time.Hour, core.EventWarned, 0, "osample-L10-a", 1},
		{19 * time.Hour, core.EventWarned, 1, "osample-L10-a", 2},
		{20 * time.Hour, core.EventWarned, 1, "osample-L10-a", 2},
		{25 * time.Hour, core.EventEscalated, 1, "osample-L10-a", 3},
		{49 * time.Hour, core.EventEscalated, 2, "osample-v10-cadre", 1},
		{73 * time.Hour, core.EventEscalated, 3, "osample-town-admin", 1},
		{200 * time.Hour, core.EventEscalated, 3, "osample-town-admin", 1},
	}
	for _, st := range steps {
		clock.Set(c.CreatedAt.Add(st.after))
		for range 3 {
			sweepAll(t, two)
		}
		if n := countEvents(t, r, c.Number, st.kind); n != st.count {
			t.Fatalf("after %s: %d %s events, want %d", st.after, n, st.kind, st.count)
		}
		eventually(t, "the pushes of "+st.after.String(), func() bool { return len(r.notes.to(st.openid)) == st.pushes })
	}
	// A restarted instance finds everything recorded.
	if n, err := sweepers(r, clock, 1)[0].Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("a new sweeper changed %d cases (%v)", n, err)
	}
	got, _ := r.store.Case(ctx, c.Number)
	if got.Warning != core.WarningRed || got.Escalation != core.EscalationTown {
		t.Fatalf("case warning %q escalation %v", got.Warning, got.Escalation)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(r.notes.to("osample-town-admin")); n != 1 {
		t.Fatalf("the town was told %d times", n)
	}
}

// A case post A does not accept in time goes to post B, recorded, and B is
// told; a case A accepts stays.
func TestSilentPostAGoesToB(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	r := newRigAt(t, sampleTown(t, false), clock.Now)
	two := sweepers(r, clock, 2)
	silent, err := r.ledger.Submit(ctx, "oresident1", core.Draft{Category: "light", Text: "路灯不亮", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	accepted, err := r.ledger.Submit(ctx, "oresident2", core.Draft{Category: "light", Text: "又一盏路灯不亮", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "both pushes to A", func() bool { return len(r.notes.to("osample-L10-a")) == 2 })
	if _, _, err := r.ledger.Accept(ctx, accepted.Number, "gl-L10-a"); err != nil {
		t.Fatal(err)
	}
	clock.Set(silent.CreatedAt.Add(119 * time.Minute))
	sweepAll(t, two)
	if n := countEvents(t, r, silent.Number, core.EventTransferred); n != 0 {
		t.Fatalf("transferred before the accept time: %d", n)
	}
	clock.Set(silent.CreatedAt.Add(2 * time.Hour))
	sweepAll(t, two)
	sweepAll(t, two)
	got, _ := r.store.Case(ctx, silent.Number)
	if got.Post != core.PostB || got.Assignee != "gl-L10-b" || countEvents(t, r, silent.Number, core.EventTransferred) != 1 {
		t.Fatalf("silent case: post %s assignee %s", got.Post, got.Assignee)
	}
	eventually(t, "B told once", func() bool { return len(r.notes.to("osample-L10-b")) == 1 })
	if n := r.notes.to("osample-L10-b")[0]; n.Case != silent.Number || n.Title != "A岗超时未受理，请您B岗接办" {
		t.Fatalf("push to B: %+v", n)
	}
	if got, _ := r.store.Case(ctx, accepted.Number); got.Post != core.PostA {
		t.Fatalf("accepted case moved to %s", got.Post)
	}
}

// Closing the ledger: rating 2 reopens to the same grid with the town told;
// rating 4 closes; no rating in 72 hours closes as not rated.
func TestClosingTheLedger(t *testing.T) {
	tests := []struct {
		name      string
		rate      int           // 0: no rating
		wait      time.Duration // then sweep after this long
		state     core.State
		townTold  bool
		unratedEv bool
	}{
		{"rating 2 reopens", 2, 0, core.StateReopened, true, false},
		{"rating 4 closes", 4, 0, core.StateClosed, false, false},
		{"71 hours of silence: still waiting", 0, 71 * time.Hour, core.StateResolved, false, false},
		{"72 hours of silence closes, not rated", 0, 72 * time.Hour, core.StateClosed, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clock := newFakeClock()
			r := newRigAt(t, sampleTown(t, false), clock.Now)
			c, err := r.ledger.Submit(ctx, "oresident1", core.Draft{Category: "env", Text: "垃圾没人清", Grid: "L10"})
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "assignment", func() bool { return len(r.notes.to("osample-L10-a")) == 1 })
			if _, _, err := r.ledger.Resolve(ctx, c.Number, "gl-L10-a", "已清理"); err != nil {
				t.Fatal(err)
			}
			if tt.rate > 0 {
				if _, err := r.ledger.Rate(ctx, "oresident1", tt.rate); err != nil {
					t.Fatal(err)
				}
			}
			clock.Set(clock.Now().Add(tt.wait))
			sweepAll(t, sweepers(r, clock, 2))
			got, _ := r.store.Case(ctx, c.Number)
			if got.State != tt.state {
				t.Fatalf("state %s, want %s", got.State, tt.state)
			}
			if tt.townTold {
				eventually(t, "the town told", func() bool { return len(r.notes.to("osample-town-admin")) == 1 })
				eventually(t, "the leader told again", func() bool { return len(r.notes.to("osample-L10-a")) == 2 })
			}
			evs, _ := r.store.Events(ctx, c.Number)
			unrated := false
			for _, e := range evs {
				unrated = unrated || (e.Kind == core.EventClosed && e.Data[core.DataUnrated] == "true")
			}
			if unrated != tt.unratedEv {
				t.Fatalf("closed as not rated: %t, want %t", unrated, tt.unratedEv)
			}
		})
	}
}

// A whistle reaches the department's WeChat and the resident; the
// department signs, and the grid and resident hear; a second department
// returns it, and the grid and the town hear with the reason.
func TestWhistleSignAndReturn(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, sampleTown(t, false))
	c, err := r.ledger.Submit(ctx, "oresident1", core.Draft{Category: "road", Text: "路面塌陷", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "assignment", func() bool { return len(r.notes.to("osample-L10-a")) == 1 })
	if _, _, err := r.ledger.Whistle(ctx, c.Number, "gl-L10-a", "chengjian", "需要专业维修"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the department told", func() bool { return len(r.notes.to("osample-dept-chengjian")) == 1 })
	eventually(t, "the resident told", func() bool { return len(r.notes.to("oresident1")) == 1 })
	if n := r.notes.to("osample-dept-chengjian")[0]; n.Case != c.Number {
		t.Fatalf("department push %+v", n)
	}
	if _, _, err := r.ledger.Sign(ctx, c.Number, "dept-chengjian"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the grid told of the signing", func() bool { return len(r.notes.to("osample-L10-a")) == 2 })
	eventually(t, "the resident told of the signing", func() bool { return len(r.notes.to("oresident1")) == 2 })
	if _, _, err := r.ledger.Whistle(ctx, c.Number, "gl-L10-a", "zongzhi", ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second department told", func() bool { return len(r.notes.to("osample-dept-zongzhi")) == 1 })
	if _, _, err := r.ledger.Return(ctx, c.Number, "dept-zongzhi", "不属于本部门"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the town told of the return", func() bool { return len(r.notes.to("osample-town-admin")) == 1 })
	eventually(t, "the grid told of the return", func() bool { return len(r.notes.to("osample-L10-a")) == 3 })
	if n := r.notes.to("osample-town-admin")[0]; n.Text != "退回理由：不属于本部门" {
		t.Fatalf("town push %+v", n)
	}
	got, _ := r.store.Case(ctx, c.Number)
	if a := got.Assist("chengjian"); a == nil || !a.Lead || a.State != core.AssistSigned {
		t.Fatalf("lead department %+v", got.Departments)
	}
}
