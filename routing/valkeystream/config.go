package valkeystream

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/valkey-io/valkey-go"
)

// Defaults of Config.
const (
	DefaultBlockTime       = time.Second
	DefaultReadCount       = 10
	DefaultClaimInterval   = 5 * time.Second
	DefaultMinIdle         = time.Minute
	DefaultNackDelay       = time.Second
	DefaultConsumerTimeout = time.Hour
	// MinNackDelay is the shortest NackDelay honoured: a nacked message is
	// never redelivered in a hot loop.
	MinNackDelay = 10 * time.Millisecond
)

// Config configures a Publisher or a Subscriber. The publisher reads only
// Client, Prefix, Tag, MaxLen and Logger.
type Config struct {
	// Client is the connection to Valkey. Required. It is never closed
	// here: whoever created it closes it.
	Client valkey.Client
	// Prefix is put before every key; a topic's stream is
	// TaggedStreamKey(Prefix, Tag, topic).
	Prefix string
	// Tag is the hash tag of the streams: the Valkey store's Options.Tag,
	// whose write script adds to the stream, so both are in one slot.
	// Default DefaultTag ("gb").
	Tag string

	// ConsumerGroup is the group the subscriber reads in: the subscribers
	// of one group share the messages, each handled by one of them. Empty
	// means fan-out: every subscription gets every message published after
	// it started, without acknowledgements (XREAD).
	ConsumerGroup string
	// Consumer names this subscriber inside its group. It must be unique
	// among the live subscribers of the group; a stable name (e.g. the
	// instance's) lets a restarted instance take back at once what it left
	// pending. Default: the host name and a random suffix.
	Consumer string
	// Workers is how many consumers of the group each Subscribe runs
	// (named Consumer, Consumer-2, …), all feeding its one channel: that
	// many messages in flight at once, in no particular order between
	// them. Each reads ReadCount entries at a time, so keep that small with
	// several workers, or one holds a burst while the others wait. Default
	// 1: one at a time, in stream order. Fan-out subscriptions always have
	// one.
	Workers int
	// GroupStartID is where a newly created group starts reading: "0" (the
	// default) from the oldest entry still in the stream, "$" from the
	// next one published.
	GroupStartID string

	// BlockTime is how long one XREADGROUP (or XREAD) blocks waiting for
	// new entries. Close does not wait for it. Default 1s.
	BlockTime time.Duration
	// ReadCount is how many entries one read takes at most. Default 10.
	ReadCount int64
	// ClaimInterval is how often the subscriber looks for entries that
	// other consumers of its group left pending. Default 5s.
	ClaimInterval time.Duration
	// MinIdle is how long an entry must have been pending, with any
	// consumer, before another consumer takes it over (XAUTOCLAIM
	// min-idle-time). It must exceed the longest a handler runs, retries
	// included, or work still in progress is handed out a second time.
	// Default 1m.
	MinIdle time.Duration
	// NackDelay is the wait before a nacked message is delivered again.
	// Default 1s; at least MinNackDelay.
	NackDelay time.Duration
	// ConsumerTimeout: consumers of the group that have nothing pending
	// and were not seen for this long (crashed instances with generated
	// names) are removed from the group. Default 1h; negative never.
	ConsumerTimeout time.Duration

	// MaxLen caps each stream at about this many entries (XADD MAXLEN ~).
	// Zero keeps everything. Trimmed entries are gone for every group,
	// read or not: keep it far above what consumers may lag behind.
	MaxLen int64

	// Logger receives the transport's logs. Default: none.
	Logger watermill.LoggerAdapter
}

func (c Config) withDefaults() (Config, error) {
	if c.Client == nil {
		return c, errors.New("valkeystream: Config.Client is required")
	}
	if c.Tag == "" {
		c.Tag = DefaultTag
	}
	if err := CheckTag(c.Tag); err != nil {
		return c, fmt.Errorf("valkeystream: Config.Tag: %w", err)
	}
	if c.Consumer == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "gridbot"
		}
		c.Consumer = host + "-" + watermill.NewShortUUID()
	}
	if c.GroupStartID == "" {
		c.GroupStartID = "0"
	}
	if c.BlockTime <= 0 {
		c.BlockTime = DefaultBlockTime
	}
	if c.BlockTime < time.Millisecond {
		c.BlockTime = time.Millisecond
	}
	if c.ReadCount <= 0 {
		c.ReadCount = DefaultReadCount
	}
	if c.ClaimInterval <= 0 {
		c.ClaimInterval = DefaultClaimInterval
	}
	if c.MinIdle <= 0 {
		c.MinIdle = DefaultMinIdle
	}
	if c.NackDelay == 0 {
		c.NackDelay = DefaultNackDelay
	}
	if c.NackDelay < MinNackDelay {
		c.NackDelay = MinNackDelay
	}
	if c.ConsumerTimeout == 0 {
		c.ConsumerTimeout = DefaultConsumerTimeout
	}
	if c.MaxLen < 0 {
		return c, fmt.Errorf("valkeystream: negative MaxLen %d", c.MaxLen)
	}
	if c.Logger == nil {
		c.Logger = watermill.NopLogger{}
	}
	return c, nil
}

// backoff spaces out retries after errors: 100ms doubling to 2s.
type backoff struct{ next time.Duration }

const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 2 * time.Second
)

func (b *backoff) reset() { b.next = 0 }

// wait sleeps for the next interval, or until ctx is done (then false).
func (b *backoff) wait(ctx context.Context) bool {
	if b.next == 0 {
		b.next = backoffMin
	}
	d := b.next
	b.next = min(2*b.next, backoffMax)
	return sleep(ctx, d)
}

// sleep waits d, or until ctx is done (then false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
