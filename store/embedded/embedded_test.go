package embedded_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store"
	"gridbot/store/embedded"
	"gridbot/store/storetest"
)

func TestBehaviour(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		s, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST", Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// The outbox holds every event until acked, and survives a reopen.
func TestOutboxSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gridbot.db")
	s, err := embedded.Open(path, embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c, ev, err := s.CreateCase(ctx, core.Case{Resident: "o1", Text: "x", CreatedAt: now}, core.Event{Kind: core.EventSubmitted, At: now})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.OutboxReady():
	default:
		t.Fatal("no outbox signal after a write")
	}
	if err := s.Set(ctx, "session:o1", []byte("dialog"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = embedded.Open(path, embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pending, err := s.PendingEvents(ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].Seq != ev.Seq || pending[0].Case != c.Number {
		t.Fatalf("pending after reopen = %+v, %v", pending, err)
	}
	if v, ok, _ := s.Get(ctx, "session:o1"); !ok || string(v) != "dialog" {
		t.Fatalf("session after clean reopen = %q %v", v, ok)
	}
	if err := s.AckEvents(ctx, ev.Seq); err != nil {
		t.Fatal(err)
	}
	if pending, _ := s.PendingEvents(ctx, 10); len(pending) != 0 {
		t.Fatalf("pending after ack = %+v", pending)
	}
}

// Writes grouped into one transaction are run again when another write of
// the group fails; a write run again must see the stored case, not what its
// own first run set. Many writers each setting a mark once: exactly one wins.
func TestGroupedWriteRunAgainSeesTheStoredCase(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for round := range 20 {
		now := time.Now()
		c, _, err := s.CreateCase(ctx, core.Case{Resident: "o1", Text: "x", CreatedAt: now}, core.Event{Kind: core.EventSubmitted, At: now})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
					if c.Warning != "" {
						return nil, core.ErrNoChange
					}
					c.Warning = core.WarningYellow
					return []core.Event{{Kind: core.EventWarned, At: now}}, nil
				})
				if err != nil && !errors.Is(err, core.ErrNoChange) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		evs, _ := s.Events(ctx, c.Number)
		if len(evs) != 2 {
			t.Fatalf("round %d: %d events, want the submission and one warning", round, len(evs))
		}
	}
}
