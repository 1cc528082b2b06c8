package valkey

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	vk "github.com/valkey-io/valkey-go"
)

// Ephemeral values are stored as "<deadline>:<value>", the deadline in Unix
// milliseconds by Options.Now. The server's TTL (SET PX) is what removes
// them; a reader also treats a value past its deadline as gone, so the
// store's clock can only shorten a key's life, never lengthen it: by a fast
// instance clock's skew in production, and to the behaviour suite's settable
// clock in tests, which the server's clock cannot follow.

// ttlMillis is ttl in whole milliseconds, rounded up, and at least one: the
// server refuses PX 0.
func ttlMillis(ttl time.Duration) int64 {
	ms := (ttl + time.Millisecond - 1) / time.Millisecond
	return max(int64(ms), 1)
}

// encodeEphemeral prefixes value with its deadline.
func (s *Store) encodeEphemeral(value []byte, ttl time.Duration) string {
	deadline := s.now().Add(ttl).UnixMilli()
	b := make([]byte, 0, 20+len(value))
	b = strconv.AppendInt(b, deadline, 10)
	b = append(b, ':')
	return string(append(b, value...))
}

// decodeEphemeral returns the value and whether it is still live.
func (s *Store) decodeEphemeral(stored []byte) ([]byte, bool, error) {
	head, value, ok := bytes.Cut(stored, []byte{':'})
	deadline, err := strconv.ParseInt(string(head), 10, 64)
	if !ok || err != nil {
		return nil, false, errors.New("stored value has no deadline")
	}
	return value, s.now().UnixMilli() < deadline, nil
}

// setNXScript is SET NX PX that also takes the place of a value past its
// deadline (ARGV: 1 stored value, 2 now in Unix ms, 3 TTL in ms). A value
// without a deadline counts as live.
const setNXScript = `
local v = redis.call('GET', KEYS[1])
if v then
  local d = tonumber(string.match(v, '^(%d+):'))
  if d == nil or d > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
`

// Get implements core.Ephemeral.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	stored, err := s.client.Do(ctx, s.client.B().Get().Key(s.ephemeralKey(key)).Build()).AsBytes()
	if vk.IsValkeyNil(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %q: %w", key, err)
	}
	v, live, err := s.decodeEphemeral(stored)
	if err != nil {
		return nil, false, fmt.Errorf("get %q: %w", key, err)
	}
	if !live {
		return nil, false, nil
	}
	return v, true, nil
}

// Set implements core.Ephemeral; the server expires the key.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	cmd := s.client.B().Set().Key(s.ephemeralKey(key)).Value(s.encodeEphemeral(value, ttl)).PxMilliseconds(ttlMillis(ttl)).Build()
	if err := s.client.Do(ctx, cmd).Error(); err != nil {
		return fmt.Errorf("set %q: %w", key, err)
	}
	return nil
}

// SetNX implements core.Ephemeral atomically on the server, so across every
// instance exactly one caller wins: what makes WeChat's retries deduplicate.
func (s *Store) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now := strconv.FormatInt(s.now().UnixMilli(), 10)
	won, err := s.setNX.Exec(ctx, s.client, []string{s.ephemeralKey(key)},
		[]string{s.encodeEphemeral(value, ttl), now, strconv.FormatInt(ttlMillis(ttl), 10)}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("setnx %q: %w", key, err)
	}
	return won == 1, nil
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

// Record implements core.Records.
func (s *Store) Record(ctx context.Context, ns, key string) ([]byte, bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
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
	ctx, cancel := s.bound(ctx)
	defer cancel()
	cmd := s.client.B().Hset().Key(s.recordsKey(ns)).FieldValue().FieldValue(key, vk.BinaryString(value)).Build()
	if err := s.client.Do(ctx, cmd).Error(); err != nil {
		return fmt.Errorf("put record %s/%s: %w", ns, key, err)
	}
	return nil
}

// DeleteRecord implements core.Records.
func (s *Store) DeleteRecord(ctx context.Context, ns, key string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.client.Do(ctx, s.client.B().Hdel().Key(s.recordsKey(ns)).Field(key).Build()).Error(); err != nil {
		return fmt.Errorf("delete record %s/%s: %w", ns, key, err)
	}
	return nil
}

// RecordsIn implements core.Records.
func (s *Store) RecordsIn(ctx context.Context, ns string) (map[string][]byte, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	m, err := s.client.Do(ctx, s.client.B().Hgetall().Key(s.recordsKey(ns)).Build()).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("records in %s: %w", ns, err)
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out, nil
}
