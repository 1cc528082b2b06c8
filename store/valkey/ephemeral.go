package valkey

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// Ephemeral values are plain strings with a server-side TTL: the server's
// clock decides expiry, the same for every instance.

// ttlMillis is ttl in whole milliseconds, rounded up, and at least one: the
// server refuses PX 0.
func ttlMillis(ttl time.Duration) int64 {
	ms := (ttl + time.Millisecond - 1) / time.Millisecond
	return max(int64(ms), 1)
}

// Ephemeral values are sealed with the store's Sealer, when it has one:
// dialog drafts, the replies kept for WeChat's retries and the phone pages'
// sessions quote residents. A value that does not open (its key gone from
// the key file) reads as missing: ephemeral values are disposable.

// sealValue seals an ephemeral value. A count stays plain, so that Incr
// can add to it: a value of at most ten digits (a phone has eleven).
func (s *Store) sealValue(v []byte) (string, error) {
	if s.sealer == nil || isCount(v) {
		return vk.BinaryString(v), nil
	}
	sealed, err := s.sealer.Seal(v)
	if err != nil {
		return "", err
	}
	return vk.BinaryString(sealed), nil
}

// isCount tells a value Incr may add to: an integer of at most ten digits.
func isCount(v []byte) bool {
	digits := bytes.TrimPrefix(v, []byte("-"))
	if len(digits) == 0 || len(digits) > 10 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// openValue opens an ephemeral value; ok is false when it does not open.
func (s *Store) openValue(v []byte) ([]byte, bool) {
	plain, err := core.OpenBytes(s.sealer, v)
	return plain, err == nil
}

// Get implements core.Ephemeral.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	v, err := s.client.Do(ctx, s.client.B().Get().Key(s.ephemeralKey(key)).Build()).AsBytes()
	if vk.IsValkeyNil(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %q: %w", key, err)
	}
	v, ok := s.openValue(v)
	return v, ok, nil
}

// Set implements core.Ephemeral; the server expires the key.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	sealed, err := s.sealValue(value)
	if err != nil {
		return fmt.Errorf("set %q: %w", key, err)
	}
	cmd := s.client.B().Set().Key(s.ephemeralKey(key)).Value(sealed).PxMilliseconds(ttlMillis(ttl)).Build()
	if err := s.client.Do(ctx, cmd).Error(); err != nil {
		return fmt.Errorf("set %q: %w", key, err)
	}
	return nil
}

// SetNX implements core.Ephemeral atomically on the server (SET NX PX), so
// across every instance exactly one caller wins: what makes WeChat's retries
// deduplicate.
func (s *Store) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	sealed, err := s.sealValue(value)
	if err != nil {
		return false, fmt.Errorf("setnx %q: %w", key, err)
	}
	cmd := s.client.B().Set().Key(s.ephemeralKey(key)).Value(sealed).Nx().PxMilliseconds(ttlMillis(ttl)).Build()
	err = s.client.Do(ctx, cmd).Error()
	switch {
	case vk.IsValkeyNil(err):
		return false, nil // the key exists
	case err != nil:
		return false, fmt.Errorf("setnx %q: %w", key, err)
	}
	return true, nil
}

// Delete implements core.Ephemeral.
func (s *Store) Delete(ctx context.Context, key string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.client.Do(ctx, s.client.B().Del().Key(s.ephemeralKey(key)).Build()).Error(); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	return nil
}

