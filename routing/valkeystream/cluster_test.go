package valkeystream

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/valkey-io/valkey-go"

	"gridbot/internal/valkeytest"
)

// TestPubSubOnThreeMasters runs watermill's universal suite on a real
// cluster of three masters (the package's shared one), through valkey-go's
// cluster client. Every stream of a ledger carries its hash tag (the write
// script adds the entry with the case), here a town's, so all live on the
// master of that slot; what the suite proves is the client's routing, the
// blocking reads and the claims through a cluster, and that every stream it
// made is under the tag, on that one master.
func TestPubSubOnThreeMasters(t *testing.T) {
	if testing.Short() {
		t.Skip("the universal suite on a cluster takes a while")
	}
	addrs := valkeytest.SharedCluster(t)
	const tag = "gb:pubsub"
	client, err := valkey.NewClient(valkey.ClientOption{InitAddress: addrs, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	prefix := valkeytest.Prefix(t)
	logger := watermill.NewStdLogger(false, false)
	withGroup := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		cfg := Config{Client: client, Prefix: prefix, Tag: tag, ConsumerGroup: group, BlockTime: 100 * time.Millisecond,
			ClaimInterval: time.Second, MinIdle: 5 * time.Second, NackDelay: 10 * time.Millisecond, Logger: logger}
		pub, err := NewPublisher(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := NewSubscriber(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return pub, sub
	}
	own := func(t *testing.T) (message.Publisher, message.Subscriber) {
		return withGroup(t, "g-"+watermill.NewShortUUID())
	}
	// The suite's tests are parallel: the group returns when all are done.
	t.Run("suite", func(t *testing.T) {
		tests.TestPubSub(t, tests.Features{
			ConsumerGroups:                      true,
			GuaranteedOrderWithSingleSubscriber: true,
			Persistent:                          true,
			NewSubscriberReceivesOldMessages:    true,
		}, own, withGroup)
	})

	master := valkeytest.NodeOf(t, addrs, "{"+tag+"}")
	streams := 0
	for addr, node := range client.Nodes() {
		keys, err := node.Do(context.Background(), node.B().Keys().Pattern(prefix+"*").Build()).AsStrSlice()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if !strings.HasPrefix(k, prefix+"{"+tag+"}:stream:") || addr != master {
				t.Errorf("key %s on %s: want every stream under {%s}, on %s", k, addr, tag, master)
			}
			streams++
		}
	}
	if streams == 0 {
		t.Fatal("the suite left no stream to look at")
	}
}
