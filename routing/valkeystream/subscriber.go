package valkeystream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/valkey-io/valkey-go"
)

// Subscriber is a watermill message.Subscriber on Valkey streams.
//
// With a ConsumerGroup, each subscription reads the topic's stream as one
// consumer of the group (XREADGROUP), one message in flight at a time: the
// next is sent only after the previous one is acked (XACK) or, after a nack,
// delivered again NackDelay later. Entries that consumers of the group left
// pending for longer than MinIdle (a crashed instance) are taken over with
// XAUTOCLAIM and delivered the same way. Delivery is at least once.
//
// Without a group every subscription sees every message published after it
// started (XREAD); acks are not recorded.
//
// Errors from the server (down, restarting, the group lost with its data)
// are logged and retried with backoff; the group is created again when it is
// missing.
type Subscriber struct {
	cfg    Config
	ctx    context.Context // done on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	script *valkey.Lua

	mu     sync.Mutex
	closed bool
	names  map[string]bool // topic + "\x00" + consumer of each live subscription
}

var (
	_ message.Subscriber           = (*Subscriber)(nil)
	_ message.SubscribeInitializer = (*Subscriber)(nil)
)

// delConsumerIfIdle removes a consumer from a group when it holds no pending
// entries; checked and done atomically, so nothing pending is ever dropped.
// KEYS[1] stream, ARGV[1] group, ARGV[2] consumer. Returns 1 when removed.
const delConsumerIfIdle = `
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then
	return 0
end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
`

// NewSubscriber returns a subscriber on cfg.Client.
func NewSubscriber(cfg Config) (*Subscriber, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Subscriber{
		cfg:    cfg,
		ctx:    ctx,
		cancel: cancel,
		script: valkey.NewLuaScript(delConsumerIfIdle),
		names:  map[string]bool{},
	}, nil
}

// SubscribeInitialize creates the topic's stream and consumer group, so that
// messages published from now on wait for the group even before anyone
// subscribes. Without a group it does nothing.
func (s *Subscriber) SubscribeInitialize(topic string) error {
	if s.cfg.ConsumerGroup == "" {
		return nil
	}
	return s.createGroup(s.ctx, TaggedStreamKey(s.cfg.Prefix, s.cfg.Tag, topic))
}

func (s *Subscriber) createGroup(ctx context.Context, key string) error {
	c := s.cfg.Client
	err := c.Do(ctx, c.B().XgroupCreate().Key(key).Group(s.cfg.ConsumerGroup).Id(s.cfg.GroupStartID).Mkstream().Build()).Error()
	if err != nil && !valkey.IsValkeyBusyGroup(err) {
		return fmt.Errorf("create group %s on %s: %w", s.cfg.ConsumerGroup, key, err)
	}
	return nil
}

// Subscribe starts reading topic. The channel is closed when ctx is done or
// the subscriber is closed; a message still in flight then is left pending,
// for this consumer to take back when it subscribes again or for another
// one to claim after MinIdle.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	workers := 1
	if s.cfg.ConsumerGroup != "" {
		workers = max(1, s.cfg.Workers)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("subscribe to %s: %w", topic, ErrClosed)
	}
	s.wg.Add(workers + 1) // and the goroutine that closes the channel
	consumers := make([]string, workers)
	for i := range consumers {
		consumers[i] = s.takeName(topic)
	}
	s.mu.Unlock()

	subCtx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	key := TaggedStreamKey(s.cfg.Prefix, s.cfg.Tag, topic)
	var lastID string
	var err error
	if s.cfg.ConsumerGroup != "" {
		err = s.createGroup(subCtx, key)
	} else {
		lastID, err = s.lastID(subCtx, key)
	}
	if err != nil {
		stop()
		cancel()
		for _, c := range consumers {
			s.releaseName(topic, c)
			s.wg.Done()
		}
		s.wg.Done()
		return nil, fmt.Errorf("subscribe to %s: %w", topic, err)
	}
	out := make(chan *message.Message)
	var running sync.WaitGroup
	running.Add(workers)
	for _, consumer := range consumers {
		sub := &subscription{
			s:        s,
			ctx:      subCtx,
			topic:    topic,
			key:      key,
			consumer: consumer,
			out:      out,
			lastID:   lastID,
			fields: watermill.LogFields{
				"topic": topic, "consumer_group": s.cfg.ConsumerGroup, "consumer": consumer,
			},
		}
		s.cfg.Logger.Debug("subscribed", sub.fields)
		go func() {
			defer s.wg.Done()
			defer running.Done()
			defer cancel()
			if s.cfg.ConsumerGroup != "" {
				sub.runGroup()
			} else {
				sub.runFanOut()
			}
			s.releaseName(topic, consumer)
			if s.cfg.ConsumerGroup != "" {
				sub.forget()
			}
			s.cfg.Logger.Debug("subscription ended", sub.fields)
		}()
	}
	// The channel closes when every worker has stopped, which they do
	// together: one of them ending ends them all.
	go func() {
		defer s.wg.Done()
		running.Wait()
		stop()
		close(out)
	}()
	return out, nil
}

