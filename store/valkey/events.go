package valkey

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
	"gridbot/store/valuecodec"
)

// Each event is stored once, in its case's log (P{gb}:log:<number>), which
// serves the timeline and the figures' rebuild. The console's resume and
// the export walk all events in sequence order through a small index
// beside it: P{gb}:seqs:<bucket>, a hash of seqBucket sequence numbers
// (field: the number's remainder; value: "<case number> <position in the
// case's log>"), small enough to stay listpack-encoded (about 20 bytes an
// event). The write script fills both in one step.
//
// An event in the log is a JSON array without the field names, the case
// number (the key says it) or the sequence placeholder: the script writes
// "[" and the number it took before what Go encoded (logTail), which is
// compressed (encoding.go):
//
//	[seq,"kind","actor",at,data,"text",offset]
//
// at is Unix nanoseconds (null for the zero time, an RFC 3339 string
// outside the years nanoseconds cover), offset the zone's offset in
// seconds when not UTC; data, text and offset are left off from the end
// when empty. An entry written before this layout, a JSON object with the
// field names, still reads.

// seqBucket is how many sequence numbers one index hash holds: below
// hash-max-listpack-entries (128 by default), so each stays a listpack.
const seqBucket = 128

func (s *Store) seqsPrefix() string              { return s.ledger + "seqs:" }
func (s *Store) seqsKey(bucket uint64) string    { return s.seqsPrefix() + strconv.FormatUint(bucket, 10) }
func (s *Store) oldEventsKey() string            { return s.ledger + "events" }
func seqPlace(seq uint64) (bucket, field uint64) { return seq / seqBucket, seq % seqBucket }

// logTail encodes ev for the case's log, all but the opening "[" and the
// sequence number, which the write script puts before it.
func logTail(ev core.Event) (string, error) { return valuecodec.EventTail(ev) }

// decodeLogEntry decodes an entry of number's log, in either layout.
func decodeLogEntry(number, raw string) (core.Event, error) {
	return valuecodec.DecodeEntry(number, raw)
}

// decodeEvents decodes number's log.
func decodeEvents(number string, raws []string) ([]core.Event, error) {
	if len(raws) == 0 {
		return nil, nil
	}
	raws, err := logEntries(raws)
	if err != nil {
		return nil, fmt.Errorf("log of %s: %w", number, err)
	}
	out := make([]core.Event, len(raws))
	for i, raw := range raws {
		ev, err := decodeLogEntry(number, raw)
		if err != nil {
			return nil, fmt.Errorf("decode event %d of %s: %w", i, number, err)
		}
		out[i] = ev
	}
	return out, nil
}

// seqRef is where the index says an event is.
type seqRef struct {
	seq    uint64
	number string
	pos    int64
}

