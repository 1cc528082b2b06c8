package routing_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
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

// channelRig runs the router with WeChat and WeCom adapters, WeCom first.
type channelRig struct {
	ledger        *core.Ledger
	store         *embedded.Store
	wechat, wecom *fakeNotifier
}

func newChannelRig(t *testing.T, edit func(s *core.Staff)) *channelRig {
	t.Helper()
	return newChannelRigWithGroups(t, edit, nil)
}

// groupsOf is what the router hands new cases to (wecom.Groups).
type groupsOf interface {
	NewCase(ctx context.Context, c core.Case) error
}

// newChannelRigWithGroups is newChannelRig whose router hands new cases
// to groups.
func newChannelRigWithGroups(t *testing.T, edit func(s *core.Staff), groups groupsOf) *channelRig {
	t.Helper()
	base := *sampleTown(t, false)
	base.Staff = slices.Clone(base.Staff)
	for i := range base.Staff {
		edit(&base.Staff[i])
	}
	town, err := core.NewTown(base)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	roster := &core.Roster{Town: town, Records: st, Keys: st, Channels: []core.Channel{core.ChannelWeCom, core.ChannelWeChat}}
	r := &channelRig{ledger: &core.Ledger{Store: st, Town: town, Roster: roster}, store: st,
		wechat: &fakeNotifier{}, wecom: &fakeNotifier{}}
	bus := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 64}, watermill.NopLogger{})
	h := &routing.Handlers{Ledger: r.ledger, Town: town, Notifier: r.wechat, Marks: st, Log: log, Roster: roster,
		Channels: map[core.Channel]core.Notifier{core.ChannelWeCom: r.wecom}}
	if groups != nil {
		h.Groups = groups
	}
	relay := &routing.Relay{Outbox: st, Publisher: bus, Log: log, Poll: 20 * time.Millisecond}
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

// deliveries lists the channel (or "!errcode") of each push recorded on
// the case for recipient to.
func (r *channelRig) deliveries(t *testing.T, number, to string) []string {
	t.Helper()
	evs, err := r.store.Events(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.Data[core.DataTo] != to {
			continue
		}
		switch e.Kind {
		case core.EventDelivered:
			out = append(out, e.Data[core.DataChannel])
		case core.EventUndeliverable:
			out = append(out, e.Data[core.DataChannel]+"!"+e.Data[core.DataErrCode])
		}
	}
	return out
}

// A leader with a WeCom userid is reached on WeCom; one who prefers WeChat
// on WeChat; a WeCom refusal falls back to WeChat, and both tries are on
// the case; a busy WeCom falls back too, and nothing is pushed twice.
func TestPushPrefersChannelAndFallsBack(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name       string
		prefers    core.Channel
		wecomFails []error
		want       []string
		wecom      int
		wechat     int
	}{
		{"WeCom first", "", nil, []string{"custom"}, 1, 0},
		{"prefers WeChat", core.ChannelWeChat, nil, []string{"custom"}, 0, 1},
		{"WeCom refuses", "", []error{&core.PushError{Channel: core.ChannelWeCom, Code: 81013, Msg: "user unknown"}},
			[]string{"wecom!81013", "custom"}, 0, 1},
		{"WeCom busy", "", []error{&core.PushError{Channel: core.ChannelWeCom, Code: -1, Temporary: true}},
			[]string{"custom"}, 0, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newChannelRig(t, func(s *core.Staff) {
				if s.ID == "gl-L10-a" {
					s.Addresses[core.ChannelWeCom] = "leader10"
					s.Prefers = tt.prefers
				}
			})
			r.wecom.fail = tt.wecomFails
			c, err := r.ledger.Submit(ctx, "oresident", core.Draft{Category: "env", Text: "垃圾没人清", Grid: "L10"})
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "the push", func() bool {
				return len(r.wecom.to("leader10"))+len(r.wechat.to("osample-L10-a")) > 0 &&
					len(r.deliveries(t, c.Number, "gl-L10-a")) == len(tt.want)
			})
			time.Sleep(50 * time.Millisecond)
			if got := r.deliveries(t, c.Number, "gl-L10-a"); !slices.Equal(got, tt.want) {
				t.Errorf("recorded %v, want %v", got, tt.want)
			}
			if w, c := len(r.wecom.to("leader10")), len(r.wechat.to("osample-L10-a")); w != tt.wecom || c != tt.wechat {
				t.Errorf("WeCom %d, WeChat %d pushes; want %d, %d", w, c, tt.wecom, tt.wechat)
			}
		})
	}
}

// flakyGroups refuses the first cases handed to it, as a store down would.
type flakyGroups struct {
	mu     sync.Mutex
	refuse int
	taken  []string
}

func (g *flakyGroups) NewCase(_ context.Context, c core.Case) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refuse > 0 {
		g.refuse--
		return errors.New("queue down")
	}
	g.taken = append(g.taken, c.Number)
	return nil
}

func (g *flakyGroups) got() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.taken)
}

// A new case the groups could not take (their queue down) is handed to
// them again on the retry, and once it is taken never again.
func TestGroupsGetANewCaseOnceWhenTheyFailFirst(t *testing.T) {
	groups := &flakyGroups{refuse: 2}
	r := newChannelRigWithGroups(t, func(*core.Staff) {}, groups)
	c, err := r.ledger.Submit(context.Background(), "oresident", core.Draft{Category: "env", Text: "垃圾没人清", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the groups take the case", func() bool { return len(groups.got()) > 0 })
	time.Sleep(100 * time.Millisecond)
	if got := groups.got(); !slices.Equal(got, []string{c.Number}) {
		t.Errorf("the groups took %v", got)
	}
}
