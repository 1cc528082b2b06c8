package valkeystream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/valkey-io/valkey-go"

	"gridbot/internal/valkeytest"
)

// receive waits for the next message on ch.
func receive(t *testing.T, ch <-chan *message.Message, within time.Duration) *message.Message {
	t.Helper()
	select {
	case msg, ok := <-ch:
		if !ok {
			t.Fatal("channel closed, wanted a message")
		}
		return msg
	case <-time.After(within):
		t.Fatalf("no message within %s", within)
		return nil
	}
}

// expectNothing checks that ch stays silent for d.
func expectNothing(t *testing.T, ch <-chan *message.Message, d time.Duration) {
	t.Helper()
	select {
	case msg, ok := <-ch:
		if ok {
			t.Fatalf("unexpected delivery of %s (%q)", msg.UUID, msg.Payload)
		}
		t.Fatal("channel closed unexpectedly")
	case <-time.After(d):
	}
}

func mustSubscriber(t *testing.T, cfg Config) *Subscriber {
	t.Helper()
	sub, err := NewSubscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

func mustPublish(t *testing.T, client valkey.Client, prefix, topic string, payloads ...string) []*message.Message {
	t.Helper()
	pub, err := NewPublisher(Config{Client: client, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	var msgs []*message.Message
	for _, p := range payloads {
		msgs = append(msgs, message.NewMessage(watermill.NewUUID(), []byte(p)))
	}
	if err := pub.Publish(topic, msgs...); err != nil {
		t.Fatal(err)
	}
	return msgs
}

func pendingCount(t *testing.T, client valkey.Client, key, group string) int64 {
	t.Helper()
	reply, err := client.Do(context.Background(), client.B().Xpending().Key(key).Group(group).Build()).ToArray()
	if err != nil || len(reply) == 0 {
		t.Fatalf("XPENDING: %v %v", reply, err)
	}
	n, err := reply[0].AsInt64()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A consumer that dies holding a message leaves it pending; another
// consumer of the group takes it over once it has been idle for MinIdle,
// and after the ack nobody gets it again.
func TestReclaimFromDeadConsumer(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	const topic, group = "work", "g"
	key := StreamKey(prefix, topic)

	subA := mustSubscriber(t, Config{Client: client, Prefix: prefix, ConsumerGroup: group, Consumer: "a",
		BlockTime: 50 * time.Millisecond, MinIdle: time.Hour})
	chA, err := subA.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	// The server stamps the delivery somewhere between publishing and our
	// receiving it, so the time before publishing bounds it from below.
	publishedAt := time.Now()
	sent := mustPublish(t, client, prefix, topic, "job")
	got := receive(t, chA, 5*time.Second)
	if got.UUID != sent[0].UUID {
		t.Fatalf("A got %s, want %s", got.UUID, sent[0].UUID)
	}
	// A dies without acking: closing must neither ack nor requeue it.
	if err := subA.Close(); err != nil {
		t.Fatal(err)
	}
	if _, open := <-chA; open {
		t.Fatal("A's channel still open after Close")
	}
	if n := pendingCount(t, client, key, group); n != 1 {
		t.Fatalf("pending after A died = %d, want 1", n)
	}

	const minIdle = 400 * time.Millisecond
	subB := mustSubscriber(t, Config{Client: client, Prefix: prefix, ConsumerGroup: group, Consumer: "b",
		BlockTime: 50 * time.Millisecond, ClaimInterval: 50 * time.Millisecond, MinIdle: minIdle})
	chB, err := subB.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	again := receive(t, chB, 5*time.Second)
	if again.UUID != sent[0].UUID || string(again.Payload) != "job" {
		t.Fatalf("B got %s %q, want %s", again.UUID, again.Payload, sent[0].UUID)
	}
	// Valkey counts idle time in whole milliseconds on its own clock.
	if waited := time.Since(publishedAt); waited < minIdle-time.Millisecond {
		t.Fatalf("claimed after %s, before MinIdle %s", waited, minIdle)
	}
	again.Ack()

	// Once acked it is gone for good: several claim rounds pass in silence.
	expectNothing(t, chB, 3*minIdle)
	if n := pendingCount(t, client, key, group); n != 0 {
		t.Fatalf("pending after B acked = %d, want 0", n)
	}
	// And B goes on with new work.
	next := mustPublish(t, client, prefix, topic, "next")
	if m := receive(t, chB, 5*time.Second); m.UUID != next[0].UUID {
		t.Fatalf("B got %s, want %s", m.UUID, next[0].UUID)
	} else {
		m.Ack()
	}
	expectNothing(t, chB, 3*minIdle)
}

// A consumer with a stable name takes back at once what it left pending
// when it subscribes again, without waiting for MinIdle.
func TestRestartedConsumerResumesItsPending(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	cfg := Config{Client: client, Prefix: prefix, ConsumerGroup: "g", Consumer: "instance-1",
		BlockTime: 50 * time.Millisecond, MinIdle: time.Hour}
	sent := mustPublish(t, client, prefix, "work", "one", "two")

	first := mustSubscriber(t, cfg)
	ch, err := first.Subscribe(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	if m := receive(t, ch, 5*time.Second); m.UUID != sent[0].UUID {
		t.Fatalf("got %s, want the first", m.UUID)
	}
	first.Close()

	second := mustSubscriber(t, cfg)
	ch, err = second.Subscribe(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range sent {
		m := receive(t, ch, 2*time.Second)
		if m.UUID != want.UUID {
			t.Fatalf("got %s, want %s", m.UUID, want.UUID)
		}
		m.Ack()
	}
	expectNothing(t, ch, 200*time.Millisecond)
}

// Close returns promptly while a long blocking read is under way, closes
// the channels, and refuses later subscriptions.
func TestCloseDuringBlockingRead(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	for _, group := range []string{"g", ""} {
		sub := mustSubscriber(t, Config{Client: client, Prefix: prefix, ConsumerGroup: group, BlockTime: 30 * time.Second})
		ch, err := sub.Subscribe(context.Background(), "quiet")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // the read is now blocked on the server
		start := time.Now()
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("group %q: Close took %s", group, took)
		}
		if _, open := <-ch; open {
			t.Errorf("group %q: channel open after Close", group)
		}
		if err := sub.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := sub.Subscribe(context.Background(), "quiet"); !errors.Is(err, ErrClosed) {
			t.Errorf("Subscribe after Close: %v, want ErrClosed", err)
		}
	}
}

// Cancelling the subscription's context ends it as promptly as Close.
func TestContextEndsSubscription(t *testing.T) {
	client := newClient(t)
	sub := mustSubscriber(t, Config{Client: client, Prefix: valkeytest.Prefix(t), ConsumerGroup: "g", BlockTime: 30 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := sub.Subscribe(ctx, "quiet")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case _, open := <-ch:
		if open {
			t.Fatal("message on a quiet topic")
		}
	case <-time.After(time.Second):
		t.Fatal("channel not closed within 1s of cancel")
	}
	t.Logf("closed %s after cancel", time.Since(start))
}

// A nacked message comes back after NackDelay, not at once.
func TestNackDelay(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	const delay = 300 * time.Millisecond
	sub := mustSubscriber(t, Config{Client: client, Prefix: prefix, ConsumerGroup: "g", BlockTime: 50 * time.Millisecond, NackDelay: delay})
	ch, err := sub.Subscribe(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	sent := mustPublish(t, client, prefix, "work", "a", "b")
	m := receive(t, ch, 5*time.Second)
	nackedAt := time.Now()
	m.Nack()
	again := receive(t, ch, 5*time.Second)
	if waited := time.Since(nackedAt); waited < delay {
		t.Fatalf("redelivered after %s, want at least %s", waited, delay)
	}
	if again.UUID != sent[0].UUID {
		t.Fatalf("after a nack got %s, want the same message %s", again.UUID, sent[0].UUID)
	}
	again.Ack()
	if m := receive(t, ch, 5*time.Second); m.UUID != sent[1].UUID {
		t.Fatalf("got %s, want %s", m.UUID, sent[1].UUID)
	} else {
		m.Ack()
	}
}

// Only one message is in flight per subscription: the next waits for the
// ack of the previous one.
func TestOneInFlight(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	sub := mustSubscriber(t, Config{Client: client, Prefix: prefix, ConsumerGroup: "g", BlockTime: 50 * time.Millisecond})
	sent := mustPublish(t, client, prefix, "work", "1", "2", "3")
	ch, err := sub.Subscribe(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range sent {
		m := receive(t, ch, 5*time.Second)
		if m.UUID != want.UUID {
			t.Fatalf("got %s, want %s (in order)", m.UUID, want.UUID)
		}
		expectNothing(t, ch, 100*time.Millisecond)
		m.Ack()
	}
}

// With Workers, that many messages are in flight at once, each handled
// once; acking one lets the next in.
func TestWorkersInFlight(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	sub := mustSubscriber(t, Config{Client: client, Prefix: prefix, ConsumerGroup: "g", Workers: 3,
		BlockTime: 50 * time.Millisecond, ReadCount: 1})
	sent := mustPublish(t, client, prefix, "work", "1", "2", "3", "4")
	ch, err := sub.Subscribe(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*message.Message{}
	for range 3 {
		m := receive(t, ch, 5*time.Second)
		got[m.UUID] = m
	}
	expectNothing(t, ch, 200*time.Millisecond)
	for _, m := range got {
		m.Ack()
		break
	}
	m := receive(t, ch, 5*time.Second)
	got[m.UUID] = m
	for _, want := range sent {
		if got[want.UUID] == nil {
			t.Errorf("message %s never came; got %d", want.UUID, len(got))
		}
	}
}

// Without a group, every subscription gets every message published after
// it started.
func TestFanOut(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	mustPublish(t, client, prefix, "feed", "before")
	var chans []<-chan *message.Message
	for range 2 {
		sub := mustSubscriber(t, Config{Client: client, Prefix: prefix, BlockTime: 50 * time.Millisecond})
		ch, err := sub.Subscribe(context.Background(), "feed")
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	sent := mustPublish(t, client, prefix, "feed", "1", "2", "3")
	for i, ch := range chans {
		for _, want := range sent {
			m := receive(t, ch, 5*time.Second)
			if m.UUID != want.UUID {
				t.Fatalf("subscriber %d got %q, want %q", i, m.Payload, want.Payload)
			}
			m.Ack()
		}
		expectNothing(t, ch, 100*time.Millisecond)
	}
}

// When the stream and its group vanish (a server restarted without its
// data), the subscriber creates the group again and goes on.
func TestGroupCreatedAgain(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	sub := mustSubscriber(t, Config{Client: client, Prefix: prefix, ConsumerGroup: "g", BlockTime: 50 * time.Millisecond})
	ch, err := sub.Subscribe(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	first := mustPublish(t, client, prefix, "work", "first")
	if m := receive(t, ch, 5*time.Second); m.UUID != first[0].UUID {
		t.Fatalf("got %s", m.UUID)
	} else {
		m.Ack()
	}
	if err := client.Do(context.Background(), client.B().Del().Key(StreamKey(prefix, "work")).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	after := mustPublish(t, client, prefix, "work", "after")
	if m := receive(t, ch, 5*time.Second); m.UUID != after[0].UUID {
		t.Fatalf("got %s, want %s", m.UUID, after[0].UUID)
	} else {
		m.Ack()
	}
}

// An entry that is not a message is logged and acked, not retried forever,
// and the messages after it still arrive.
func TestUndecodableEntrySkipped(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	key := StreamKey(prefix, "work")
	sub := mustSubscriber(t, Config{Client: client, Prefix: prefix, ConsumerGroup: "g", BlockTime: 50 * time.Millisecond})
	ch, err := sub.Subscribe(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Do(context.Background(), client.B().Xadd().Key(key).Id("*").FieldValue().FieldValue("junk", "x").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	good := mustPublish(t, client, prefix, "work", "good")
	m := receive(t, ch, 5*time.Second)
	if m.UUID != good[0].UUID {
		t.Fatalf("got %s, want %s", m.UUID, good[0].UUID)
	}
	m.Ack()
	time.Sleep(100 * time.Millisecond)
	if n := pendingCount(t, client, key, "g"); n != 0 {
		t.Fatalf("pending = %d, want 0", n)
	}
}

// MaxLen keeps the stream near its cap.
func TestMaxLen(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	pub, err := NewPublisher(Config{Client: client, Prefix: prefix, MaxLen: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for range 20 {
		var msgs []*message.Message
		for range 50 {
			msgs = append(msgs, message.NewMessage(watermill.NewUUID(), []byte("x")))
		}
		if err := pub.Publish("capped", msgs...); err != nil {
			t.Fatal(err)
		}
	}
	n, err := client.Do(context.Background(), client.B().Xlen().Key(StreamKey(prefix, "capped")).Build()).AsInt64()
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 || n > 300 {
		t.Fatalf("XLEN = %d, want about 100", n)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish("capped", message.NewMessage("1", nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close: %v", err)
	}
}

func TestConfigRequiresClient(t *testing.T) {
	if _, err := NewSubscriber(Config{}); err == nil {
		t.Error("NewSubscriber without a client accepted")
	}
	if _, err := NewPublisher(Config{}); err == nil {
		t.Error("NewPublisher without a client accepted")
	}
}

// The subscriber relies on this server behaviour: reading an entry again
// from the consumer's own pending list resets its idle time, so that
// entries read in a batch can be refreshed before MinIdle hands them to
// another consumer.
func TestHistoryReadRefreshesIdle(t *testing.T) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	key := StreamKey(prefix, "work")
	ctx := context.Background()
	mustPublish(t, client, prefix, "work", "x")
	if err := client.Do(ctx, client.B().XgroupCreate().Key(key).Group("g").Id("0").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	idle := func() time.Duration {
		reply, err := client.Do(ctx, client.B().Xpending().Key(key).Group("g").Start("-").End("+").Count(1).Build()).ToArray()
		if err != nil || len(reply) != 1 {
			t.Fatalf("XPENDING: %v %v", reply, err)
		}
		entry, _ := reply[0].ToArray()
		ms, _ := entry[2].AsInt64()
		return time.Duration(ms) * time.Millisecond
	}
	read := func(id string) {
		if err := client.Do(ctx, client.B().Xreadgroup().Group("g", "c").Count(1).Streams().Key(key).Id(id).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	read(">")
	time.Sleep(300 * time.Millisecond)
	if d := idle(); d < 250*time.Millisecond {
		t.Fatalf("idle %s after 300ms", d)
	}
	read("0")
	if d := idle(); d > 100*time.Millisecond {
		t.Fatalf("idle %s right after reading the pending list again", d)
	}
}
