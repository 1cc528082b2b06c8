package valkeystream

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/valkey-io/valkey-go"

	"gridbot/internal/valkeytest"
)

func TestMain(m *testing.M) { valkeytest.Main(m) }

// newClient connects to the test server; the test closes it.
func newClient(t testing.TB) valkey.Client {
	t.Helper()
	c, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{valkeytest.Addr(t)}, DisableCache: true})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestPubSub runs watermill's universal suite, the restart test included
// when the server is this test binary's own; and again with several workers
// per subscription, which gives up the order of delivery.
func TestPubSub(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) { testPubSub(t, workers) })
	}
}

func testPubSub(t *testing.T, workers int) {
	client := newClient(t)
	prefix := valkeytest.Prefix(t)
	logger := watermill.NewStdLogger(false, false)

	withGroup := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		cfg := Config{
			Client:        client,
			Prefix:        prefix,
			ConsumerGroup: group,
			Workers:       workers,
			// The suite reads 5,000 messages within its fixed 15 s: a
			// read of 100 at a time keeps the round trips few enough
			// under -race on a busy 2-core machine (with 10, a run beside
			// the browser tests once fell short); what the suite checks
			// — nothing lost, every message acked — does not depend on it.
			ReadCount:     100,
			BlockTime:     100 * time.Millisecond,
			ClaimInterval: time.Second,
			MinIdle:       5 * time.Second,
			NackDelay:     10 * time.Millisecond,
			Logger:        logger,
		}
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
	// Like watermill-redisstream: without a named group every subscriber
	// has a group of its own, so each sees the whole stream.
	own := func(t *testing.T) (message.Publisher, message.Subscriber) {
		return withGroup(t, "g-"+watermill.NewShortUUID())
	}

	// watermill v1.5.1's own TestReconnect has a data race (its collector
	// goroutine appends to publishedMessages while the test reads it), so
	// under -race it would always fail: there TestServerRestart covers the
	// same ground, and the suite runs its restart test only without -race.
	restart := valkeytest.RestartCommand()
	if raceEnabled || workers > 1 {
		restart = nil
	}
	tests.TestPubSub(t, tests.Features{
		ConsumerGroups:                      true,
		ExactlyOnceDelivery:                 false,
		GuaranteedOrder:                     false,
		GuaranteedOrderWithSingleSubscriber: workers == 1,
		Persistent:                          true,
		NewSubscriberReceivesOldMessages:    true,
		RestartServiceCommand:               restart,
	}, own, withGroup)
}

// TestServerRestart is watermill's restart test without its data race: 20
// publishers keep publishing while the server is restarted twice, and the
// subscriber must receive every message they were told was published.
func TestServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the server: not in -short")
	}
	restart := valkeytest.RestartCommand()
	if restart == nil {
		t.Skip("the server is not this test binary's own; cannot restart it")
	}
	client := newClient(t)
	cfg := Config{
		Client:        client,
		Prefix:        valkeytest.Prefix(t),
		ConsumerGroup: "g",
		BlockTime:     100 * time.Millisecond,
		ClaimInterval: time.Second,
		MinIdle:       5 * time.Second,
		Logger:        watermill.NewStdLogger(false, false),
	}
	pub, err := NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sub := mustSubscriber(t, cfg)
	ch, err := sub.Subscribe(context.Background(), "restart")
	if err != nil {
		t.Fatal(err)
	}

	const total, publishers = 3000, 20
	restartAt := map[int]bool{total / 3: true, total / 2: true}
	var (
		mu        sync.Mutex
		published = map[string]bool{}
		wg        sync.WaitGroup
		restarted sync.WaitGroup
	)
	work := make(chan int)
	for range publishers {
		wg.Go(func() {
			for range work {
				msg := message.NewMessage(watermill.NewUUID(), []byte("x"))
				for pub.Publish("restart", msg) != nil {
					time.Sleep(100 * time.Millisecond)
				}
				mu.Lock()
				published[msg.UUID] = true
				mu.Unlock()
				time.Sleep(20 * time.Millisecond) // spread the publishing over the restarts
			}
		})
	}
	// One restart at a time, while the publishers go on.
	restarts := make(chan struct{}, len(restartAt))
	restarted.Go(func() {
		for range restarts {
			start := time.Now()
			cmd := exec.Command(restart[0], restart[1:]...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				t.Errorf("restart: %v", err)
			}
			t.Logf("server restarted in %s", time.Since(start))
		}
	})
	go func() {
		for i := range total {
			if restartAt[i] {
				restarts <- struct{}{}
			}
			work <- i
		}
		close(work)
		close(restarts)
	}()

	received := map[string]bool{}
	deliveries := 0
	deadline := time.After(90 * time.Second)
	for len(received) < total {
		select {
		case msg, ok := <-ch:
			if !ok {
				t.Fatal("channel closed")
			}
			deliveries++
			received[msg.UUID] = true
			msg.Ack()
		case <-deadline:
			t.Fatalf("received %d of %d messages", len(received), total)
		}
	}
	wg.Wait()
	restarted.Wait()
	mu.Lock()
	defer mu.Unlock()
	for id := range published {
		if !received[id] {
			t.Errorf("published %s never received", id)
		}
	}
	t.Logf("%d messages, %d deliveries (duplicates are allowed: at least once)", total, deliveries)
}
