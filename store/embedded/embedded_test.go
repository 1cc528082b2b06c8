package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/sealing"
	"gridbot/store"
	"gridbot/store/embedded"
	"gridbot/store/storetest"
)

func TestBehaviour(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		s, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST", Now: clock.Now, Search: storetest.SearchRule})
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

// PendingEventsAfter reads the outbox past a sequence number, so the relay
// can go on past the events it has in flight.
func TestPendingEventsAfter(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	var seqs []uint64
	for range 3 {
		_, ev, err := s.CreateCase(ctx, core.Case{Resident: "o1", Text: "x", CreatedAt: now}, core.Event{Kind: core.EventSubmitted, At: now})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ev.Seq)
	}
	for _, tt := range []struct {
		after uint64
		limit int
		want  []uint64
	}{
		{0, 10, seqs}, {seqs[0], 10, seqs[1:]}, {seqs[0], 1, seqs[1:2]}, {seqs[2], 10, nil},
	} {
		got, err := s.PendingEventsAfter(ctx, tt.after, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var gotSeqs []uint64
		for _, e := range got {
			gotSeqs = append(gotSeqs, e.Seq)
		}
		if fmt.Sprint(gotSeqs) != fmt.Sprint(tt.want) {
			t.Errorf("after %d, limit %d: %v, want %v", tt.after, tt.limit, gotSeqs, tt.want)
		}
	}
	// An acked event is gone; the others stay.
	if err := s.AckEvents(ctx, seqs[1]); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.PendingEventsAfter(ctx, 0, 10); len(got) != 2 || got[0].Seq != seqs[0] || got[1].Seq != seqs[2] {
		t.Errorf("after an ack: %+v", got)
	}
}

// Personal data is sealed in the file (core/sealing.go).
func TestSealed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gridbot.db")
	storetest.RunSealed(t, func(t *testing.T, sealer core.Sealer) store.Store {
		s, err := embedded.Open(path, embedded.Options{CasePrefix: "ST", Sealer: sealer, Search: storetest.SealedSearch(sealer)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, func(t *testing.T) []byte {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	})
}

// The behaviour suite holds with sealing on.
func TestBehaviourSealed(t *testing.T) {
	keys, err := sealing.Parse(sealing.NewFile())
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		s, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST", Now: clock.Now, Sealer: keys,
			Search: storetest.SearchRule})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
