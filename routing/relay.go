package routing

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"gridbot/core"
)

// Relay moves events from the embedded store's outbox to the router. An
// event leaves the outbox only once every work handler has finished it
// (done, or given up on into the poison queue): the in-process transport's
// Publish returns as soon as the message is queued, before any handler ran,
// so clearing the outbox then lost events to a crash — cases the resident
// was told about stayed unassigned for good. What is still in the outbox
// when the process starts is published again, and the handlers are
// idempotent, so a crash at any moment loses nothing and repeats little.
type Relay struct {
	Outbox    core.Outbox
	Publisher message.Publisher
	Log       *slog.Logger
	// Poll is how often the outbox is checked without a signal; it catches
	// events written by a store that did not signal (another process).
	Poll time.Duration
	// MaxInFlight bounds the events published and not yet finished, so a
	// slow handler holds the relay back instead of piling up messages;
	// zero means DefaultMaxInFlight.
	MaxInFlight int

	mu sync.Mutex
	// awaited names the handlers every event waits for (set by NewRouter);
	// with none, an event is finished once published.
	awaited []string
	// inflight holds, per published event, a bit for each awaited handler
	// that has not finished it yet.
	inflight map[uint64]uint64
	// finished are events every handler has finished, to clear from the
	// outbox at the next ack.
	finished []uint64
	// cursor is the highest sequence number published in this run: the
	// store numbers events in the order it commits them, so nothing below
	// it can still appear.
	cursor uint64
	wake   chan struct{}
}

// DefaultMaxInFlight bounds the events a Relay has published and not seen
// finished when MaxInFlight is zero.
const DefaultMaxInFlight = 4096

// relayBatch bounds one read of the outbox.
const relayBatch = 256

// init makes the relay's state; the caller holds mu.
func (r *Relay) init() {
	if r.inflight == nil {
		r.inflight = map[uint64]uint64{}
		r.wake = make(chan struct{}, 1)
	}
}

// await sets the handlers every event must be finished by before it leaves
// the outbox (at most 64).
func (r *Relay) await(handlers []string) error {
	if len(handlers) > 64 {
		return fmt.Errorf("relay: %d handlers to await, at most 64", len(handlers))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	r.awaited = append([]string(nil), handlers...)
	return nil
}

// track is the router middleware that tells the relay a handler finished
// an event: it returned without error, so the router acks the message. A
// handler that returns while the router stops is not counted: its work
// may have been cut short, and the next start does it again.
func (r *Relay) track(next message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := next(msg)
		if err == nil && msg.Context().Err() == nil {
			if seq, perr := strconv.ParseUint(msg.UUID, 10, 64); perr == nil {
				r.finish(message.HandlerNameFromCtx(msg.Context()), seq)
			}
		}
		return out, err
	}
}

// finish records that handler has finished event seq.
func (r *Relay) finish(handler string, seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	bit := -1
	for i, h := range r.awaited {
		if h == handler {
			bit = i
		}
	}
	left, ok := r.inflight[seq]
	if bit < 0 || !ok {
		return // not awaited, or not published by this run
	}
	left &^= 1 << bit
	if left != 0 {
		r.inflight[seq] = left
		return
	}
	delete(r.inflight, seq)
	r.finished = append(r.finished, seq)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx is done. It leaves in the outbox what has not been
// finished; call AckFinished once the router has stopped to clear what
// finished meanwhile.
func (r *Relay) Run(ctx context.Context) error {
	poll := r.Poll
	if poll == 0 {
		poll = time.Second
	}
	r.mu.Lock()
	r.init()
	wake := r.wake
	r.mu.Unlock()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		if err := r.AckFinished(ctx); err != nil && ctx.Err() == nil {
			r.Log.Error("relay", "err", err)
		}
		if err := r.drain(ctx); err != nil && ctx.Err() == nil {
			r.Log.Error("relay", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.Outbox.OutboxReady():
		case <-wake:
		case <-tick.C:
		}
	}
}

// AckFinished clears the finished events from the outbox, in one write.
func (r *Relay) AckFinished(ctx context.Context) error {
	r.mu.Lock()
	seqs := r.finished
	r.finished = nil
	r.mu.Unlock()
	if len(seqs) == 0 {
		return nil
	}
	if err := r.Outbox.AckEvents(ctx, seqs...); err != nil {
		r.mu.Lock()
		r.finished = append(r.finished, seqs...)
		r.mu.Unlock()
		return err
	}
	return nil
}

// drain publishes what is pending past the cursor, as room allows.
func (r *Relay) drain(ctx context.Context) error {
	max := r.MaxInFlight
	if max <= 0 {
		max = DefaultMaxInFlight
	}
	for ctx.Err() == nil {
		r.mu.Lock()
		room, cursor := max-len(r.inflight), r.cursor
		r.mu.Unlock()
		if room <= 0 {
			return nil // finishing events wakes the relay
		}
		evs, err := r.Outbox.PendingEventsAfter(ctx, cursor, min(room, relayBatch))
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		msgs := make([]*message.Message, 0, len(evs))
		for _, ev := range evs {
			msg, err := NewMessage(ev)
			if err != nil {
				return err
			}
			msgs = append(msgs, msg)
		}
		// Registered before publishing, so that a handler quicker than
		// Publish finds its event.
		r.mu.Lock()
		all := uint64(1)<<len(r.awaited) - 1
		if all != 0 {
			for _, ev := range evs {
				r.inflight[ev.Seq] = all
			}
		}
		r.mu.Unlock()
		if err := r.Publisher.Publish(TopicCaseEvents, msgs...); err != nil {
			r.mu.Lock()
			for _, ev := range evs {
				delete(r.inflight, ev.Seq)
			}
			r.mu.Unlock()
			return fmt.Errorf("publish %d events: %w", len(msgs), err)
		}
		r.mu.Lock()
		r.cursor = evs[len(evs)-1].Seq
		if all == 0 {
			for _, ev := range evs {
				r.finished = append(r.finished, ev.Seq)
			}
		}
		r.mu.Unlock()
	}
	return nil
}