// Batch implements core.KeyBatcher: the operations go out together
// (DoMulti), so a message's reads and writes wait for one round trip.
func (s *Store) Batch(ctx context.Context, ops []core.KeyOp) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	cmds := make(vk.Commands, len(ops))
	for i, op := range ops {
		k := s.ephemeralKey(op.Key)
		var value string
		if op.Kind == core.KeySet || op.Kind == core.KeySetNX {
			var err error
			if value, err = s.sealValue(op.Value); err != nil {
				// Filled with a harmless read so the replies stay in step.
				ops[i].Err, ops[i].Kind = fmt.Errorf("set %q: %w", op.Key, err), 0
			}
		}
		switch ops[i].Kind {
		case core.KeyGet:
			cmds[i] = s.client.B().Get().Key(k).Build()
		case core.KeySet:
			cmds[i] = s.client.B().Set().Key(k).Value(value).PxMilliseconds(ttlMillis(op.TTL)).Build()
		case core.KeySetNX:
			cmds[i] = s.client.B().Set().Key(k).Value(value).Nx().PxMilliseconds(ttlMillis(op.TTL)).Build()
		case core.KeyDelete:
			cmds[i] = s.client.B().Del().Key(k).Build()
		default:
			// Filled with a harmless read so the replies stay in step.
			cmds[i] = s.client.B().Get().Key(k).Build()
		}
	}
	for i, res := range s.client.DoMulti(ctx, cmds...) {
		op := &ops[i]
		switch op.Kind {
		case core.KeyGet:
			v, err := res.AsBytes()
			switch {
			case vk.IsValkeyNil(err):
			case err != nil:
				op.Err = fmt.Errorf("get %q: %w", op.Key, err)
			default:
				op.Got, op.OK = s.openValue(v)
			}
		case core.KeySetNX:
			err := res.Error()
			switch {
			case vk.IsValkeyNil(err):
			case err != nil:
				op.Err = fmt.Errorf("setnx %q: %w", op.Key, err)
			default:
				op.OK = true
			}
		case core.KeySet:
			if err := res.Error(); err != nil {
				op.Err = fmt.Errorf("set %q: %w", op.Key, err)
			}
		case core.KeyDelete:
			if err := res.Error(); err != nil {
				op.Err = fmt.Errorf("delete %q: %w", op.Key, err)
			}
		default:
			if op.Err == nil {
				op.Err = fmt.Errorf("batch %q: unknown operation %d", op.Key, op.Kind)
			}
		}
	}
}

// Whole namespaces are listed for small, hot sets (the staff bindings, asked
// on every message: is the sender bound staff?) and written seldom, so they
// are read through valkey-go's client-side cache: the server tells every
// instance when a record hash changes (CLIENT TRACKING), and the TTL bounds
// what a lost invalidation could leave.
const (
	recordCacheTTL  = time.Minute
	recordCacheSize = 8 << 20 // bytes per connection
)

// ownWriteSettles is how long after this process writes a namespace its
// lists skip the client cache: far longer than the server takes to send the
// invalidation.
const ownWriteSettles = time.Second

// recordList is what this process knows of a record namespace: its list
// as RecordsIn last parsed it, under which invalidation count and when,
// and when this process last wrote it.
type recordList struct {
	records map[string][]byte // nil until read, and after a write here
	gen     uint64
	at      time.Time
	wrote   time.Time
}

// list returns ns's entry, made if need be. s.listsMu is held.
func (s *Store) list(ns string) *recordList {
	if s.lists == nil {
		s.lists = map[string]*recordList{}
	}
	l := s.lists[ns]
	if l == nil {
		l = &recordList{}
		s.lists[ns] = l
	}
	return l
}

func (s *Store) recordsWritten(ns string) {
	s.listsMu.Lock()
	defer s.listsMu.Unlock()
	l := s.list(ns)
	l.wrote, l.records = time.Now(), nil
}

// Record implements core.Records. The residents' records are sealed
// (core.SealedNamespace) when the store has a Sealer.
func (s *Store) Record(ctx context.Context, ns, key string) ([]byte, bool, error) {
	v, ok, err := s.storedRecord(ctx, ns, key)
	if err == nil && ok && core.SealedNamespace(ns) {
		if v, err = core.OpenBytes(s.sealer, v); err != nil {
			return nil, false, fmt.Errorf("record %s/%s: %w", ns, key, err)
		}
	}
	return v, ok, err
}

// storedRecord is a record as the server holds it.
func (s *Store) storedRecord(ctx context.Context, ns, key string) ([]byte, bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if core.OneKeyPerRecord(ns) {
		return s.keyedRecord(ctx, ns, key)
	}
	v, err := s.client.Do(ctx, s.client.B().Hget().Key(s.recordsKey(ns)).Field(key).Build()).AsBytes()
	if vk.IsValkeyNil(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("record %s/%s: %w", ns, key, err)
	}
	return v, true, nil
}

