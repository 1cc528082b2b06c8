package embedded_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store/embedded"
)

// A file written before the indexes existed is indexed when opened: the
// open cases, a grid's cases and the counts come out right.
func TestIndexesBuiltForAnOlderFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gridbot.db")
	s, err := embedded.Open(path, embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	var numbers []string
	for i, grid := range []string{"g1", "g2", "g1"} {
		c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: grid, Resident: "o1", CreatedAt: now},
			core.Event{Kind: core.EventSubmitted, At: now})
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, c.Number)
		if i == 0 {
			if _, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
				c.State = core.StateClosed
				return []core.Event{{Kind: core.EventClosed, At: now}}, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The file as an older gridbot left it: no index buckets.
	rewriteFile(t, path, dropBuckets("live", "grids"))

	s, err = embedded.Open(path, embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list := func(q core.CaseQuery) string {
		cs, err := s.Cases(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Number)
		}
		return fmt.Sprint(out)
	}
	if got, want := list(core.CaseQuery{States: core.SweptStates}), fmt.Sprint([]string{numbers[2], numbers[1]}); got != want {
		t.Errorf("open cases %s, want %s", got, want)
	}
	if got, want := list(core.CaseQuery{Grids: []string{"g1"}}), fmt.Sprint([]string{numbers[2], numbers[0]}); got != want {
		t.Errorf("grid g1 %s, want %s", got, want)
	}
	counts, err := s.CountCases(ctx)
	if err != nil || counts[core.StateClosed] != 1 || counts[core.StateSubmitted] != 2 {
		t.Errorf("counts %v, %v", counts, err)
	}
}
