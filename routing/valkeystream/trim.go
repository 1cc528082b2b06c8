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
	"github.com/valkey-io/valkey-go"
)

// Defaults of TrimConfig.
const (
	DefaultTrimEvery  = 5 * time.Second
	DefaultStaleAfter = 10 * time.Minute
)

// TrimConfig configures a Trimmer.
type TrimConfig struct {
	// Client is the connection to Valkey. Required; never closed here.
	Client valkey.Client
	// Prefix is the publisher's and subscribers' Config.Prefix.
	Prefix string
	// Tag is their Config.Tag. Default DefaultTag.
	Tag string
	// Topics are the streams kept trimmed.
	Topics []string
	// Every is how often each stream is trimmed. Default 5s.
	Every time.Duration
	// Transient tells the consumer groups that lose nothing worth keeping
	// when entries are trimmed before they read them: groups started from
	// "$" whose readers load the past elsewhere (an instance's console
	// feed). Such a group whose consumers have all been idle for StaleAfter
	// — its instance is gone — no longer holds the stream back and is
	// destroyed. nil: none; every group is waited for, for ever.
	Transient func(group string) bool
	// StaleAfter is how long a transient group may go unread before it is
	// destroyed. Default 10m.
	StaleAfter time.Duration
	// Logger receives the trimmer's logs. Default: none.
	Logger watermill.LoggerAdapter
}

// Trimmer keeps streams from growing for ever: it removes the entries that
// every consumer group has read and acknowledged (XTRIM MINID, the oldest
// entry some group still needs), never one that a group has not yet read
// or still holds pending. A stream without any group is left alone: nobody
// has said what it needs. Several instances may trim the same stream at
// once; each only ever removes what every group is done with.
type Trimmer struct {
	cfg TrimConfig

	mu    sync.Mutex
	empty map[string]time.Time // stream + "\x00" + group → when first seen with no consumer
}

// NewTrimmer returns a trimmer of cfg.Topics.
func NewTrimmer(cfg TrimConfig) (*Trimmer, error) {
	if cfg.Client == nil {
		return nil, errors.New("valkeystream: TrimConfig.Client is required")
	}
	if cfg.Tag == "" {
		cfg.Tag = DefaultTag
	}
	if err := CheckTag(cfg.Tag); err != nil {
		return nil, fmt.Errorf("valkeystream: TrimConfig.Tag: %w", err)
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultTrimEvery
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = DefaultStaleAfter
	}
	if cfg.Transient == nil {
		cfg.Transient = func(string) bool { return false }
	}
	if cfg.Logger == nil {
		cfg.Logger = watermill.NopLogger{}
	}
	return &Trimmer{cfg: cfg, empty: map[string]time.Time{}}, nil
}

