package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store"
)

// reachFill files n cases over grids g1, g2 (village v1) and g3 (v2),
// assigned to la, lb or nobody, some with a meeting led by m1, every fifth
// closed, a few filed under v1 in g3 (a grid that changed village since),
// and returns their numbers.
func reachFill(t *testing.T, s store.Store, n int, t0 time.Time) []string {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(17, 3))
	grids := []string{"g1", "g2", "g3"}
	var out []string
	for i := range n {
		at := t0.Add(time.Duration(i) * 5 * time.Hour)
		g := grids[rng.IntN(3)]
		v := "v1"
		if g == "g3" && i%7 != 0 {
			v = "v2"
		}
		c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Category: "env", Grid: g, Village: v,
			Resident: fmt.Sprintf("o%d", i), Text: "路灯", CreatedAt: at}, core.Event{Kind: core.EventSubmitted, At: at})
		if err != nil {
			t.Fatal(err)
		}
		assignee := []string{"la", "lb", ""}[rng.IntN(3)]
		_, _, err = s.UpdateCase(ctx, c.Number, func(x *core.Case) ([]core.Event, error) {
			x.Assignee = assignee
			if assignee != "" {
				x.State = core.StateAssigned
			}
			if i%5 == 0 {
				x.State = core.StateClosed
			}
			if i%11 == 0 {
				x.Meeting = &core.Meeting{Decided: true, Leader: "m1"}
			}
			return []core.Event{{Kind: core.EventNoted, At: at.Add(time.Minute)}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.Number)
	}
	return out
}

// reachWant lists, newest first, the cases of every one (all, the whole
// ledger as the store lists it unnarrowed) that q matches.
func reachWant(all []core.Case, q core.CaseQuery) []string {
	var out []string
	for i := range all {
		if q.Match(&all[i]) {
			out = append(out, all[i].Number)
		}
	}
	return out
}

// reachPages lists q page by page (limit a page, each from the last
// number of the one before, as the console's ?before= does) to the end.
func reachPages(t *testing.T, s store.Store, q core.CaseQuery, limit int) []string {
	t.Helper()
	var out []string
	q.Limit = limit
	for range 1000 {
		page, err := s.Cases(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			out = append(out, c.Number)
		}
		if len(page) < limit {
			return out
		}
		q.Before = page[len(page)-1].Number
	}
	t.Fatal("pages never end")
	return nil
}

// reachQueries are the lists of what people may see that the suite checks.
var reachQueries = []struct {
	name string
	q    core.CaseQuery
}{
	{"grid leader la (g1, assigned, meetings)", core.CaseQuery{Within: []core.CaseScope{{Grid: "g1"}, {Staff: "la"}}}},
	{"grid leader of two grids", core.CaseQuery{Within: []core.CaseScope{{Grid: "g1"}, {Grid: "g3"}, {Staff: "lb"}}}},
	{"village v1", core.CaseQuery{Within: []core.CaseScope{{Village: "v1"}, {Staff: "vs"}}}},
	{"village v2", core.CaseQuery{Within: []core.CaseScope{{Village: "v2"}}}},
	{"mine (la), any state", core.CaseQuery{Within: []core.CaseScope{{Staff: "la"}}}},
	{"mine (la), closed", core.CaseQuery{States: []core.State{core.StateClosed}, Within: []core.CaseScope{{Staff: "la"}}}},
	{"a meeting's leader", core.CaseQuery{Within: []core.CaseScope{{Staff: "m1"}}}},
	{"two grids", core.CaseQuery{Grids: []string{"g2", "g3"}}},
	{"la's, one category", core.CaseQuery{Category: "env", Within: []core.CaseScope{{Grid: "g2"}, {Staff: "la"}}}},
	{"nobody's", core.CaseQuery{Within: []core.CaseScope{{Staff: "nobody"}, {Village: "v9"}, {Grid: "g9"}}}},
	// Read along a narrower index (the live cases, a word's) and checked
	// against the reach before the cases are read.
	{"grid leader la, open", core.CaseQuery{States: openStates, Within: []core.CaseScope{{Grid: "g1"}, {Staff: "la"}}}},
	{"village v1, open", core.CaseQuery{States: openStates, Within: []core.CaseScope{{Village: "v1"}, {Staff: "vs"}}}},
	{"mine (lb), open", core.CaseQuery{States: openStates, Within: []core.CaseScope{{Staff: "lb"}}}},
	{"nobody's, open", core.CaseQuery{States: openStates, Within: []core.CaseScope{{Staff: "nobody"}}}},
	{"grid leader lb, one grid's", core.CaseQuery{Grids: []string{"g3"}, Within: []core.CaseScope{{Grid: "g1"}, {Staff: "lb"}}}},
	{"grid leader la, searched", core.CaseQuery{Search: SearchRule.Parse("路灯"), Within: []core.CaseScope{{Grid: "g1"}, {Staff: "la"}}}},
	{"village v2, searched among the open", core.CaseQuery{States: openStates, Search: SearchRule.Parse("路灯"), Within: []core.CaseScope{{Village: "v2"}}}},
}

