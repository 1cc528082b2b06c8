package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store/embedded"
)

// Concurrent writes share commits, and one write's failure or panic touches
// nobody else's: every case is created with its own number, every update
// that should land does, and the failing ones get their own errors.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	const n = 64
	numbers := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, _, err := s.CreateCase(ctx, core.Case{Resident: fmt.Sprint("o", i), Text: "x", CreatedAt: now},
				core.Event{Kind: core.EventSubmitted, At: now})
			if err != nil {
				t.Error(err)
				return
			}
			numbers[i] = c.Number
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, num := range numbers {
		if seen[num] {
			t.Fatalf("number %s given twice", num)
		}
		seen[num] = true
	}
	boom := errors.New("boom")
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, _, errs[i] = s.UpdateCase(ctx, numbers[i], func(c *core.Case) ([]core.Event, error) {
				switch i % 4 {
				case 1:
					return nil, boom
				case 2:
					panic("bad change")
				}
				c.Text = "changed"
				return []core.Event{{Kind: core.EventReplied, At: now, Text: "ok"}}, nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		c, gerr := s.Case(ctx, numbers[i])
		if gerr != nil {
			t.Fatal(gerr)
		}
		switch i % 4 {
		case 1:
			if !errors.Is(err, boom) || c.Text != "x" {
				t.Errorf("write %d: err %v, text %q; want boom and no change", i, err, c.Text)
			}
		case 2:
			if err == nil || c.Text != "x" {
				t.Errorf("write %d: err %v, text %q; want the panic as an error and no change", i, err, c.Text)
			}
		default:
			if err != nil || c.Text != "changed" {
				t.Errorf("write %d: err %v, text %q; want it landed", i, err, c.Text)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateCase(ctx, core.Case{Resident: "late", CreatedAt: now}, core.Event{Kind: core.EventSubmitted, At: now}); err == nil {
		t.Error("a write after Close succeeded")
	}
}
