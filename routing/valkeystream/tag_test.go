package valkeystream

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"gridbot/internal/valkeytest"
)

// Config.Tag puts a town's streams under its own hash tag: what one town
// publishes is in its stream only, read by its subscribers and not by
// another town's on the same prefix; a tag that could break out of the
// braces is refused by every constructor.
func TestTagSeparatesStreams(t *testing.T) {
	ctx := context.Background()
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	cfg := func(tag string) Config {
		return Config{Client: client, Prefix: prefix, Tag: tag, ConsumerGroup: "work", BlockTime: 50 * time.Millisecond}
	}
	pub, err := NewPublisher(cfg("gb:chikan"))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	other, err := NewSubscriber(cfg("gb:xiashan"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	sub, err := NewSubscriber(cfg("gb:chikan"))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	otherMsgs, err := other.Subscribe(ctx, "work")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sub.Subscribe(ctx, "work")
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish("work", message.NewMessage("m1", []byte("chikan"))); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-msgs:
		m.Ack()
		if m.UUID != "m1" {
			t.Fatalf("got %s", m.UUID)
		}
	case <-ctx.Done():
		t.Fatal("the town's subscriber never got its message")
	}
	select {
	case m := <-otherMsgs:
		t.Fatalf("another town's subscriber got %s", m.UUID)
	case <-time.After(300 * time.Millisecond):
	}
	for key, want := range map[string]int64{
		TaggedStreamKey(prefix, "gb:chikan", "work"):  1,
		TaggedStreamKey(prefix, "gb:xiashan", "work"): 0,
		StreamKey(prefix, "work"):                     0,
	} {
		n, err := client.Do(ctx, client.B().Xlen().Key(key).Build()).AsInt64()
		if err != nil || n != want {
			t.Errorf("XLEN %s = %d %v, want %d", key, n, err, want)
		}
	}
	// The town's trimmer trims the town's stream: the entry was acked.
	trimmer, err := NewTrimmer(TrimConfig{Client: client, Prefix: prefix, Tag: "gb:chikan"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		res, err := trimmer.Trim(ctx, "work")
		if err != nil {
			t.Fatal(err)
		}
		if res.MinID != "" && res.Removed == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the town's trimmer did not trim its stream: %+v", res)
		}
		time.Sleep(20 * time.Millisecond)
	}

	for _, bad := range []string{"gb}", "{gb", "gb chikan", "赤坎"} {
		if _, err := NewPublisher(cfg(bad)); err == nil {
			t.Errorf("publisher with tag %q", bad)
		}
		if _, err := NewSubscriber(cfg(bad)); err == nil {
			t.Errorf("subscriber with tag %q", bad)
		}
		if _, err := NewTrimmer(TrimConfig{Client: client, Prefix: prefix, Tag: bad}); err == nil {
			t.Errorf("trimmer with tag %q", bad)
		}
	}
}