// takeName returns the configured consumer name, suffixed when another live
// subscription of this subscriber already reads the topic under it. The
// caller holds s.mu.
func (s *Subscriber) takeName(topic string) string {
	for i := 1; ; i++ {
		name := s.cfg.Consumer
		if i > 1 {
			name += "-" + strconv.Itoa(i)
		}
		if k := topic + "\x00" + name; !s.names[k] {
			s.names[k] = true
			return name
		}
	}
}

func (s *Subscriber) releaseName(topic, name string) {
	s.mu.Lock()
	delete(s.names, topic+"\x00"+name)
	s.mu.Unlock()
}

// lastID is the ID of the newest entry of the stream, "0-0" when there is
// none: a fan-out subscription reads what comes after it.
func (s *Subscriber) lastID(ctx context.Context, key string) (string, error) {
	c := s.cfg.Client
	entries, err := c.Do(ctx, c.B().Xrevrange().Key(key).End("+").Start("-").Count(1).Build()).AsXRange()
	if err != nil {
		return "", fmt.Errorf("last entry of %s: %w", key, err)
	}
	if len(entries) == 0 {
		return "0-0", nil
	}
	return entries[0].ID, nil
}

// Close ends every subscription, closing their channels, and returns when
// they have stopped. Messages in flight are neither acked nor requeued:
// they stay pending. The client stays open. Close is idempotent.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// subscription is one worker of a Subscribe call: one goroutine that reads,
// claims and delivers under its own consumer name, so that one message at a
// time is in flight per worker.
type subscription struct {
	s        *Subscriber
	ctx      context.Context
	topic    string
	key      string
	consumer string
	out      chan *message.Message
	fields   watermill.LogFields

	// Group mode: when pending is set, entries already in this consumer's
	// pending list after pendingFrom are delivered before new ones.
	pending     bool
	pendingFrom string
	nextClaim   time.Time
	claimCursor string

	// Fan-out mode: the last entry seen.
	lastID string
}

func (sub *subscription) runGroup() {
	// Start with what this consumer left pending last time (a stable
	// Consumer name), then claim what others left, then read new entries.
	sub.pending, sub.pendingFrom = true, "0"
	sub.claimCursor = "0-0"
	var bo backoff
	for sub.ctx.Err() == nil {
		err := sub.stepGroup()
		if err == nil {
			bo.reset()
			continue
		}
		if sub.ctx.Err() != nil {
			return
		}
		sub.s.cfg.Logger.Error("stream read failed, retrying", err, sub.fields)
		if isNoGroup(err) {
			if err := sub.s.createGroup(sub.ctx, sub.key); err != nil {
				sub.s.cfg.Logger.Error("cannot create the consumer group again", err, sub.fields)
			} else {
				sub.s.cfg.Logger.Info("consumer group created again", sub.fields)
			}
		}
		// Whatever was read but not handled is in the pending list.
		sub.pending, sub.pendingFrom = true, "0"
		bo.wait(sub.ctx)
	}
}

// stepGroup claims stale entries when it is time, then reads one batch and
// delivers it.
func (sub *subscription) stepGroup() error {
	cfg := &sub.s.cfg
	if !sub.pending && !time.Now().Before(sub.nextClaim) {
		claimed, err := sub.claim()
		if err != nil {
			return err
		}
		if claimed {
			sub.pending, sub.pendingFrom = true, "0"
			return nil
		}
	}
	var entries []valkey.XRangeEntry
	var err error
	if sub.pending {
		entries, err = sub.readGroup(sub.pendingFrom, 0)
		if err == nil && len(entries) == 0 {
			sub.pending = false
		}
	} else {
		block := max(min(cfg.BlockTime, time.Until(sub.nextClaim)), time.Millisecond)
		entries, err = sub.readGroup(">", block)
	}
	if err != nil {
		return err
	}
	read := time.Now()
	for i, e := range entries {
		// Entries read together wait for each other. Before one has waited
		// long enough for another consumer to claim it, read it again from
		// the pending list, which makes it fresh.
		if i > 0 && time.Since(read) > cfg.MinIdle/2 {
			sub.pending, sub.pendingFrom = true, entries[i-1].ID
			return nil
		}
		if sub.pending {
			sub.pendingFrom = e.ID
		}
		if err := sub.handle(e); err != nil {
			return err
		}
	}
	return nil
}

