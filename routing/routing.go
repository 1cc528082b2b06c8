// Package routing carries case events from the ledger to whoever must act on
// them, with watermill: the topic names, the relay that feeds the router from
// the store's outbox, and the one place where every handler is registered.
//
// Delivery is at least once: the relay clears the outbox only once the
// handlers have finished an event, and watermill publishes before it acks. Every handler is therefore
// idempotent, keyed by the event's sequence number.
package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"gridbot/core"
)

// Topics.
const (
	// TopicCaseEvents carries every event of every case's log, in the order
	// the store numbered them.
	TopicCaseEvents = "case.events"
	// TopicPoison receives what a handler still failed after its retries.
	TopicPoison = "case.events.poison"
)

// Metadata keys on a case event message.
const (
	metaKind = "kind"
	metaCase = "case"
)

// NewMessage wraps a case event for the router. The message UUID is the
// event's sequence number, so a republished event is recognisably the same.
func NewMessage(ev core.Event) (*message.Message, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event %d: %w", ev.Seq, err)
	}
	msg := message.NewMessage(ev.ID(), payload)
	msg.Metadata.Set(metaKind, string(ev.Kind))
	msg.Metadata.Set(metaCase, ev.Case)
	middleware.SetCorrelationID(ev.Case, msg)
	return msg, nil
}

// DecodeEvent reads the event back out of a message.
func DecodeEvent(msg *message.Message) (core.Event, error) {
	var ev core.Event
	if err := json.Unmarshal(msg.Payload, &ev); err != nil {
		return ev, fmt.Errorf("decode event %s: %w", msg.UUID, err)
	}
	return ev, nil
}

// feedGroupPrefix starts the consumer group of an instance's console feed.
const feedGroupPrefix = "feed-"

// IsFeedGroup tells an instance's console feed group: it starts from what is
// published next and its consoles load the past from the store, so a
// transport may drop it, and what it has not read, once its instance is
// gone.
func IsFeedGroup(group string) bool { return strings.HasPrefix(group, feedGroupPrefix) }

// SubscriberFor returns the subscriber a handler reads with. group names the
// consumer group: work handlers share one group across instances (each event
// handled once by the service), the console feed uses one per instance (every
// instance's consoles see every event). fromNow asks for only what is
// published from now on (the feed: consoles load the past from the store);
// otherwise a new group starts with what is waiting. An in-process
// transport, where each subscription already sees every message, ignores
// both.
type SubscriberFor func(group string, fromNow bool) (message.Subscriber, error)

// Handlers is what the router's handlers need.
type Handlers struct {
	Ledger *core.Ledger
	Town   core.TownSource
	// Notifier is WeChat's adapter, which also reaches residents.
	Notifier core.Notifier
	// Channels are the adapters of other channels (WeCom) by channel;
	// staff are reached on them by their preference (Roster.Channels).
	Channels map[core.Channel]core.Notifier
	// Groups, when set, hears of each new case for the grid teams' groups
	// (WeCom group robots); an error means the case was not taken, and the
	// event is retried.
	Groups interface {
		NewCase(ctx context.Context, c core.Case) error
	}
	// Marks remembers which pushes were done, so a redelivered event does
	// not push twice.
	Marks core.Ephemeral
	// Feed hands every event and its case to the live console.
	Feed func(ev core.Event, c core.Case)
	Log  *slog.Logger
	// Roster finds where staff are reached (the directory's addresses and
	// those bound with a code), and remembers the case last pushed to each
	// of them; nil means the directory's openids only.
	Roster *core.Roster
	// Fetcher and Media fetch residents' photos and voice notes from
	// WeChat and keep them with the case; either nil turns this off.
	Fetcher MediaFetcher
	Media   *core.MediaStore
	// Observe is told of handler runs, retries and pushes (the metrics);
	// nil records nothing.
	Observe Observer
	// Script writes notices in traditional characters for residents who
	// read them (core.ScriptKey in Marks); nil writes every notice in
	// simplified.
	Script Script
	// Learn, when set, is handed every correction of a case's category
	// (core.EventReclassified), so the category guess learns from it.
	Learn func(context.Context, core.Event) error
	// Links, when set, finds the linked household (二十户包联) a new case
	// comes from, so its cadre is told too (gridwork.go).
	Links *core.LinkBook
	// Sealer opens the personal part of events a store sealed into the
	// transport's messages (a Valkey stream's entries, core/sealing.go);
	// nil reads them as they are.
	Sealer core.Sealer

	pending pendingPushes
}

