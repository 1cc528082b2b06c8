package valkeystream

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"gridbot/internal/valkeytest"
)

// BenchmarkPublishToHandler measures messages a second from Publish (8
// publishers, one message per call) to the handler's Ack, through one
// consumer group, with 1 and with 4 consumers.
func BenchmarkPublishToHandler(b *testing.B) {
	for _, consumers := range []int{1, 4} {
		b.Run(fmt.Sprintf("consumers=%d", consumers), func(b *testing.B) {
			benchPublishToHandler(b, consumers)
		})
	}
}

func benchPublishToHandler(b *testing.B, consumers int) {
	client := newClient(b)
	cfg := Config{Client: client, Prefix: valkeytest.Prefix(b), ConsumerGroup: "bench", BlockTime: 100 * time.Millisecond}
	pub, err := NewPublisher(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	sub, err := NewSubscriber(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	acked := make(chan struct{}, 1024)
	for range consumers {
		ch, err := sub.Subscribe(context.Background(), "bench")
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for msg := range ch {
				msg.Ack()
				acked <- struct{}{}
			}
		}()
	}
	const publishers = 8
	b.ResetTimer()
	errs := make(chan error, publishers)
	for p := range publishers {
		go func() {
			for i := p; i < b.N; i += publishers {
				if err := pub.Publish("bench", message.NewMessage(watermill.NewUUID(), []byte(`{"seq":1}`))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range b.N {
		select {
		case <-acked:
		case err := <-errs:
			b.Fatal(err)
		case <-time.After(10 * time.Second):
			b.Fatal("stalled")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
