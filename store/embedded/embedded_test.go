package embedded_test

import (
	"context"
	"path/filepath"
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
