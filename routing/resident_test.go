package routing_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"gridbot/core"
	"gridbot/routing"
)

// A resident who joined a case (附议) hears its progress, is asked to rate
// the result and is told of the close, but never reads the words staff
// wrote to the resident who filed it.
func TestJoinedResidentHearsProgressAndClose(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, sampleTown(t, false))
	c, err := r.ledger.Submit(ctx, "oresident1", core.Draft{Category: "light", Text: "路灯不亮", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ledger.Join(ctx, c.Number, "oneighbour"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the case assigned", func() bool { return len(r.notes.to("osample-L10-a")) == 1 })
	if _, _, err := r.ledger.Accept(ctx, c.Number, "gl-L10-a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ledger.Reply(ctx, c.Number, "gl-L10-a", "陈伯，明天派电工去您家门口修"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ledger.Resolve(ctx, c.Number, "gl-L10-a", "已更换陈伯家门口的灯泡"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rating question to the joined resident", func() bool { return len(r.notes.to("oneighbour")) == 2 })
	if _, err := r.ledger.Rate(ctx, "oresident1", 5); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the closing notice to the joined resident", func() bool { return len(r.notes.to("oneighbour")) == 3 })
	got := r.notes.to("oneighbour")
	for _, want := range []string{"已受理", "请回复数字 1-5", "感谢您的关注和附议"} {
		found := false
		for _, n := range got {
			found = found || strings.Contains(n.Title+n.Text, want) && n.Case == c.Number
		}
		if !found {
			t.Errorf("no notice to the joined resident with %q in %+v", want, got)
		}
	}
	for _, n := range got {
		if strings.Contains(n.Title+n.Text, "陈伯") {
			t.Errorf("the joined resident read staff's words to another resident: %+v", n)
		}
	}
	if _, err := r.ledger.RateJoined(ctx, c.Number, "oneighbour", 4); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deliveries to the joined resident recorded", func() bool {
		evs, _ := r.store.Events(ctx, c.Number)
		n := 0
		for _, e := range evs {
			if e.Kind == core.EventDelivered && e.Data[core.DataTo] == core.ActorJoinedPrefix+"oneighbour" {
				n++
			}
		}
		return n == 3
	})
	if n := len(r.notes.to("oresident1")); n != 3 {
		t.Errorf("the resident who filed got %d notices, want 3 (accepted, reply, result)", n)
	}
}

// With post A on leave the case goes to post B, and the resident is told
// who really took it: B's name, never A's.
func TestResidentToldWhoReallyTookTheCase(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, sampleTown(t, true))
	c, err := r.ledger.Submit(ctx, "oresident1", core.Draft{Category: "light", Text: "路灯不亮", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the push to post B", func() bool { return len(r.notes.to("osample-L10-b")) == 1 })
	if _, _, err := r.ledger.Accept(ctx, c.Number, "gl-L10-b"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the acceptance notice", func() bool { return len(r.notes.to("oresident1")) == 1 })
	n := r.notes.to("oresident1")[0]
	if !strings.Contains(n.Text, "司徒惠珍") || strings.Contains(n.Title+n.Text, "何家豪") {
		t.Errorf("the resident was told %q; want post B's 司徒惠珍, never post A's 何家豪", n.Text)
	}
}

// fakeFetcher serves made-up bytes, or fails for IDs starting "gone".
type fakeFetcher struct {
	mu    sync.Mutex
	calls map[string]int
}

func (f *fakeFetcher) Fetch(_ context.Context, id string) (string, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[id]++
	if strings.HasPrefix(id, "gone") {
		return "", nil, fmt.Errorf("fake: %w", core.ErrInvalid)
	}
	return "image/png", []byte("bytes of " + id), nil
}

// Photos and voice notes of a filed case, and of a supplement, are fetched
// once and kept; media WeChat no longer has is skipped, not retried.
func TestKeepMedia(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, sampleTown(t, false))
	fetch := &fakeFetcher{calls: map[string]int{}}
	media := &core.MediaStore{Records: r.store}
	bus := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 64}, watermill.NopLogger{})
	h := &routing.Handlers{Ledger: r.ledger, Town: r.ledger.Town, Notifier: r.notes, Marks: r.store,
		Log: discardLog(), Feed: func(core.Event, core.Case) {}, Fetcher: fetch, Media: media}
	router, err := routing.NewRouter(routing.Config{Instance: "m", RetryInterval: time.Millisecond}, h,
		func(string, bool) (message.Subscriber, error) { return bus, nil }, bus)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { router.Run(rctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	<-router.Running()

	c, err := r.ledger.Submit(ctx, "oresident1", core.Draft{Category: "env", Text: "水渠堵了", Grid: "L10",
		Photos: []core.Media{{MediaID: "p1"}, {MediaID: "gone1"}}, Voices: []core.Media{{MediaID: "v1"}}})
	if err != nil {
		t.Fatal(err)
	}
	// The rig's relay feeds its own bus; hand this router the events too.
	publish := func(kind core.EventKind) {
		evs, _ := r.store.Events(ctx, c.Number)
		for _, ev := range evs {
			if ev.Kind == kind {
				msg, _ := routing.NewMessage(ev)
				if err := bus.Publish(routing.TopicCaseEvents, msg); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	publish(core.EventSubmitted)
	eventually(t, "the voice note kept", func() bool { _, ok, _ := media.Get(ctx, "v1"); return ok })
	if _, err := r.ledger.Supplement(ctx, c.Number, "oresident1", core.Addition{Photo: &core.Media{MediaID: "p2"}}); err != nil {
		t.Fatal(err)
	}
	publish(core.EventSupplemented)
	savedEvents := func() int {
		evs, _ := r.store.Events(ctx, c.Number)
		n := 0
		for _, e := range evs {
			if e.Kind == core.EventMediaSaved {
				n++
			}
		}
		return n
	}
	eventually(t, "three media_saved events", func() bool { return savedEvents() == 3 })
	f, _, _ := media.Get(ctx, "p1")
	if f.Case != c.Number || f.Kind != core.MediaImage || string(f.Data) != "bytes of p1" {
		t.Errorf("kept %+v", f)
	}
	fetch.mu.Lock()
	defer fetch.mu.Unlock()
	if fetch.calls["p1"] != 1 || fetch.calls["gone1"] != 2 {
		t.Errorf("fetches %v: want p1 once (kept), gone1 once per event (never retried)", fetch.calls)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
