package valkey_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
)

// A ledger written before the indexes existed is indexed when a store
// first opens it: the open cases, a grid's cases and the counts come out
// right.
func TestIndexesBuiltForAnOlderLedger(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, nil)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	var numbers []string
	for i, grid := range []string{"g1", "g2", "g1"} {
		c, ev := newCase(now, "x")
		c.Grid = grid
		c, _, err := s.CreateCase(ctx, c, ev)
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
	// The keys as an older gridbot left them: no indexes, the cases in
	// plain JSON.
	cl := s.Client()
	for _, n := range numbers {
		c, err := s.Case(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Do(ctx, cl.B().Set().Key(prefix+"{gb}:case:"+n).Value(string(raw)).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"live", "grid:g1", "grid:g2", "indexed"} {
		if err := cl.Do(ctx, cl.B().Del().Key(prefix+"{gb}:"+k).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	s = open(t, prefix, nil)
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
