package valkeystream

import (
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/valkey-io/valkey-go"

	"gridbot/internal/valkeytest"
)

// TestPubSubOnThreeMasters runs watermill's universal suite on a real
// cluster of three masters started by the test, through valkey-go's cluster
// client. Every stream of a deployment carries the ledger's {gb} tag (the
// write script adds the entry with the case), so all live on the master of
// that slot; what the suite proves is the client's routing, the blocking
// reads and the claims through a cluster.
func TestPubSubOnThreeMasters(t *testing.T) {
	if testing.Short() {
		t.Skip("the universal suite on a cluster takes a while")
	}
	addrs := valkeytest.Cluster(t)
	client, err := valkey.NewClient(valkey.ClientOption{InitAddress: addrs, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	prefix := valkeytest.Prefix(t)
	logger := watermill.NewStdLogger(false, false)
	withGroup := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		cfg := Config{Client: client, Prefix: prefix, ConsumerGroup: group, BlockTime: 100 * time.Millisecond,
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
	tests.TestPubSub(t, tests.Features{
		ConsumerGroups:                      true,
		GuaranteedOrderWithSingleSubscriber: true,
		Persistent:                          true,
		NewSubscriberReceivesOldMessages:    true,
	}, own, withGroup)
}