// open opens what ev's store sealed in it. Its failure (a data key
// missing from this instance) is a handler's failure, retried and then
// parked, never a message dropped as malformed.
func (h *Handlers) open(ev *core.Event) error {
	if err := core.OpenEvent(h.Sealer, ev); err != nil {
		return fmt.Errorf("open event %d: %w", ev.Seq, err)
	}
	return nil
}

// Script turns simplified Chinese into the traditional characters a
// resident reads; *script.Converter satisfies it.
type Script interface {
	Traditional(s string) string
}

// Observer receives what the router's metrics count.
type Observer interface {
	Handled(handler string, took time.Duration, err error)
	Retried()
	Push(channel, outcome string, errcode int)
}

// noObserver records nothing.
type noObserver struct{}

func (noObserver) Handled(string, time.Duration, error) {}
func (noObserver) Retried()                             {}
func (noObserver) Push(string, string, int)             {}

// Push outcomes reported to the Observer.
const (
	PushDelivered = "delivered" // WeChat took it
	PushRefused   = "refused"   // WeChat refused it for good (recorded on the case)
	PushFailed    = "failed"    // a failure worth retrying
	PushNoWeChat  = "no_wechat" // the recipient has no WeChat to push to
)

// Config tunes the router.
type Config struct {
	// Instance names this process; the console feed's consumer group is
	// per instance.
	Instance string
	// Retries and RetryInterval shape the backoff before an event goes to
	// the poison topic.
	Retries       int
	RetryInterval time.Duration
	// Relay, when events come from the embedded store's outbox, is told
	// when the work handlers have finished each event, so that it leaves
	// the outbox only then.
	Relay *Relay
}

// DefaultCloseTimeout is how long a stopping router waits for handlers that
// run on: their events are not acknowledged, so the outbox or the stream
// keeps them for the next start, and a stop stays within its bound.
const DefaultCloseTimeout = 2 * time.Second

// NewRouter registers every handler in one place: assignment, the pushes to
// grid leaders and residents (and those who joined a case), keeping the
// residents' media, the console feed, and the poison queue.
func NewRouter(cfg Config, h *Handlers, subscriberFor SubscriberFor, poisonPub message.Publisher) (*message.Router, error) {
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = 200 * time.Millisecond
	}
	logger := watermill.NewSlogLoggerWithLevelMapping(h.Log.With("part", "router"), map[slog.Level]slog.Level{
		slog.LevelInfo: slog.LevelDebug, // watermill's per-message info lines are noise in our log
	})
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: DefaultCloseTimeout}, logger)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	poison, err := middleware.PoisonQueueWithFilter(poisonPub, TopicPoison, func(err error) bool {
		return !errors.Is(err, errDrop) && !errors.Is(err, errStopping)
	})
	if err != nil {
		return nil, fmt.Errorf("router: poison queue: %w", err)
	}
	if h.Observe == nil {
		h.Observe = noObserver{}
	}
	// A job handles the events of one kind ("" every kind) under its name.
	type job struct {
		name string
		kind core.EventKind
		fn   func(context.Context, core.Event) error
	}
	work := []job{
		{"assign", core.EventSubmitted, h.assign},
		// notify pushes every event someone must hear of (see notices).
		{"notify", "", h.notify},
	}
	if h.Fetcher != nil && h.Media != nil {
		// keep_media fetches photos and voice notes of filed cases.
		work = append(work, job{"keep_media", "", h.keepMedia})
	}
	if h.Links != nil {
		work = append(work, job{"link_household", core.EventSubmitted, h.linkHousehold})
	}
	if h.Learn != nil {
		work = append(work, job{"learn", core.EventReclassified, h.Learn})
	}
	if cfg.Relay != nil {
		// Outermost, so that it sees what the router acks: a handler's
		// success, or its failure parked in the poison queue.
		names := make([]string, 0, len(work))
		for _, w := range work {
			names = append(names, w.name)
		}
		if err := cfg.Relay.await(names); err != nil {
			return nil, err
		}
		r.AddMiddleware(cfg.Relay.track)
	}
	r.AddMiddleware(
		middleware.CorrelationID,
		poison,
		stopping,
		middleware.Retry{
			MaxRetries:      cfg.Retries,
			InitialInterval: cfg.RetryInterval,
			Multiplier:      2,
			MaxInterval:     5 * time.Second,
			ShouldRetry:     func(p middleware.RetryParams) bool { return !errors.Is(p.Err, errDrop) },
			OnRetryHook:     func(int, time.Duration) { h.Observe.Retried() },
			Logger:          logger,
		}.Middleware,
		middleware.Recoverer,
		h.timed,
	)
	for _, w := range work {
		sub, err := subscriberFor(w.name, false)
		if err != nil {
			return nil, fmt.Errorf("router: subscriber for %s: %w", w.name, err)
		}
		r.AddConsumerHandler(w.name, TopicCaseEvents, sub, h.only(w.kind, w.fn))
	}
	feedSub, err := subscriberFor(feedGroupPrefix+cfg.Instance, true)
	if err != nil {
		return nil, fmt.Errorf("router: feed subscriber: %w", err)
	}
	r.AddConsumerHandler("console_feed", TopicCaseEvents, feedSub, h.feed)
	poisonSub, err := subscriberFor("poison", false)
	if err != nil {
		return nil, fmt.Errorf("router: poison subscriber: %w", err)
	}
	r.AddConsumerHandler("poison_log", TopicPoison, poisonSub, h.poisoned)
	return r, nil
}

