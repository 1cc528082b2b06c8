package routing_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/routing"
	"gridbot/store/embedded"
)

// fakeNotifier records notices; failures queued in fail are returned first.
// Its zero value works.
type fakeNotifier struct {
	mu   sync.Mutex
	sent []core.Notice
	fail []error
}

func (f *fakeNotifier) Notify(_ context.Context, n core.Notice) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		return "", err
	}
	f.sent = append(f.sent, n)
	return "custom", nil
}

func (f *fakeNotifier) to(openid string) []core.Notice {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []core.Notice
	for _, n := range f.sent {
		if n.To == openid {
			out = append(out, n)
		}
	}
	return out
}

// flakyMarks is an Ephemeral whose next failSets writes fail, as while
// Valkey restarts.
type flakyMarks struct {
	core.Ephemeral
	mu       sync.Mutex
	failSets int
}

func (f *flakyMarks) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	f.mu.Lock()
	fail := f.failSets > 0
	if fail {
		f.failSets--
	}
	f.mu.Unlock()
	if fail {
		return errors.New("connection refused")
	}
	return f.Ephemeral.Set(ctx, key, v, ttl)
}

type rig struct {
	ledger *core.Ledger
	store  *embedded.Store
	marks  *flakyMarks
	notes  *fakeNotifier
	pub    message.Publisher
	mu     sync.Mutex
	fed    []core.Event
}

func (r *rig) feedKinds(number string) []core.EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []core.EventKind
	for _, e := range r.fed {
		if e.Case == number {
			out = append(out, e.Kind)
		}
	}
	return out
}

func newRig(t *testing.T, town *core.Town) *rig { return newRigAt(t, town, nil) }

// newRigAt is newRig on the clock now (nil: the real one).
func newRigAt(t *testing.T, town *core.Town, now func() time.Time) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{CasePrefix: "ST", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	roster := &core.Roster{Town: town, Records: st, Keys: st}
	r := &rig{ledger: &core.Ledger{Store: st, Town: town, Now: now, Roster: roster}, store: st,
		marks: &flakyMarks{Ephemeral: st}, notes: &fakeNotifier{}}
	bus := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 64}, watermill.NopLogger{})
	r.pub = bus
	h := &routing.Handlers{Ledger: r.ledger, Town: town, Notifier: r.notes, Marks: r.marks, Log: log, Roster: roster,
		Script: testScript(t), Links: &core.LinkBook{Town: town, Records: st},
		Feed: func(ev core.Event, c core.Case) {
			r.mu.Lock()
			r.fed = append(r.fed, ev)
			r.mu.Unlock()
		}}
	relay := &routing.Relay{Outbox: st, Publisher: bus, Log: log, Poll: 50 * time.Millisecond}
	router, err := routing.NewRouter(routing.Config{Instance: "t", RetryInterval: time.Millisecond, Relay: relay}, h,
		func(string, bool) (message.Subscriber, error) { return bus, nil }, bus)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { router.Run(ctx); close(done) }()
	<-router.Running()
	go relay.Run(ctx)
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	return r
}

func sampleTown(t testing.TB, away bool) *core.Town {
	t.Helper()
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	if away {
		copyOf := *town
		copyOf.Staff = append([]core.Staff(nil), town.Staff...)
		for i := range copyOf.Staff {
			if copyOf.Staff[i].ID == "gl-L10-a" {
				copyOf.Staff[i].Away = true
			}
		}
		if town, err = core.NewTown(copyOf); err != nil {
			t.Fatal(err)
		}
	}
	return town
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLoop(t *testing.T) {
	for _, tt := range []struct {
		name   string
		away   bool
		leader string
		post   core.Post
	}{
		{"post A", false, "osample-L10-a", core.PostA},
		{"A away, post B", true, "osample-L10-b", core.PostB},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := newRig(t, sampleTown(t, tt.away))
			c, err := r.ledger.Submit(ctx, "oresident1", core.Draft{Category: "light", Text: "路灯不亮", Grid: "L10"})
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "the leader's push", func() bool { return len(r.notes.to(tt.leader)) == 1 })
			got, _ := r.store.Case(ctx, c.Number)
			if got.State != core.StateAssigned || got.Post != tt.post {
				t.Fatalf("case after assign: state %s post %s", got.State, got.Post)
			}
			if n := r.notes.to(tt.leader)[0]; n.Case != c.Number || n.Key == "" {
				t.Fatalf("push %+v", n)
			}
			if _, _, err := r.ledger.Reply(ctx, c.Number, "gl-L10-a", "明天派电工来修"); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the reply to the resident", func() bool { return len(r.notes.to("oresident1")) == 1 })
			if n := r.notes.to("oresident1")[0]; n.Text != "明天派电工来修" {
				t.Fatalf("reply push %+v", n)
			}
			if _, _, err := r.ledger.Resolve(ctx, c.Number, "gl-L10-a", "已更换灯泡"); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the rating question", func() bool { return len(r.notes.to("oresident1")) == 2 })
			if _, err := r.ledger.Rate(ctx, "oresident1", 5); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the console feed to see the close", func() bool {
				return contains(r.feedKinds(c.Number), core.EventClosed)
			})
			eventually(t, "three delivered events", func() bool {
				evs, _ := r.store.Events(ctx, c.Number)
				n := 0
				for _, e := range evs {
					if e.Kind == core.EventDelivered {
						n++
					}
				}
				return n == 3
			})
		})
	}
}