// readGroup reads entries after id (">" for new ones), blocking up to block
// when block > 0.
func (sub *subscription) readGroup(id string, block time.Duration) ([]valkey.XRangeEntry, error) {
	cfg := &sub.s.cfg
	b := cfg.Client.B().Xreadgroup().Group(cfg.ConsumerGroup, sub.consumer).Count(cfg.ReadCount)
	var cmd valkey.Completed
	if block > 0 {
		cmd = b.Block(block.Milliseconds()).Streams().Key(sub.key).Id(id).Build()
	} else {
		cmd = b.Streams().Key(sub.key).Id(id).Build()
	}
	res, err := cfg.Client.Do(sub.ctx, cmd).AsXRead()
	if valkey.IsValkeyNil(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("XREADGROUP %s %s: %w", sub.key, id, err)
	}
	return res[sub.key], nil
}

// claim takes over entries left pending longer than MinIdle, by this or any
// other consumer of the group, and reports whether it took any. The entries
// join this consumer's pending list, where stepGroup reads them.
func (sub *subscription) claim() (bool, error) {
	cfg := &sub.s.cfg
	c := cfg.Client
	cmd := c.B().Xautoclaim().Key(sub.key).Group(cfg.ConsumerGroup).Consumer(sub.consumer).
		MinIdleTime(strconv.FormatInt(cfg.MinIdle.Milliseconds(), 10)).Start(sub.claimCursor).
		Count(cfg.ReadCount).Justid().Build()
	reply, err := c.Do(sub.ctx, cmd).ToArray()
	if err != nil {
		return false, fmt.Errorf("XAUTOCLAIM %s: %w", sub.key, err)
	}
	if len(reply) < 2 {
		return false, fmt.Errorf("XAUTOCLAIM %s: reply of %d elements", sub.key, len(reply))
	}
	cursor, err := reply[0].ToString()
	if err != nil {
		return false, fmt.Errorf("XAUTOCLAIM %s cursor: %w", sub.key, err)
	}
	ids, err := reply[1].AsStrSlice()
	if err != nil {
		return false, fmt.Errorf("XAUTOCLAIM %s ids: %w", sub.key, err)
	}
	if len(reply) > 2 {
		if gone, err := reply[2].AsStrSlice(); err == nil && len(gone) > 0 {
			sub.s.cfg.Logger.Info("pending entries were deleted from the stream before being handled",
				sub.fields.Add(watermill.LogFields{"ids": strings.Join(gone, ",")}))
		}
	}
	if len(ids) > 0 {
		sub.s.cfg.Logger.Info("claimed stale pending entries", sub.fields.Add(watermill.LogFields{"ids": strings.Join(ids, ",")}))
	}
	if cursor == "0-0" {
		// Went through the whole pending list: rest until the next round.
		sub.claimCursor = "0-0"
		sub.nextClaim = time.Now().Add(cfg.ClaimInterval)
		sub.reap()
	} else {
		sub.claimCursor = cursor
		sub.nextClaim = time.Now()
	}
	return len(ids) > 0, nil
}

// reap removes consumers of the group that hold nothing and were not seen
// for ConsumerTimeout: crashed instances with generated names. Failures
// are only logged.
func (sub *subscription) reap() {
	cfg := &sub.s.cfg
	if cfg.ConsumerTimeout < 0 {
		return
	}
	c := cfg.Client
	consumers, err := c.Do(sub.ctx, c.B().XinfoConsumers().Key(sub.key).Group(cfg.ConsumerGroup).Build()).ToArray()
	if err != nil {
		cfg.Logger.Debug("XINFO CONSUMERS failed", sub.fields.Add(watermill.LogFields{"err": err}))
		return
	}
	for _, m := range consumers {
		info, err := m.AsMap()
		if err != nil {
			continue
		}
		nameMsg, pendingMsg, idleMsg := info["name"], info["pending"], info["idle"]
		name, _ := nameMsg.ToString()
		pending, _ := pendingMsg.AsInt64()
		idle, _ := idleMsg.AsInt64()
		if name == "" || name == sub.consumer || pending > 0 || time.Duration(idle)*time.Millisecond < cfg.ConsumerTimeout {
			continue
		}
		removed, err := sub.s.script.Exec(sub.ctx, c, []string{sub.key}, []string{cfg.ConsumerGroup, name}).AsInt64()
		if err != nil {
			cfg.Logger.Debug("removing an idle consumer failed", sub.fields.Add(watermill.LogFields{"idle_consumer": name, "err": err}))
		} else if removed == 1 {
			cfg.Logger.Info("removed an idle consumer", sub.fields.Add(watermill.LogFields{"idle_consumer": name}))
		}
	}
}

