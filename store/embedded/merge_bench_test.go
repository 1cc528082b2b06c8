package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store/embedded"
)

// BenchmarkMergeWrite: the two cases of a merge written together
// (UpdateCases, one transaction and one fsync) against the two writes a
// merge used to be.
func BenchmarkMergeWrite(b *testing.B) {
	ctx := context.Background()
	s, err := embedded.Open(filepath.Join(b.TempDir(), "db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var numbers []string
	for _, text := range []string{"x", "y"} {
		now := time.Now()
		c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Category: "env", Text: text, Grid: "g1",
			Resident: "o1", CreatedAt: now}, core.Event{Kind: core.EventSubmitted, Actor: core.ActorResident, At: now})
		if err != nil {
			b.Fatal(err)
		}
		numbers = append(numbers, c.Number)
	}
	bump := func(x *core.Case) []core.Event {
		x.Rating++
		return []core.Event{{Kind: core.EventReplied, At: time.Now()}}
	}
	b.Run("one write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.UpdateCases(ctx, numbers, func(cs []*core.Case) ([][]core.Event, error) {
				return [][]core.Event{bump(cs[0]), bump(cs[1])}, nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("two writes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, n := range numbers {
				if _, _, err := s.UpdateCase(ctx, n, func(x *core.Case) ([]core.Event, error) { return bump(x), nil }); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
