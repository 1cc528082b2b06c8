package valkey_test

import (
	"context"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/routing"
	"gridbot/routing/valkeystream"
	"gridbot/store"
	"gridbot/store/storetest"
)

// A ledger written before the retention index gets it when a store opens
// it.
func TestRetentionIndexBuiltWhenOpened(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	openStore := func() store.Store { return open(t, prefix, nil) }
	dropIndex := func() {
		s := open(t, prefix, nil)
		keys, err := s.Client().Do(ctx, s.Client().B().Keys().Pattern(prefix+"{gb}:retain*").Build()).AsStrSlice()
		if err != nil || len(keys) < 10 {
			t.Fatalf("retention index keys: %d, %v", len(keys), err)
		}
		for _, k := range keys {
			if err := s.Client().Do(ctx, s.Client().B().Del().Key(k).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}
	}
	storetest.RetentionIndexBuiltWhenOpened(t, 300, openStore, dropIndex)
}

// A retention run on two instances at once erases exactly the expired
// cases.
func TestRetentionErasesExactlyTheExpired(t *testing.T) {
	prefix := valkeytest.Prefix(t)
	storetest.RetentionErasesExactlyTheExpired(t, 600, func() store.Store { return open(t, prefix, nil) })
}

// A write script that fails half way (the stream key holding a string, so
// XADD fails after the figures' counters moved) leaves the retention index
// as the case stands: the reopening it carried is not in the case, and the
// case stays due. The index moves just before the case is written, after
// everything that can fail on a key of the wrong type.
func TestRetentionWriteFailingHalfWay(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, nil)
	at := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Resident: "o1", Text: "路灯", CreatedAt: at},
		core.Event{Kind: core.EventSubmitted, At: at})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateCase(ctx, c.Number, func(x *core.Case) ([]core.Event, error) {
		x.State = core.StateClosed
		return []core.Event{{Kind: core.EventClosed, At: at.Add(time.Hour)}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	stream := valkeystream.StreamKey(prefix, routing.TopicCaseEvents)
	cl := s.Client()
	if err := cl.Do(ctx, cl.B().Del().Key(stream).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Do(ctx, cl.B().Set().Key(stream).Value("not a stream").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.UpdateCase(ctx, c.Number, func(x *core.Case) ([]core.Event, error) {
		x.State = core.StateReopened
		return []core.Event{{Kind: core.EventReopened, At: at.Add(2 * time.Hour)}}, nil
	})
	if err == nil {
		t.Fatal("the write succeeded with the stream key of the wrong type")
	}
	got, err := s.Case(ctx, c.Number)
	if err != nil || got.State != core.StateClosed {
		t.Fatalf("the case after the failed write: %v %v", got.State, err)
	}
	if due, err := s.RetentionDue(ctx, at.AddDate(1, 0, 0), 10); err != nil || len(due) != 1 || due[0] != c.Number {
		t.Fatalf("due after the failed write: %v, %v; want %s", due, err, c.Number)
	}
}
