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

// ErrClosed is returned when a closed Publisher or Subscriber is used.
var ErrClosed = errors.New("valkeystream: closed")

// Publisher is a watermill message.Publisher that adds messages to Valkey
// streams.
type Publisher struct {
	cfg Config

	mu     sync.RWMutex // held for reading while publishing; Close waits for them
	closed bool
}

var _ message.Publisher = (*Publisher)(nil)

// NewPublisher returns a publisher on cfg.Client.
func NewPublisher(cfg Config) (*Publisher, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Publisher{cfg: cfg}, nil
}

// Publish adds msgs to the topic's stream, in order, in one pipeline. It
// returns once Valkey has them all. Through a lost connection or a server
// restarting it keeps trying for PublishPatience, from the first message not
// known to be added: one whose answer was lost may then be added twice,
// which at-least-once delivery allows, where giving up would report lost a
// message that was in fact added. On an error some may have been added.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return fmt.Errorf("publish to %s: %w", topic, ErrClosed)
	}
	if len(msgs) == 0 {
		return nil
	}
	return p.publish(context.Background(), topic, msgs)
}

func (p *Publisher) publish(ctx context.Context, topic string, msgs []*message.Message) error {
	key := TaggedStreamKey(p.cfg.Prefix, p.cfg.Tag, topic)
	cmds := make(valkey.Commands, 0, len(msgs))
	for _, msg := range msgs {
		fields, err := EntryFields(msg)
		if err != nil {
			return fmt.Errorf("publish to %s: %w", topic, err)
		}
		// Pinned: valkey-go recycles a command once sent, and a retry
		// sends it again.
		cmds = append(cmds, p.xadd(key, fields).Pin())
	}
	giveUp := time.Now().Add(PublishPatience)
	var bo backoff
	for {
		failed, err := p.send(ctx, cmds)
		if err == nil {
			break
		}
		err = fmt.Errorf("publish %s to %s: %w", msgs[failed].UUID, topic, err)
		if !transient(err) || time.Now().After(giveUp) || !bo.wait(ctx) {
			return err
		}
		p.cfg.Logger.Info("publish failed, trying again", watermill.LogFields{"topic": topic, "err": err})
		cmds, msgs = cmds[failed:], msgs[failed:]
	}
	p.cfg.Logger.Trace("published", watermill.LogFields{"topic": topic, "count": len(msgs)})
	return nil
}

// PublishPatience bounds how long Publish keeps trying through a lost
// connection or a restarting server.
const PublishPatience = 10 * time.Second

// send runs cmds in one pipeline and returns the index of the first that
// failed, with its error.
func (p *Publisher) send(ctx context.Context, cmds valkey.Commands) (int, error) {
	for i, res := range p.cfg.Client.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// transient tells a failure worth another try: the connection, or a server
// still loading its data; not an error the server answered with for good.
func transient(err error) bool {
	var ve *valkey.ValkeyError
	if errors.As(err, &ve) {
		return strings.HasPrefix(ve.Error(), "LOADING") || strings.HasPrefix(ve.Error(), "TRYAGAIN")
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func (p *Publisher) xadd(key string, fields []string) valkey.Completed {
	// valkey-go builders append to one command: build each path in one go.
	k := p.cfg.Client.B().Xadd().Key(key)
	if p.cfg.MaxLen > 0 {
		return withFields(k.Maxlen().Almost().Threshold(strconv.FormatInt(p.cfg.MaxLen, 10)).Id("*").FieldValue(), fields)
	}
	return withFields(k.Id("*").FieldValue(), fields)
}

// withFields adds field/value pairs to an XADD under construction.
func withFields[F interface {
	FieldValue(field, value string) F
	Build() valkey.Completed
}](f F, fields []string) valkey.Completed {
	for i := 0; i+1 < len(fields); i += 2 {
		f = f.FieldValue(fields[i], fields[i+1])
	}
	return f.Build()
}

// Close stops publishing: it waits for the publishes under way and makes
// later ones fail. The client stays open.
func (p *Publisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}
