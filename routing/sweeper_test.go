package routing_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"gridbot/core"
	"gridbot/routing"
	"gridbot/store/embedded"
)

// A case left submitted (its event lost before the outbox waited for the
// handlers) is assigned by the sweep once it is older than RouteAfter; a
// case just filed is left to the router.
func TestSweepRoutesCasesLeftSubmitted(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{CasePrefix: "ST", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := &core.Ledger{Store: st, Town: sampleTown(t, false), Now: clock.Now}
	s := &routing.Sweeper{Ledger: l, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	old, err := l.Submit(ctx, "oresident1", core.Draft{Category: "light", Text: "路灯不亮", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(clock.Now().Add(routing.DefaultRouteAfter))
	fresh, err := l.Submit(ctx, "oresident2", core.Draft{Category: "light", Text: "路灯一闪一闪", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		number string
		want   core.State
	}{{old.Number, core.StateAssigned}, {fresh.Number, core.StateSubmitted}} {
		c, _ := st.Case(ctx, tt.number)
		if c.State != tt.want {
			t.Errorf("case %s after the sweep: %s, want %s", tt.number, c.State, tt.want)
		}
	}
	// The assignment goes out like the router's, to be pushed.
	pending, _ := st.PendingEvents(ctx, 10)
	if last := pending[len(pending)-1]; last.Kind != core.EventAssigned || last.Case != old.Number {
		t.Errorf("last event in the outbox: %+v", last)
	}
	// Swept again: assigned once.
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("second sweep changed %d: %v", n, err)
	}
}