// forget removes this consumer from the group when it leaves nothing
// pending, so that generated names do not pile up. Best effort, bounded.
func (sub *subscription) forget() {
	cfg := &sub.s.cfg
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := sub.s.script.Exec(ctx, cfg.Client, []string{sub.key}, []string{cfg.ConsumerGroup, sub.consumer}).Error()
	if err != nil {
		cfg.Logger.Debug("cannot remove the consumer from its group", sub.fields.Add(watermill.LogFields{"err": err}))
	}
}

// handle delivers one entry of the group and acks it once handled.
func (sub *subscription) handle(e valkey.XRangeEntry) error {
	if e.FieldValues == nil {
		// Deleted or trimmed while pending: nothing left to deliver.
		sub.s.cfg.Logger.Info("pending entry no longer in the stream, acking it", sub.fields.Add(watermill.LogFields{"id": e.ID}))
		return sub.ack(e.ID)
	}
	if _, err := MessageFromFields(e.FieldValues); err != nil {
		// It can never be delivered; keeping it pending would only block
		// the group's claims forever.
		sub.s.cfg.Logger.Error("dropping an undecodable stream entry", err, sub.fields.Add(watermill.LogFields{"id": e.ID}))
		return sub.ack(e.ID)
	}
	return sub.deliver(e, func() error { return sub.ack(e.ID) })
}

// deliver sends the entry's message and waits for its ack (then calls
// onAck) or nack (then sends it again after NackDelay).
func (sub *subscription) deliver(e valkey.XRangeEntry, onAck func() error) error {
	for {
		msg, err := MessageFromFields(e.FieldValues)
		if err != nil {
			return fmt.Errorf("entry %s: %w", e.ID, err)
		}
		ctx, cancel := context.WithCancel(sub.ctx)
		msg.SetContext(ctx)
		select {
		case sub.out <- msg:
		case <-sub.ctx.Done():
			cancel()
			return sub.ctx.Err()
		}
		select {
		case <-msg.Acked():
			cancel()
			return onAck()
		case <-msg.Nacked():
			cancel()
			sub.s.cfg.Logger.Trace("nacked, delivering again after the delay", sub.fields.Add(watermill.LogFields{"id": e.ID, "uuid": msg.UUID}))
			if !sleep(sub.ctx, sub.s.cfg.NackDelay) {
				return sub.ctx.Err()
			}
		case <-sub.ctx.Done():
			cancel()
			return sub.ctx.Err()
		}
	}
}

// ack records the entry as handled, retrying until it succeeds or the
// subscription ends.
func (sub *subscription) ack(id string) error {
	cfg := &sub.s.cfg
	var bo backoff
	for {
		err := cfg.Client.Do(sub.ctx, cfg.Client.B().Xack().Key(sub.key).Group(cfg.ConsumerGroup).Id(id).Build()).Error()
		switch {
		case err == nil:
			return nil
		case isNoGroup(err):
			// The group is gone with the stream (a server that lost its
			// data): there is nothing left to acknowledge.
			cfg.Logger.Info("ack: consumer group is gone", sub.fields.Add(watermill.LogFields{"id": id}))
			return nil
		case sub.ctx.Err() != nil:
			return sub.ctx.Err()
		}
		cfg.Logger.Error("XACK failed, retrying", err, sub.fields.Add(watermill.LogFields{"id": id}))
		if !bo.wait(sub.ctx) {
			return sub.ctx.Err()
		}
	}
}

// runFanOut reads every entry after lastID, without a group.
func (sub *subscription) runFanOut() {
	cfg := &sub.s.cfg
	c := cfg.Client
	var bo backoff
	for sub.ctx.Err() == nil {
		cmd := c.B().Xread().Count(cfg.ReadCount).Block(cfg.BlockTime.Milliseconds()).Streams().Key(sub.key).Id(sub.lastID).Build()
		res, err := c.Do(sub.ctx, cmd).AsXRead()
		if valkey.IsValkeyNil(err) {
			bo.reset()
			continue
		}
		if err != nil {
			if sub.ctx.Err() != nil {
				return
			}
			cfg.Logger.Error("stream read failed, retrying", fmt.Errorf("XREAD %s: %w", sub.key, err), sub.fields)
			bo.wait(sub.ctx)
			continue
		}
		bo.reset()
		for _, e := range res[sub.key] {
			sub.lastID = e.ID
			if e.FieldValues == nil {
				continue
			}
			if _, err := MessageFromFields(e.FieldValues); err != nil {
				cfg.Logger.Error("skipping an undecodable stream entry", err, sub.fields.Add(watermill.LogFields{"id": e.ID}))
				continue
			}
			if err := sub.deliver(e, func() error { return nil }); err != nil {
				return
			}
		}
	}
}

// isNoGroup tells the error of a command on a group or stream that does not
// exist.
func isNoGroup(err error) bool {
	var ve *valkey.ValkeyError
	return errors.As(err, &ve) && strings.HasPrefix(ve.Error(), "NOGROUP")
}
