package valkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// The audit trail's keys share the hash tag {au}, so that the scripts that
// append and trim touch one slot on a cluster:
//
//	P{au}:audit             sorted set  none  every record as JSON, scored by its number
//	P{au}:audit:tail        string      none  the last record appended, as JSON
//	P{au}:audit:anchor      string      none  the last record trimmed away, as JSON
//	P{au}:audit:anchor-seq  string      none  its number
func (s *Store) auditKey() string          { return s.prefix + "{au}:audit" }
func (s *Store) auditTailKey() string      { return s.prefix + "{au}:audit:tail" }
func (s *Store) auditAnchorKey() string    { return s.prefix + "{au}:audit:anchor" }
func (s *Store) auditAnchorSeqKey() string { return s.prefix + "{au}:audit:anchor-seq" }

// appendAuditScript appends a record only if the tail is still the one the
// record was chained to (ARGV[1], empty for none): an append from another
// instance in between makes the caller chain again.
const appendAuditScript = `
local tail = redis.call('GET', KEYS[2])
if (tail or '') ~= ARGV[1] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('SET', KEYS[2], ARGV[2])
return 1
`

// trimAuditScript removes the records numbered up to ARGV[1] and keeps the
// last of them (ARGV[2]) as the anchor, unless a trim elsewhere already
// went further.
const trimAuditScript = `
local done = tonumber(redis.call('GET', KEYS[3]) or '0')
if done >= tonumber(ARGV[1]) then return 0 end
local n = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[1])
return n
`

// maxAuditAttempts bounds the chaining retries of one append.
const maxAuditAttempts = 50

// AppendAudit implements core.AuditStore: read the tail, seal, and append
// only if the tail has not moved.
func (s *Store) AppendAudit(ctx context.Context, seal func(last core.AuditRecord) (core.AuditRecord, error)) (core.AuditRecord, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	script := vk.NewLuaScript(appendAuditScript)
	for range maxAuditAttempts {
		tail, err := s.client.Do(ctx, s.client.B().Get().Key(s.auditTailKey()).Build()).AsBytes()
		if err != nil && !vk.IsValkeyNil(err) {
			return core.AuditRecord{}, fmt.Errorf("append audit record: %w", err)
		}
		var last core.AuditRecord
		if len(tail) > 0 {
			if err := json.Unmarshal(tail, &last); err != nil {
				return core.AuditRecord{}, fmt.Errorf("append audit record: the tail: %w", err)
			}
		}
		r, err := seal(last)
		if err != nil {
			return core.AuditRecord{}, err
		}
		if r.Seq != last.Seq+1 {
			return core.AuditRecord{}, fmt.Errorf("append audit record: numbered %d after %d", r.Seq, last.Seq)
		}
		raw, err := json.Marshal(r)
		if err != nil {
			return core.AuditRecord{}, fmt.Errorf("append audit record: %w", err)
		}
		ok, err := script.Exec(ctx, s.client, []string{s.auditKey(), s.auditTailKey()},
			[]string{string(tail), string(raw), strconv.FormatUint(r.Seq, 10)}).AsInt64()
		if err != nil {
			return core.AuditRecord{}, fmt.Errorf("append audit record: %w", err)
		}
		if ok == 1 {
			return r, nil
		}
	}
	return core.AuditRecord{}, errors.New("append audit record: too many appends at once")
}

// AuditRecords implements core.AuditStore.
func (s *Store) AuditRecords(ctx context.Context, after uint64, limit int) ([]core.AuditRecord, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	raws, err := s.client.Do(ctx, s.client.B().Zrange().Key(s.auditKey()).Min("("+strconv.FormatUint(after, 10)).
		Max("+inf").Byscore().Limit(0, int64(limit)).Build()).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("audit records: %w", err)
	}
	out := make([]core.AuditRecord, 0, len(raws))
	for _, raw := range raws {
		var r core.AuditRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("audit records: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// AuditAnchor implements core.AuditStore.
func (s *Store) AuditAnchor(ctx context.Context) (core.AuditRecord, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var r core.AuditRecord
	raw, err := s.client.Do(ctx, s.client.B().Get().Key(s.auditAnchorKey()).Build()).AsBytes()
	if vk.IsValkeyNil(err) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("audit anchor: %w", err)
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("audit anchor: %w", err)
	}
	return r, nil
}

// auditTrimPage is how many records a trim reads at a time.
const auditTrimPage = 1000

// TrimAudit implements core.AuditStore. It finds the last record made
// before before, then removes it and those before it in one script.
func (s *Store) TrimAudit(ctx context.Context, before time.Time) (int, error) {
	anchor, err := s.AuditAnchor(ctx)
	if err != nil {
		return 0, err
	}
	var last *core.AuditRecord
	after := anchor.Seq
walk:
	for {
		recs, err := s.AuditRecords(ctx, after, auditTrimPage)
		if err != nil {
			return 0, err
		}
		for i := range recs {
			if !recs[i].At.Before(before) {
				break walk
			}
			last = &recs[i]
		}
		if len(recs) < auditTrimPage {
			break
		}
		after = recs[len(recs)-1].Seq
	}
	if last == nil {
		return 0, nil
	}
	raw, err := json.Marshal(last)
	if err != nil {
		return 0, fmt.Errorf("trim audit: %w", err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := vk.NewLuaScript(trimAuditScript).Exec(ctx, s.client,
		[]string{s.auditKey(), s.auditAnchorKey(), s.auditAnchorSeqKey()},
		[]string{strconv.FormatUint(last.Seq, 10), string(raw)}).AsInt64()
	if err != nil {
		return 0, fmt.Errorf("trim audit: %w", err)
	}
	return int(n), nil
}