// timed measures each handler run, innermost so that every try counts.
func (h *Handlers) timed(next message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		start := time.Now()
		out, err := next(msg)
		h.Observe.Handled(message.HandlerNameFromCtx(msg.Context()), time.Since(start), err)
		return out, err
	}
}

// errStopping marks a handler's failure while the router stops: its
// context was cancelled, so the failure says nothing of the event. It is
// not parked in the poison queue but left unacknowledged, for the next
// start (the outbox) or another instance (a Valkey stream) to handle.
var errStopping = errors.New("router stopping")

// stopping turns a failure under a cancelled context into errStopping.
func stopping(next message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := next(msg)
		if err != nil && msg.Context().Err() != nil {
			return nil, fmt.Errorf("%w: %w", errStopping, err)
		}
		return out, err
	}
}

// errDrop marks a message that can never be handled (it is malformed); it is
// logged and acked instead of retried.
var errDrop = errors.New("undecodable message")

// only adapts fn into a handler that sees just the events of one kind, or
// every event when kind is "".
func (h *Handlers) only(kind core.EventKind, fn func(context.Context, core.Event) error) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		if kind != "" && msg.Metadata.Get(metaKind) != string(kind) {
			return nil
		}
		ev, err := DecodeEvent(msg)
		if err != nil {
			h.Log.Error("dropping undecodable event", "msg", msg.UUID, "err", err)
			return nil
		}
		if err := h.open(&ev); err != nil {
			return err
		}
		start := time.Now()
		err = fn(msg.Context(), ev)
		// One line per handler run; the case number is the correlation ID
		// that follows a case from the callback that filed it to its pushes.
		h.Log.Info("handled", "handler", message.HandlerNameFromCtx(msg.Context()), "kind", ev.Kind,
			"correlation_id", middleware.MessageCorrelationID(msg), "seq", ev.Seq, "took", time.Since(start), "err", err)
		return err
	}
}

func (h *Handlers) feed(msg *message.Message) error {
	ev, err := DecodeEvent(msg)
	if err != nil {
		h.Log.Error("dropping undecodable event", "msg", msg.UUID, "err", err)
		return nil
	}
	if err := h.open(&ev); err != nil {
		return err
	}
	c, err := h.Ledger.Case(msg.Context(), ev.Case)
	if err != nil {
		return fmt.Errorf("feed %d: %w", ev.Seq, err)
	}
	h.Feed(ev, c)
	return nil
}

func (h *Handlers) assign(ctx context.Context, ev core.Event) error {
	_, _, err := h.Ledger.Assign(ctx, ev.Case)
	if errors.Is(err, core.ErrNoChange) {
		return nil // assigned already: this is a redelivery
	}
	return err
}
