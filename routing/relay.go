package routing

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"gridbot/core"
)

// Relay moves events from the embedded store's outbox to the router. It
// publishes before it acks, so a crash in between republishes (handlers are
// idempotent) and never loses an event.
type Relay struct {
	Outbox    core.Outbox
	Publisher message.Publisher
	Log       *slog.Logger
	// Poll is how often the outbox is checked without a signal; it catches
	// events written by a store that did not signal (another process).
	Poll time.Duration
}

// relayBatch bounds one read of the outbox.
const relayBatch = 256

// Run relays until ctx is done.
func (r *Relay) Run(ctx context.Context) error {
	poll := r.Poll
	if poll == 0 {
		poll = time.Second
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		if err := r.drain(ctx); err != nil {
			r.Log.Error("relay", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.Outbox.OutboxReady():
		case <-tick.C:
		}
	}
}

// drain publishes everything pending.
func (r *Relay) drain(ctx context.Context) error {
	for ctx.Err() == nil {
		evs, err := r.Outbox.PendingEvents(ctx, relayBatch)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		msgs := make([]*message.Message, 0, len(evs))
		seqs := make([]uint64, 0, len(evs))
		for _, ev := range evs {
			msg, err := NewMessage(ev)
			if err != nil {
				return err
			}
			msgs = append(msgs, msg)
			seqs = append(seqs, ev.Seq)
		}
		if err := r.Publisher.Publish(TopicCaseEvents, msgs...); err != nil {
			return fmt.Errorf("publish %d events: %w", len(msgs), err)
		}
		if err := r.Outbox.AckEvents(ctx, seqs...); err != nil {
			return err
		}
	}
	return nil
}