func contains(kinds []core.EventKind, k core.EventKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// A redelivered event pushes once; a busy WeChat is retried; a closed
// window is recorded as undeliverable and not retried.
func TestPushesAreIdempotentAndRecorded(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, sampleTown(t, false))
	r.notes.fail = []error{&core.PushError{Channel: core.ChannelWeChat, Code: -1, Msg: "system busy", Temporary: true}}
	c, err := r.ledger.Submit(ctx, "oresident2", core.Draft{Category: "env", Text: "垃圾没人清", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the push after a retry", func() bool { return len(r.notes.to("osample-L10-a")) == 1 })

	// Once the push is recorded as done, a redelivery of its event (an
	// at-least-once transport's duplicate) must not push again.
	var assigned core.Event
	eventually(t, "the delivery record", func() bool {
		evs, _ := r.store.Events(ctx, c.Number)
		delivered := false
		for _, e := range evs {
			switch e.Kind {
			case core.EventAssigned:
				assigned = e
			case core.EventDelivered:
				delivered = true
			}
		}
		return delivered
	})
	time.Sleep(20 * time.Millisecond) // the done mark follows the record
	msg, _ := routing.NewMessage(assigned)
	if err := r.pub.Publish(routing.TopicCaseEvents, msg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(r.notes.to("osample-L10-a")); n != 1 {
		t.Fatalf("redelivery pushed again: %d pushes", n)
	}

	r.notes.mu.Lock()
	r.notes.fail = []error{&core.PushError{Code: 45015, Msg: "response out of time limit"}}
	r.notes.mu.Unlock()
	if _, _, err := r.ledger.Reply(ctx, c.Number, "gl-L10-a", "收到"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the undeliverable record", func() bool {
		evs, _ := r.store.Events(ctx, c.Number)
		for _, e := range evs {
			if e.Kind == core.EventUndeliverable && e.Data[core.DataErrCode] == "45015" {
				return true
			}
		}
		return false
	})
	if n := len(r.notes.to("oresident2")); n != 0 {
		t.Fatalf("a refused push was retried into a send: %d", n)
	}
}

// A push WeChat took whose done mark could not be written (Valkey down) is
// not sent again by the retry, and is recorded on the case once.
func TestPushNotRepeatedWhenItsMarkFails(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, sampleTown(t, false))
	r.marks.failSets = 3
	c, err := r.ledger.Submit(ctx, "oresident3", core.Draft{Category: "env", Text: "垃圾没人清", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the done mark", func() bool {
		r.marks.mu.Lock()
		defer r.marks.mu.Unlock()
		return r.marks.failSets == 0
	})
	eventually(t, "the delivery record", func() bool {
		return countEvents(t, r, c.Number, core.EventDelivered) > 0
	})
	time.Sleep(100 * time.Millisecond) // any further retry would have run
	if n := len(r.notes.to("osample-L10-a")); n != 1 {
		t.Fatalf("the leader got %d pushes for one case", n)
	}
	if n := countEvents(t, r, c.Number, core.EventDelivered); n != 1 {
		t.Fatalf("the push is recorded %d times", n)
	}
}

func TestDecodeEventRejectsGarbage(t *testing.T) {
	if _, err := routing.DecodeEvent(message.NewMessage("x", []byte("{not json"))); err == nil {
		t.Fatal("garbage decoded")
	}
	ev := core.Event{Seq: 7, Case: "ST1", Kind: core.EventReplied, Text: "hi"}
	msg, err := routing.NewMessage(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := routing.DecodeEvent(msg)
	if err != nil || got.Seq != 7 || got.Text != "hi" || msg.UUID != "7" {
		t.Fatalf("round trip %+v %v", got, err)
	}
}
