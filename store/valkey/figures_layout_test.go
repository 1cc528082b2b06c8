package valkey_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
)

// A ledger written before the figures' counters (cases in plain JSON, no
// marks, no counters) is tallied when a store opens it, and its figures
// come out as the store that wrote it counted them; a case whose marks an
// older layout kept in a key of their own moves them into its value at its
// next write, counted once.
func TestFiguresOfOlderLayouts(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, nil)
	now := time.Now().Add(-48 * time.Hour)
	var numbers []string
	for i := range 6 {
		c, _, err := createCase(ctx, s, now, "x")
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, c.Number)
		if i%2 == 0 {
			if _, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
				c.State, c.Assignee, c.Post = core.StateAssigned, "gl-g1-a", core.PostA
				return []core.Event{{Kind: core.EventAssigned, Actor: "system", At: now.Add(time.Minute)}}, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if i == 4 {
			if _, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
				c.State = core.StateClosed
				return []core.Event{{Kind: core.EventClosed, Actor: "system", At: now.Add(time.Hour)}}, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want, err := s.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Cells) == 0 || len(want.Live) != 5 {
		t.Fatalf("figures of the ledger: %d cells, %d live", len(want.Cells), len(want.Live))
	}
	// Rewrite it as a gridbot before the counters left it.
	cl := s.Client()
	for _, n := range numbers {
		c, err := s.Case(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(c)
		if err := cl.Do(ctx, cl.B().Set().Key(prefix+"{gb}:case:"+n).Value(string(raw)).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Do(ctx, cl.B().Del().Key(prefix+"{gb}:figures", prefix+"{gb}:figured").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	older := open(t, prefix, nil)
	got, err := older.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("figures tallied from the older ledger\n got  %+v\n want %+v", got, want)
	}
	// The tally kept each case's marks in a key of their own; a write
	// moves them into the case's value and counts nothing twice.
	marksKey := prefix + "{gb}:marks:" + numbers[0]
	if n, err := cl.Do(ctx, cl.B().Exists().Key(marksKey).Build()).AsInt64(); err != nil || n != 1 {
		t.Fatalf("marks of their own after the tally: %d, %v", n, err)
	}
	if _, _, err := older.UpdateCase(ctx, numbers[0], func(c *core.Case) ([]core.Event, error) {
		return []core.Event{{Kind: core.EventDelivered, Actor: "system", At: now.Add(2 * time.Hour)}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := cl.Do(ctx, cl.B().Exists().Key(marksKey).Build()).AsInt64(); err != nil || n != 0 {
		t.Fatalf("marks of their own after a write: %d, %v", n, err)
	}
	got, err = older.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The write changed the case's time of change, and nothing else.
	for _, tally := range []*core.FigureTally{&got, &want} {
		for i := range tally.Live {
			tally.Live[i].Changed = time.Time{}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("figures after the write\n got  %+v\n want %+v", got, want)
	}
}
