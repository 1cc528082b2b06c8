package routing_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"gridbot/core"
	"gridbot/routing"
	"gridbot/store/embedded"
)

// heldNotifier holds every push until released, as a slow WeChat would.
type heldNotifier struct {
	fakeNotifier
	release chan struct{}
	once    sync.Once
	started chan struct{}
}

func (h *heldNotifier) Notify(ctx context.Context, n core.Notice) (string, error) {
	h.once.Do(func() { close(h.started) })
	select {
	case <-h.release:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return h.fakeNotifier.Notify(ctx, n)
}

// An event stays in the outbox until every work handler has finished it:
// while the leader's push hangs, the assignment's event is still there
// (a crash now publishes it again at the next start); once the push is
// done, the outbox is empty.
func TestRelayClearsTheOutboxOnlyOnceHandled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	town := sampleTown(t, false)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ledger := &core.Ledger{Store: st, Town: town}
	notes := &heldNotifier{release: make(chan struct{}), started: make(chan struct{})}
	bus := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 64}, watermill.NopLogger{})
	relay := &routing.Relay{Outbox: st, Publisher: bus, Log: log, Poll: 20 * time.Millisecond}
	h := &routing.Handlers{Ledger: ledger, Town: town, Notifier: notes, Marks: st, Log: log,
		Feed: func(core.Event, core.Case) {}}
	router, err := routing.NewRouter(routing.Config{Instance: "t", Relay: relay}, h,
		func(string, bool) (message.Subscriber, error) { return bus, nil }, bus)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { router.Run(ctx); close(done) }()
	<-router.Running()
	go relay.Run(ctx)
	t.Cleanup(func() { cancel(); <-done; bus.Close(); st.Close() })

	c, err := ledger.Submit(ctx, "oresident1", core.Draft{Category: "light", Text: "路灯不亮", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-notes.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the leader's push never started")
	}
	// The submission is assigned and finished by every handler; the
	// assignment waits on its push.
	eventually(t, "the submission to leave the outbox", func() bool {
		pending, err := st.PendingEvents(ctx, 10)
		return err == nil && len(pending) == 1
	})
	time.Sleep(100 * time.Millisecond) // several polls: nothing clears it early
	pending, err := st.PendingEvents(ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].Kind != core.EventAssigned || pending[0].Case != c.Number {
		t.Fatalf("outbox while the push hangs: %+v %v", pending, err)
	}
	close(notes.release)
	eventually(t, "the outbox to empty", func() bool {
		pending, err := st.PendingEvents(ctx, 10)
		return err == nil && len(pending) == 0
	})
	if n := len(notes.to("osample-L10-a")); n != 1 {
		t.Fatalf("the leader got %d pushes", n)
	}
}