// PutRecord implements core.Records.
func (s *Store) PutRecord(ctx context.Context, ns, key string, value []byte) error {
	if s.sealer != nil && core.SealedNamespace(ns) {
		sealed, err := s.sealer.Seal(value)
		if err != nil {
			return fmt.Errorf("put record %s/%s: %w", ns, key, err)
		}
		value = sealed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if core.OneKeyPerRecord(ns) {
		return s.putKeyedRecord(ctx, ns, key, value)
	}
	cmd := s.client.B().Hset().Key(s.recordsKey(ns)).FieldValue().FieldValue(key, vk.BinaryString(value)).Build()
	defer s.recordsWritten(ns)
	if err := s.client.Do(ctx, cmd).Error(); err != nil {
		return fmt.Errorf("put record %s/%s: %w", ns, key, err)
	}
	return nil
}

// DeleteRecord implements core.Records.
func (s *Store) DeleteRecord(ctx context.Context, ns, key string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if core.OneKeyPerRecord(ns) {
		return s.deleteKeyedRecord(ctx, ns, key)
	}
	defer s.recordsWritten(ns)
	if err := s.client.Do(ctx, s.client.B().Hdel().Key(s.recordsKey(ns)).Field(key).Build()).Error(); err != nil {
		return fmt.Errorf("delete record %s/%s: %w", ns, key, err)
	}
	return nil
}

// RecordsIn implements core.Records. A list is parsed once and handed out
// (read-only, as core.Records says) until the server invalidates it, for
// no longer than the client cache's TTL (which bounds what a lost
// invalidation could leave): asked on every message, the copy from
// valkey-go's cache into fresh maps was a measurable share of one.
func (s *Store) RecordsIn(ctx context.Context, ns string) (map[string][]byte, error) {
	if core.OneKeyPerRecord(ns) {
		return nil, fmt.Errorf("records in %s: %w", ns, errKeyedList)
	}
	s.listsMu.Lock()
	l := s.list(ns)
	own := time.Since(l.wrote) < ownWriteSettles
	if kept := l.records; !own && kept != nil && l.gen == s.listGen.Load() && time.Since(l.at) < recordCacheTTL {
		s.listsMu.Unlock()
		return kept, nil
	}
	s.listsMu.Unlock()
	// Read before the fetch: an invalidation during it retires the result.
	gen := s.listGen.Load()
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var m map[string]string
	var err error
	if own {
		m, err = s.client.Do(ctx, s.client.B().Hgetall().Key(s.recordsKey(ns)).Build()).AsStrMap()
	} else {
		m, err = s.client.DoCache(ctx, s.client.B().Hgetall().Key(s.recordsKey(ns)).Cache(), recordCacheTTL).AsStrMap()
	}
	if err != nil {
		return nil, fmt.Errorf("records in %s: %w", ns, err)
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
		if core.SealedNamespace(ns) {
			if out[k], err = core.OpenBytes(s.sealer, out[k]); err != nil {
				return nil, fmt.Errorf("records in %s/%s: %w", ns, k, err)
			}
		}
	}
	if !own {
		s.listsMu.Lock()
		l.records, l.gen, l.at = out, gen, time.Now()
		s.listsMu.Unlock()
	}
	return out, nil
}

// incrScript counts and sets the window in one step on the server: an INCR
// followed by a separate PEXPIRE could leave a count without expiry (a key
// expiring between the two, or a crash), which would lock a login out for
// good. The script is read-only once built, so one serves every Store.
var incrScript = vk.NewLuaScript(`local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// Incr implements core.Counter atomically on the server (a Lua script), so
// across every instance each count is seen once.
func (s *Store) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := incrScript.Exec(ctx, s.client, []string{s.ephemeralKey(key)}, []string{strconv.FormatInt(ttlMillis(ttl), 10)}).AsInt64()
	if err != nil {
		return 0, fmt.Errorf("incr %q: %w", key, err)
	}
	return n, nil
}
