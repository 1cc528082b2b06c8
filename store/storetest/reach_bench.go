package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store"
)

// BenchReach fills s with n cases over 50 grids of 10 villages, each
// assigned to one of its grid's two leaders, a fiftieth of them to a
// leader of another grid, the newest few open, and times a page of 500 of
// what a grid leader and a village may see and of a leader's "mine",
// any state: walking every case keeping what they may see (Keep alone,
// as before CaseQuery.Within) and reading the indexes of their reach.
func BenchReach(b *testing.B, s store.Store, n int) {
	ctx := context.Background()
	t0 := time.Date(2023, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		g := i % 50
		leader := fmt.Sprintf("l%d", 2*g+i%2)
		if i%50 == 7 {
			leader = fmt.Sprintf("l%d", 2*((g+1)%50))
		}
		state := core.StateClosed
		if i > n-n/50 {
			state = core.StateAssigned
		}
		at := t0.Add(time.Duration(i) * 3 * time.Hour)
		_, _, err := s.CreateCase(ctx, core.Case{State: state, Category: "env", Grid: fmt.Sprintf("g%d", g),
			Village: fmt.Sprintf("v%d", g/5), Assignee: leader, Resident: fmt.Sprintf("o%d", i%997), Text: "路灯不亮",
			CreatedAt: at}, core.Event{Kind: core.EventSubmitted, At: at})
		if err != nil {
			b.Fatal(err)
		}
	}
	// l0 leads g0 (post A); v3 is g15…g19.
	leaderSees := func(c *core.Case) bool { return c.Grid == "g0" || c.Assignee == "l0" }
	villageSees := func(c *core.Case) bool { return c.Village == "v3" }
	mine := func(c *core.Case) bool { return c.Assignee == "l0" }
	for _, bc := range []struct {
		name string
		q    core.CaseQuery
	}{
		{"leader/walk", core.CaseQuery{Keep: leaderSees}},
		{"leader/reach", core.CaseQuery{Keep: leaderSees, Within: []core.CaseScope{{Grid: "g0"}, {Staff: "l0"}}}},
		{"village/walk", core.CaseQuery{Keep: villageSees}},
		{"village/reach", core.CaseQuery{Keep: villageSees, Within: []core.CaseScope{{Village: "v3"}, {Staff: "vs3"}}}},
		{"mine/walk", core.CaseQuery{Keep: mine}},
		{"mine/reach", core.CaseQuery{Keep: mine, Within: []core.CaseScope{{Staff: "l0"}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.q.Limit = 500
			for b.Loop() {
				got, err := s.Cases(ctx, bc.q)
				if err != nil || len(got) == 0 {
					b.Fatalf("%d cases, %v", len(got), err)
				}
			}
		})
	}
}
