package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store"
)

// testVisits: a visit is stored with its counter in one write; a retry with
// the same key (by the same cadre) stores nothing and returns the first;
// another cadre's same key is another visit; a household lists its own,
// newest first; concurrent visits lose no count.
func testVisits(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	n := 0
	visit := func(hh, cadre, grid, key string) core.Visit {
		n++
		at := clock.Now().Add(time.Duration(n) * time.Minute)
		return core.Visit{ID: fmt.Sprintf("V%03d", n), Household: hh, Cadre: cadre, Village: "v1", Grid: grid, At: at,
			Month: at.Format("2006-01"), Found: "家里都好", Key: key}
	}
	first, added, err := s.AddVisit(ctx, visit("H1", "c1", "g1", "k1"))
	if err != nil || !added {
		t.Fatalf("add: %v %v", added, err)
	}
	again, added, err := s.AddVisit(ctx, visit("H1", "c1", "g1", "k1"))
	if err != nil || added || again.ID != first.ID {
		t.Fatalf("retry: added=%v id=%s (first %s) %v", added, again.ID, first.ID, err)
	}
	if _, added, err := s.AddVisit(ctx, visit("H1", "c2", "g1", "k1")); err != nil || !added {
		t.Fatalf("another cadre's key: %v %v", added, err)
	}
	if _, _, err := s.AddVisit(ctx, visit("H2", "c1", "g2", "k2")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddVisit(ctx, core.Visit{ID: "V", Household: "H1"}); err == nil {
		t.Error("a visit without cadre and key was stored")
	}
	got, err := s.HouseholdVisits(ctx, "H1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Cadre != "c2" || got[1].ID != first.ID || got[1].Found != "家里都好" {
		t.Fatalf("H1's visits: %+v", got)
	}
	if got, _ := s.HouseholdVisits(ctx, "H1", 1); len(got) != 1 || got[0].Cadre != "c2" {
		t.Fatalf("limit 1: %+v", got)
	}
	if got, _ := s.HouseholdVisits(ctx, "H", 10); len(got) != 0 {
		t.Fatalf("a household whose ID starts another's: %+v", got)
	}

	// Concurrent visits, some of them retries of each other.
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := core.Visit{ID: fmt.Sprintf("VC%02d", i), Household: "H3", Cadre: "c1", Village: "v1", Grid: "g1",
				At: clock.Now(), Month: clock.Now().Format("2006-01"), Found: "好", Key: fmt.Sprintf("kc%d", i%20)}
			if _, _, err := s.AddVisit(ctx, v); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	counts, err := s.VisitCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	month := clock.Now().Format("2006-01")
	want := map[core.VisitCell]int{
		{Month: month, Village: "v1", Grid: "g1", Cadre: "c1"}: 21,
		{Month: month, Village: "v1", Grid: "g1", Cadre: "c2"}: 1,
		{Month: month, Village: "v1", Grid: "g2", Cadre: "c1"}: 1,
	}
	if len(counts) != len(want) {
		t.Fatalf("counts: %v, want %v", counts, want)
	}
	for c, n := range want {
		if counts[c] != n {
			t.Errorf("count of %+v: %d, want %d", c, counts[c], n)
		}
	}
	if got, _ := s.HouseholdVisits(ctx, "H3", 100); len(got) != 20 {
		t.Errorf("H3 has %d visits, want 20 (20 keys)", len(got))
	}
}