// openStates are the console's open cases (state=open).
var openStates = []core.State{core.StateSubmitted, core.StateAssigned}

// testReach: a list narrowed to what someone may see (CaseQuery.Within:
// their grids, their village, the cases with them) lists exactly the
// cases it matches, newest first, each once, page after page; a case
// reassigned moves from one leader's list to the other's, a case moved to
// another village's grid to that village's list, and a closed case stays
// in its assignee's.
func testReach(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	numbers := reachFill(t, s, 90, clock.Now())
	check := func(when string) {
		t.Helper()
		all, err := s.Cases(ctx, core.CaseQuery{Limit: 1 << 20})
		if err != nil || len(all) != len(numbers) {
			t.Fatalf("%s: every case: %d, %v", when, len(all), err)
		}
		for _, tc := range reachQueries {
			want := reachWant(all, tc.q)
			for _, limit := range []int{7, 1000} {
				got := reachPages(t, s, tc.q, limit)
				if !slices.Equal(got, want) {
					t.Errorf("%s: %s, pages of %d: %d cases %v, want %d %v", when, tc.name, limit, len(got), got, len(want), want)
				}
			}
		}
	}
	check("filed")
	// la's newest open case goes to lb; a case of g1 to g3 in village v2;
	// a case of la's is closed.
	var moved, regridded, closed string
	all, err := s.Cases(ctx, core.CaseQuery{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		switch {
		case moved == "" && c.Assignee == "la" && c.Grid != "g1" && c.State != core.StateClosed:
			moved = c.Number
		case regridded == "" && c.Grid == "g1" && c.Assignee != "la":
			regridded = c.Number
		case closed == "" && c.Assignee == "la" && c.State != core.StateClosed:
			closed = c.Number
		}
	}
	if moved == "" || regridded == "" || closed == "" {
		t.Fatalf("fill lacks the cases to move: %q %q %q", moved, regridded, closed)
	}
	change := func(number string, fn func(*core.Case)) {
		t.Helper()
		_, _, err := s.UpdateCase(ctx, number, func(c *core.Case) ([]core.Event, error) {
			fn(c)
			return []core.Event{{Kind: core.EventNoted, At: clock.Now()}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	change(moved, func(c *core.Case) { c.Assignee = "lb" })
	change(regridded, func(c *core.Case) { c.Grid, c.Village = "g3", "v2" })
	change(closed, func(c *core.Case) { c.State = core.StateClosed })
	has := func(q core.CaseQuery, number string) bool {
		return slices.Contains(reachPages(t, s, q, 1000), number)
	}
	la, lb := core.CaseQuery{Within: []core.CaseScope{{Staff: "la"}}}, core.CaseQuery{Within: []core.CaseScope{{Staff: "lb"}}}
	if has(la, moved) || !has(lb, moved) {
		t.Errorf("%s reassigned from la to lb: in la's %v, in lb's %v", moved, has(la, moved), has(lb, moved))
	}
	v1, v2 := core.CaseQuery{Within: []core.CaseScope{{Village: "v1"}}}, core.CaseQuery{Within: []core.CaseScope{{Village: "v2"}}}
	if has(v1, regridded) || !has(v2, regridded) {
		t.Errorf("%s moved to g3 in v2: in v1's %v, in v2's %v", regridded, has(v1, regridded), has(v2, regridded))
	}
	if !has(la, closed) {
		t.Errorf("%s closed: not in la's list", closed)
	}
	check("moved")
}

// ReachIndexBuiltWhenOpened checks, for a store that open opens (each call
// a new store on the same ledger), that a ledger whose staff and village
// indexes dropIndex removes (as an older gridbot left it) gets them built
// when opened: the lists of what people may see are whole.
func ReachIndexBuiltWhenOpened(t *testing.T, open func() store.Store, dropIndex func()) {
	ctx := context.Background()
	s := open()
	numbers := reachFill(t, s, 60, time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dropIndex()
	s = open()
	defer s.Close()
	all, err := s.Cases(ctx, core.CaseQuery{Limit: 1 << 20})
	if err != nil || len(all) != len(numbers) {
		t.Fatalf("every case: %d, %v", len(all), err)
	}
	for _, tc := range reachQueries {
		want := reachWant(all, tc.q)
		if got := reachPages(t, s, tc.q, 1000); !slices.Equal(got, want) {
			t.Errorf("built on open: %s: %d cases, want %d", tc.name, len(got), len(want))
		}
	}
}
