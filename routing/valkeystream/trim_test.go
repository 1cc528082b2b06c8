package valkeystream

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/valkey-io/valkey-go"

	"gridbot/internal/valkeytest"
)

// nodeSlack is how many entries below MinID an approximate trim may leave:
// the server's stream-node-max-entries (100 by default).
const nodeSlack = 100

func streamLen(t testing.TB, c valkey.Client, key string) int64 {
	t.Helper()
	n, err := c.Do(context.Background(), c.B().Xlen().Key(key).Build()).AsInt64()
	if err != nil {
		t.Fatalf("XLEN: %v", err)
	}
	return n
}

func streamIDs(t testing.TB, c valkey.Client, key string) []string {
	t.Helper()
	entries, err := c.Do(context.Background(), c.B().Xrange().Key(key).Start("-").End("+").Build()).AsXRange()
	if err != nil {
		t.Fatalf("XRANGE: %v", err)
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return ids
}

func mustTrimmer(t testing.TB, cfg TrimConfig) *Trimmer {
	t.Helper()
	tr, err := NewTrimmer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// A trim removes only what every group is done with: a group that has not
// read an entry, or holds it pending, keeps it and everything after it.
func TestTrimKeepsWhatAGroupNeeds(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	const topic = "work"
	key := StreamKey(prefix, topic)
	ctx := context.Background()
	tr := mustTrimmer(t, TrimConfig{Client: client, Prefix: prefix, Topics: []string{topic}})

	// No stream, then a stream without groups: left alone.
	if res, err := tr.Trim(ctx, topic); err != nil || res.MinID != "" {
		t.Fatalf("no stream: %+v %v", res, err)
	}
	mustPublish(t, client, prefix, topic, "before any group")
	if res, err := tr.Trim(ctx, topic); err != nil || res.MinID != "" || streamLen(t, client, key) != 1 {
		t.Fatalf("no group: %+v %v, len %d", res, err, streamLen(t, client, key))
	}

	for _, g := range []string{"fast", "slow"} {
		if err := client.Do(ctx, client.B().XgroupCreate().Key(key).Group(g).Id("0").Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	payloads := make([]string, 999)
	for i := range payloads {
		payloads[i] = fmt.Sprint(i)
	}
	mustPublish(t, client, prefix, topic, payloads...)
	ids := streamIDs(t, client, key)
	read := func(group string, n int64) []valkey.XRangeEntry {
		res, err := client.Do(ctx, client.B().Xreadgroup().Group(group, "c").Count(n).Streams().Key(key).Id(">").Build()).AsXRead()
		if err != nil {
			t.Fatal(err)
		}
		return res[key]
	}
	ack := func(group string, es ...valkey.XRangeEntry) {
		for _, e := range es {
			if err := client.Do(ctx, client.B().Xack().Key(key).Group(group).Id(e.ID).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// fast reads and acks everything; slow has read 600, acked all but
	// the 400th.
	ack("fast", read("fast", 1000)...)
	slow := read("slow", 600)
	ack("slow", slow[:399]...)
	ack("slow", slow[400:]...)

	res, err := tr.Trim(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if res.MinID != slow[399].ID {
		t.Fatalf("MinID %s, want slow's pending %s", res.MinID, slow[399].ID)
	}
	checkKept(t, client, key, ids, res.MinID)

	// Once slow acks it, the trim moves to what slow has not read yet.
	ack("slow", slow[399])
	if res, err = tr.Trim(ctx, topic); err != nil {
		t.Fatal(err)
	}
	if want := ids[600]; res.MinID != want {
		t.Fatalf("MinID %s, want the first entry slow has not read %s", res.MinID, want)
	}
	checkKept(t, client, key, ids, res.MinID)
	// And when every group is done, the stream empties (but for a node).
	ack("slow", read("slow", 1000)...)
	if res, err = tr.Trim(ctx, topic); err != nil {
		t.Fatal(err)
	}
	if n := streamLen(t, client, key); n > nodeSlack {
		t.Fatalf("%d entries left when every group is done", n)
	}
}

// checkKept fails when an entry at or after minID is gone, or more than a
// node's worth before it stayed.
func checkKept(t *testing.T, c valkey.Client, key string, ids []string, minID string) {
	t.Helper()
	min, err := parseStreamID(minID)
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, id := range streamIDs(t, c, key) {
		left[id] = true
	}
	needed, below := 0, 0
	for _, id := range ids {
		sid, _ := parseStreamID(id)
		switch {
		case !sid.less(min):
			needed++
			if !left[id] {
				t.Fatalf("entry %s trimmed though a group needs it (MinID %s)", id, minID)
			}
		case left[id]:
			below++
		}
	}
	if below > nodeSlack {
		t.Fatalf("%d entries before MinID %s left, more than a node", below, minID)
	}
	t.Logf("MinID %s: %d needed entries kept, %d older ones left in a partly trimmed node", minID, needed, below)
}

// A transient group (a console feed) whose instance is gone stops holding
// the stream back after StaleAfter, and is removed; one being read is
// waited for like any other.
func TestTrimDropsStaleTransientGroups(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	const topic = "work"
	key := StreamKey(prefix, topic)
	ctx := context.Background()
	const stale = 300 * time.Millisecond
	tr := mustTrimmer(t, TrimConfig{Client: client, Prefix: prefix, Topics: []string{topic},
		Transient: func(g string) bool { return strings.HasPrefix(g, "feed-") }, StaleAfter: stale})
	for _, g := range []string{"work", "feed-gone", "feed-empty", "feed-live"} {
		if err := client.Do(ctx, client.B().XgroupCreate().Key(key).Group(g).Id("0").Mkstream().Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	// feed-gone had a consumer that read once and died.
	mustPublish(t, client, prefix, topic, "a", "b")
	if err := client.Do(ctx, client.B().Xreadgroup().Group("feed-gone", "dead").Count(1).Streams().Key(key).Id(">").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if err := client.Do(ctx, client.B().XgroupCreateconsumer().Key(key).Group("feed-live").Consumer("alive").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	res, err := tr.Trim(ctx, topic)
	if err != nil || len(res.Destroyed) > 0 {
		t.Fatalf("first trim: %+v %v", res, err)
	}
	time.Sleep(stale + 50*time.Millisecond)
	// feed-live reads again now: not stale.
	if err := client.Do(ctx, client.B().Xreadgroup().Group("feed-live", "alive").Count(1).Streams().Key(key).Id(">").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if res, err = tr.Trim(ctx, topic); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(res.Destroyed, ",")
	if got != "feed-gone,feed-empty" && got != "feed-empty,feed-gone" {
		t.Fatalf("destroyed %q, want feed-gone and feed-empty", got)
	}
	groups, err := tr.groups(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.name)
	}
	if strings.Join(names, ",") != "feed-live,work" && strings.Join(names, ",") != "work,feed-live" {
		t.Fatalf("groups left: %v", names)
	}
	// work has read nothing: nothing may go.
	if n := streamLen(t, client, key); n != 2 {
		t.Fatalf("stream has %d entries, want 2 (work has read none)", n)
	}
}

// TestTrimSoak publishes for several seconds through two work groups (one
// with three workers whose handlers are slow and sometimes nack, one
// consumer that is killed halfway and whose pending work another takes
// over) and a live transient group, with a dead transient group left
// behind, while the trimmer runs: the stream's length stays bounded by
// what is in flight, and every group gets every message.
func TestTrimSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak: not in -short")
	}
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	const topic = "soak"
	key := StreamKey(prefix, topic)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	base := Config{Client: client, Prefix: prefix, BlockTime: 50 * time.Millisecond,
		ClaimInterval: 100 * time.Millisecond, MinIdle: 300 * time.Millisecond, NackDelay: 10 * time.Millisecond}
	// A dead instance's console feed: read once, never again.
	if err := client.Do(ctx, client.B().XgroupCreate().Key(key).Group("feed-dead").Id("$").Mkstream().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	tr := mustTrimmer(t, TrimConfig{Client: client, Prefix: prefix, Topics: []string{topic}, Every: 50 * time.Millisecond,
		Transient: func(g string) bool { return strings.HasPrefix(g, "feed-") }, StaleAfter: 2 * time.Second})
	trimDone := make(chan struct{})
	go func() {
		defer close(trimDone)
		tr.Run(ctx)
	}()

	const total = 12000
	type tally struct {
		mu   sync.Mutex
		seen map[string]bool
	}
	groups := map[string]*tally{"assign": {seen: map[string]bool{}}, "notify": {seen: map[string]bool{}}, "feed-live": {seen: map[string]bool{}}}
	consume := func(ch <-chan *message.Message, g *tally, slow bool) {
		for msg := range ch {
			if slow && rand.IntN(50) == 0 {
				msg.Nack()
				continue
			}
			if slow {
				time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
			}
			g.mu.Lock()
			g.seen[msg.UUID] = true
			g.mu.Unlock()
			msg.Ack()
		}
	}
	subscribe := func(cfg Config) (<-chan *message.Message, *Subscriber) {
		sub := mustSubscriber(t, cfg)
		ch, err := sub.Subscribe(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		return ch, sub
	}
	cfg := base
	cfg.ConsumerGroup, cfg.Workers, cfg.ReadCount, cfg.Consumer = "assign", 3, 1, "i1"
	ch, _ := subscribe(cfg)
	go consume(ch, groups["assign"], true)
	cfg = base
	cfg.ConsumerGroup, cfg.Consumer = "notify", "i1"
	ch, _ = subscribe(cfg)
	go consume(ch, groups["notify"], false)
	// notify's second instance dies halfway with work pending.
	cfg.Consumer = "i2"
	chDying, dying := subscribe(cfg)
	go consume(chDying, groups["notify"], false)
	cfg = base
	cfg.ConsumerGroup, cfg.GroupStartID, cfg.Consumer = "feed-live", "$", "i1"
	ch, _ = subscribe(cfg)
	go consume(ch, groups["feed-live"], false)

	pub, err := NewPublisher(base)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	var maxLen atomic.Int64
	sampleDone := make(chan struct{})
	go func() {
		defer close(sampleDone)
		for ctx.Err() == nil {
			n, err := client.Do(ctx, client.B().Xlen().Key(key).Build()).AsInt64()
			if err == nil && n > maxLen.Load() {
				maxLen.Store(n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	start := time.Now()
	for i := range total {
		if i == total/2 {
			// Kill i2 holding what it read: it stays pending until another
			// consumer claims it after MinIdle.
			go dying.Close()
		}
		if err := pub.Publish(topic, message.NewMessage(watermill.NewUUID(), []byte(fmt.Sprint(i)))); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			time.Sleep(5 * time.Millisecond) // spread over a few seconds
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for name, g := range groups {
		for {
			g.mu.Lock()
			n := len(g.seen)
			g.mu.Unlock()
			if n == total {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("group %s got %d of %d messages", name, n, total)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Let the trimmer catch up with the last acks.
	time.Sleep(300 * time.Millisecond)
	final := streamLen(t, client, key)
	cancel()
	<-trimDone
	<-sampleDone
	t.Logf("%d messages in %s; longest the stream was: %d entries; at the end: %d", total,
		time.Since(start).Round(time.Millisecond), maxLen.Load(), final)
	// Bounded by what is in flight (and by the dead feed group for its
	// StaleAfter, 2 s: a live group on a loaded machine can go unread for
	// longer than a shorter bound, and would be dropped): far below what
	// was published. The dead group was dropped; otherwise it would hold
	// every entry.
	if max := maxLen.Load(); max > total/2 {
		t.Errorf("the stream reached %d entries of %d published: not trimmed", max, total)
	}
	if final > 2*nodeSlack {
		t.Errorf("%d entries left once every group was done", final)
	}
}