// EventsSince implements core.CaseStore. Like the embedded store, a limit
// of zero or less returns nothing. It reads the index hashes that cover
// the numbers after seq (with the last number taken, so it knows where the
// ledger ends), then the events from their cases' logs, a range of each
// case's log at once.
func (s *Store) EventsSince(ctx context.Context, seq uint64, limit int) ([]core.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	refs, err := s.seqRefs(ctx, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("events since %d: %w", seq, err)
	}
	if len(refs) == 0 {
		return nil, nil
	}
	// One read per case, from its start (a packed head holds the
	// first events, events_pack.go) to the last position asked of it.
	last := map[string]int64{}
	var order []string
	for _, r := range refs {
		hi, ok := last[r.number]
		if !ok {
			order = append(order, r.number)
		}
		last[r.number] = max(hi, r.pos)
	}
	cmds := make(vk.Commands, len(order))
	for i, n := range order {
		cmds[i] = s.logRead(n, last[n])
	}
	logs := map[string][]string{}
	for i, res := range s.client.DoMulti(ctx, cmds...) {
		raws, _, err := logElements(res)
		if err != nil {
			return nil, fmt.Errorf("events since %d: %w", seq, err)
		}
		if raws, err = logEntries(raws); err != nil {
			return nil, fmt.Errorf("events since %d: log of %s: %w", seq, order[i], err)
		}
		logs[order[i]] = raws
	}
	out := make([]core.Event, 0, len(refs))
	for _, r := range refs {
		raws, i := logs[r.number], int(r.pos)
		if i >= len(raws) {
			return nil, fmt.Errorf("events since %d: event %d is not at %d in the log of %s", seq, r.seq, r.pos, r.number)
		}
		ev, err := decodeLogEntry(r.number, raws[i])
		if err != nil {
			return nil, fmt.Errorf("events since %d: %w", seq, err)
		}
		if ev.Seq != r.seq {
			return nil, fmt.Errorf("events since %d: the log of %s holds %d where the index says %d", seq, r.number, ev.Seq, r.seq)
		}
		if err := core.OpenEvent(s.sealer, &ev); err != nil {
			return nil, fmt.Errorf("events since %d: %w", seq, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// LastSeq returns the last sequence number the store gave, 0 when none:
// nothing lies above it (a number taken by a write that failed half way
// has no event), so a feed that starts there misses nothing.
func (s *Store) LastSeq(ctx context.Context) (uint64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := s.client.Do(ctx, s.client.B().Get().Key(s.seqKey()).Build()).AsUint64()
	if vk.IsValkeyNil(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("last sequence number: %w", err)
	}
	return n, nil
}

// seqRefs reads the index for up to limit events after seq, in order. A
// number taken by a write that failed half way has no entry and is
// skipped.
func (s *Store) seqRefs(ctx context.Context, seq uint64, limit int) ([]seqRef, error) {
	var out []seqRef
	from, _ := seqPlace(seq + 1)
	var top uint64
	for first := true; len(out) < limit; first = false {
		// Enough buckets for the rest, with one to spare for gaps, at most
		// 64 a round trip.
		n := min(uint64(limit-len(out))/seqBucket+2, 64)
		cmds := make(vk.Commands, 0, n+1)
		if first {
			cmds = append(cmds, s.client.B().Get().Key(s.seqKey()).Build())
		}
		for b := from; b < from+n; b++ {
			cmds = append(cmds, s.client.B().Hgetall().Key(s.seqsKey(b)).Build())
		}
		res := s.client.DoMulti(ctx, cmds...)
		if first {
			v, err := res[0].AsUint64()
			if vk.IsValkeyNil(err) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			top, res = v, res[1:]
		}
		for i, r := range res {
			m, err := r.AsStrMap()
			if err != nil {
				return nil, err
			}
			bucket := from + uint64(i)
			start := len(out)
			for f, v := range m {
				field, err := strconv.ParseUint(f, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("index field %q: %w", f, err)
				}
				at := bucket*seqBucket + field
				if at <= seq {
					continue
				}
				number, pos, ok := strings.Cut(v, " ")
				p, err := strconv.ParseInt(pos, 10, 64)
				if !ok || err != nil {
					return nil, fmt.Errorf("index entry %q", v)
				}
				out = append(out, seqRef{seq: at, number: number, pos: p})
			}
			slices.SortFunc(out[start:], func(a, b seqRef) int { return cmp.Compare(a.seq, b.seq) })
		}
		from += n
		if from*seqBucket > top {
			break
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// migrateEvents moves a ledger written when every event was also kept in
// the sorted set P{gb}:events to the index, once: the set is read in
// sequence order a page at a time, each event's position in its case's
// log counted, the index written, and the set deleted. Writes racing it
// index their own events; the index is written idempotently, so several
// instances doing it at once do the same work. Instances of the old
// layout must be stopped first: their events would go to the old set.
func (s *Store) migrateEvents(ctx context.Context) error {
	key := s.oldEventsKey()
	n, err := s.client.Do(ctx, s.client.B().Exists().Key(key).Build()).AsInt64()
	if err != nil {
		return fmt.Errorf("move events to the index: %w", err)
	}
	if n == 0 {
		return nil
	}
	const page = 2000
	seen := map[string]int64{}
	after := "-inf"
	for {
		raws, err := s.client.Do(ctx, s.client.B().Zrange().Key(key).Min(after).Max("+inf").Byscore().Limit(0, page).Build()).AsStrSlice()
		if err != nil {
			return fmt.Errorf("move events to the index: %w", err)
		}
		cmds := make(vk.Commands, 0, len(raws))
		for _, raw := range raws {
			var ev struct {
				Seq  uint64 `json:"seq"`
				Case string `json:"case"`
			}
			if err := json.Unmarshal([]byte(raw), &ev); err != nil || ev.Case == "" {
				return fmt.Errorf("move events to the index: an event of the old set: %v", err)
			}
			b, f := seqPlace(ev.Seq)
			cmds = append(cmds, s.client.B().Hset().Key(s.seqsKey(b)).FieldValue().
				FieldValue(strconv.FormatUint(f, 10), ev.Case+" "+strconv.FormatInt(seen[ev.Case], 10)).Build())
			seen[ev.Case]++
			after = "(" + strconv.FormatUint(ev.Seq, 10)
		}
		for _, res := range s.client.DoMulti(ctx, cmds...) {
			if err := res.Error(); err != nil {
				return fmt.Errorf("move events to the index: %w", err)
			}
		}
		if len(raws) < page {
			break
		}
	}
	if err := s.client.Do(ctx, s.client.B().Unlink().Key(key).Build()).Error(); err != nil {
		return fmt.Errorf("move events to the index: %w", err)
	}
	return nil
}