// Run trims every topic each Every until ctx is done. Failures (the server
// down) are logged and tried again at the next round.
func (t *Trimmer) Run(ctx context.Context) {
	tick := time.NewTicker(t.cfg.Every)
	defer tick.Stop()
	for {
		for _, topic := range t.cfg.Topics {
			if _, err := t.Trim(ctx, topic); err != nil && ctx.Err() == nil {
				t.cfg.Logger.Error("trimming the stream failed", err, watermill.LogFields{"topic": topic})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// TrimResult tells what one Trim did.
type TrimResult struct {
	// MinID is the oldest entry some group still needs; empty when the
	// stream was left alone (no stream, or no group).
	MinID string
	// Removed counts the entries removed.
	Removed int64
	// Destroyed names the transient groups removed as stale.
	Destroyed []string
}

// groupInfo is what XINFO GROUPS says of one group.
type groupInfo struct {
	name          string
	consumers     int64
	pending       int64
	lastDelivered string
}

// Trim trims topic's stream once.
func (t *Trimmer) Trim(ctx context.Context, topic string) (TrimResult, error) {
	return t.trimKey(ctx, TaggedStreamKey(t.cfg.Prefix, t.cfg.Tag, topic), topic)
}

func (t *Trimmer) trimKey(ctx context.Context, key, topic string) (TrimResult, error) {
	var res TrimResult
	groups, err := t.groups(ctx, key)
	if err != nil || len(groups) == 0 {
		return res, err
	}
	var min streamID
	counted := 0
	for _, g := range groups {
		if t.cfg.Transient(g.name) {
			stale, err := t.stale(ctx, key, g)
			if err != nil {
				return res, err
			}
			if stale {
				c := t.cfg.Client
				if err := c.Do(ctx, c.B().XgroupDestroy().Key(key).Group(g.name).Build()).Error(); err != nil {
					return res, fmt.Errorf("XGROUP DESTROY %s %s: %w", key, g.name, err)
				}
				t.forgetEmpty(key, g.name)
				res.Destroyed = append(res.Destroyed, g.name)
				t.cfg.Logger.Info("removed a stale transient consumer group", watermill.LogFields{"topic": topic, "consumer_group": g.name})
				continue
			}
		}
		need, err := t.needs(ctx, key, g)
		if err != nil {
			return res, err
		}
		if counted == 0 || need.less(min) {
			min = need
		}
		counted++
	}
	if counted == 0 {
		return res, nil
	}
	res.MinID = min.String()
	c := t.cfg.Client
	// "~": whole nodes of the stream go at once, which is cheap; an entry
	// below MinID may stay a little longer, one at or above it never goes.
	n, err := c.Do(ctx, c.B().Xtrim().Key(key).Minid().Almost().Threshold(res.MinID).Build()).AsInt64()
	if err != nil {
		return res, fmt.Errorf("XTRIM %s MINID %s: %w", key, res.MinID, err)
	}
	res.Removed = n
	if n > 0 {
		t.cfg.Logger.Debug("stream trimmed", watermill.LogFields{"topic": topic, "removed": n, "min_id": res.MinID})
	}
	return res, nil
}

// groups reads the stream's consumer groups; none when there is no stream.
func (t *Trimmer) groups(ctx context.Context, key string) ([]groupInfo, error) {
	c := t.cfg.Client
	reply, err := c.Do(ctx, c.B().XinfoGroups().Key(key).Build()).ToArray()
	if err != nil {
		var ve *valkey.ValkeyError
		if errors.As(err, &ve) && strings.Contains(strings.ToLower(ve.Error()), "no such key") {
			return nil, nil
		}
		return nil, fmt.Errorf("XINFO GROUPS %s: %w", key, err)
	}
	groups := make([]groupInfo, 0, len(reply))
	for _, m := range reply {
		info, err := m.AsMap()
		if err != nil {
			return nil, fmt.Errorf("XINFO GROUPS %s: %w", key, err)
		}
		var g groupInfo
		if v, ok := info["name"]; ok {
			g.name, _ = v.ToString()
		}
		if v, ok := info["consumers"]; ok {
			g.consumers, _ = v.AsInt64()
		}
		if v, ok := info["pending"]; ok {
			g.pending, _ = v.AsInt64()
		}
		if v, ok := info["last-delivered-id"]; ok {
			g.lastDelivered, _ = v.ToString()
		}
		if g.name == "" || g.lastDelivered == "" {
			return nil, fmt.Errorf("XINFO GROUPS %s: a group without name or last-delivered-id", key)
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// needs is the oldest entry the group still needs: its oldest pending
// entry, or else the first after the last one it was given.
func (t *Trimmer) needs(ctx context.Context, key string, g groupInfo) (streamID, error) {
	last, err := parseStreamID(g.lastDelivered)
	if err != nil {
		return streamID{}, fmt.Errorf("group %s of %s: %w", g.name, key, err)
	}
	need := last.next()
	if g.pending == 0 {
		return need, nil
	}
	c := t.cfg.Client
	reply, err := c.Do(ctx, c.B().Xpending().Key(key).Group(g.name).Build()).ToArray()
	if err != nil {
		return streamID{}, fmt.Errorf("XPENDING %s %s: %w", key, g.name, err)
	}
	if len(reply) < 2 {
		return streamID{}, fmt.Errorf("XPENDING %s %s: reply of %d elements", key, g.name, len(reply))
	}
	if n, _ := reply[0].AsInt64(); n == 0 {
		// Acknowledged since XINFO; the last delivered still bounds it.
		return need, nil
	}
	oldest, err := reply[1].ToString()
	if err != nil {
		return streamID{}, fmt.Errorf("XPENDING %s %s: %w", key, g.name, err)
	}
	id, err := parseStreamID(oldest)
	if err != nil {
		return streamID{}, fmt.Errorf("XPENDING %s %s: %w", key, g.name, err)
	}
	if id.less(need) {
		need = id
	}
	return need, nil
}

// stale tells a transient group nobody has read for StaleAfter: every
// consumer idle that long, or no consumer at all since this trimmer first
// saw it so (a subscription just starting has none for a moment).
func (t *Trimmer) stale(ctx context.Context, key string, g groupInfo) (bool, error) {
	if g.consumers == 0 {
		t.mu.Lock()
		defer t.mu.Unlock()
		k := key + "\x00" + g.name
		first, ok := t.empty[k]
		if !ok {
			t.empty[k] = time.Now()
			return false, nil
		}
		return time.Since(first) >= t.cfg.StaleAfter, nil
	}
	t.forgetEmpty(key, g.name)
	c := t.cfg.Client
	consumers, err := c.Do(ctx, c.B().XinfoConsumers().Key(key).Group(g.name).Build()).ToArray()
	if err != nil {
		return false, fmt.Errorf("XINFO CONSUMERS %s %s: %w", key, g.name, err)
	}
	for _, m := range consumers {
		info, err := m.AsMap()
		if err != nil {
			return false, fmt.Errorf("XINFO CONSUMERS %s %s: %w", key, g.name, err)
		}
		idleMsg, ok := info["idle"]
		if !ok {
			return false, nil
		}
		idle, err := idleMsg.AsInt64()
		if err != nil || time.Duration(idle)*time.Millisecond < t.cfg.StaleAfter {
			return false, nil
		}
	}
	return true, nil
}

func (t *Trimmer) forgetEmpty(key, group string) {
	t.mu.Lock()
	delete(t.empty, key+"\x00"+group)
	t.mu.Unlock()
}

// streamID is a stream entry ID, milliseconds-sequence.
type streamID struct{ ms, seq uint64 }

func parseStreamID(s string) (streamID, error) {
	msPart, seqPart, ok := strings.Cut(s, "-")
	if !ok {
		seqPart = "0"
	}
	ms, err1 := strconv.ParseUint(msPart, 10, 64)
	seq, err2 := strconv.ParseUint(seqPart, 10, 64)
	if err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("bad stream ID %q", s)
	}
	return streamID{ms, seq}, nil
}

func (id streamID) less(o streamID) bool {
	return id.ms < o.ms || (id.ms == o.ms && id.seq < o.seq)
}

// next is the smallest ID after id.
func (id streamID) next() streamID {
	if id.seq == ^uint64(0) {
		return streamID{id.ms + 1, 0}
	}
	return streamID{id.ms, id.seq + 1}
}

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}
