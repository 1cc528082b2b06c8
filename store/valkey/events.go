package valkey

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
	"gridbot/store/valuecodec"
)

// Each event is stored once, in its case's log (P{gb}:log:<number>), which
// serves the timeline and the figures' rebuild. The console's resume and
// the export walk all events in sequence order through a small index
// beside it, by buckets of seqBucket sequence numbers. The write script
// fills both in one step.
//
// An event's entry is a record of seqRecordLen bytes in the bucket's
// string P{gb}:seqs:r<bucket>: the case's day (days since 1970) in two
// bytes, its count that day in three and the event's position in the
// case's log in two, big-endian, at the number's remainder; a record of
// zeros is no event. The string starts with its head (seqHead: the length
// of the town's case prefix and the prefix), so the numbers it holds are
// the prefix, the day and the count (core.FormatCaseNumber) whatever the
// prefix is later. 7 bytes an event, where the hash below took about 24:
// a sixth of a case's memory at a million cases (docs/benchmarks.md).
//
// A number that is not of that shape (another prefix, a count past three
// bytes), a position past two bytes, and every event written before the
// records, are a field of the bucket's hash P{gb}:seqs:<bucket> (field:
// the remainder; value: "<case number> <position in the case's log>").
// A reader reads both; packSeqs moves a ledger's hash fields to records
// once.
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

// seqBucket is how many sequence numbers one index bucket holds: below
// hash-max-listpack-entries (128 by default), so a hash stays a listpack,
// and 128 records with a head of up to 120 bytes fit the allocator's 1 KiB
// class.
const seqBucket = 128

// seqRecordLen is the length of a record; maxSeqHead the longest head
// (seqHead) a records string takes.
const (
	seqRecordLen = 7
	maxSeqHead   = 120
)

// The constants as the write script reads them (TestSeqConstantsInLua).
const (
	seqBucketLua  = "128"
	seqRecordLua  = "7"
	seqRecordsLua = "896" // seqBucket × seqRecordLen
)

func (s *Store) seqsPrefix() string           { return s.ledger + "seqs:" }
func (s *Store) seqsKey(bucket uint64) string { return s.seqsPrefix() + strconv.FormatUint(bucket, 10) }
func (s *Store) seqRecordsKey(bucket uint64) string {
	return s.seqsPrefix() + "r" + strconv.FormatUint(bucket, 10)
}

// seqHead is the head of the records strings this store writes: the case
// prefix's length in a byte, then the prefix ("" when too long for one,
// and then every entry goes to the hashes).
func (s *Store) seqHead() string {
	if 1+len(s.casePrefix) > maxSeqHead {
		return ""
	}
	return string([]byte{byte(len(s.casePrefix))}) + s.casePrefix
}

// caseRef is number's day and count as a record holds them, "" when the
// number is not this store's prefix, a day and a count that format back
// to it.
func (s *Store) caseRef(number string) string {
	rest, ok := strings.CutPrefix(number, s.casePrefix)
	if !ok || len(rest) < 12 || s.seqHead() == "" {
		return ""
	}
	day, err := time.Parse("20060102", rest[:8])
	if err != nil {
		return ""
	}
	n, err := strconv.Atoi(rest[8:])
	days := day.Unix() / 86400
	if err != nil || days <= 0 || days > 0xffff || n < 0 || n > 0xffffff || core.FormatCaseNumber(s.casePrefix, day, n) != number {
		return ""
	}
	return string([]byte{byte(days >> 8), byte(days), byte(n >> 16), byte(n >> 8), byte(n)})
}

// seqRecords reads the records string of bucket: the references of the
// events after seq, appended to out.
func seqRecords(raw string, bucket, seq uint64, out []seqRef) ([]seqRef, error) {
	if raw == "" {
		return out, nil
	}
	n := int(raw[0])
	if 1+n > len(raw) {
		return nil, fmt.Errorf("index records of bucket %d: a head of %d bytes in %d", bucket, n, len(raw))
	}
	prefix, recs := raw[1:1+n], raw[1+n:]
	for i := 0; i+seqRecordLen <= len(recs); i += seqRecordLen {
		r := recs[i : i+seqRecordLen]
		days := int64(r[0])<<8 | int64(r[1])
		at := bucket*seqBucket + uint64(i/seqRecordLen)
		if days == 0 || at <= seq {
			continue
		}
		count := int(r[2])<<16 | int(r[3])<<8 | int(r[4])
		number := core.FormatCaseNumber(prefix, time.Unix(days*86400, 0).UTC(), count)
		out = append(out, seqRef{seq: at, number: number, pos: int64(r[5])<<8 | int64(r[6])})
	}
	return out, nil
}
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
			cmds = append(cmds, s.client.B().Get().Key(s.seqRecordsKey(b)).Build(),
				s.client.B().Hgetall().Key(s.seqsKey(b)).Build())
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
		for i := 0; i < len(res); i += 2 {
			bucket := from + uint64(i/2)
			start := len(out)
			recs, err := res[i].ToString()
			if err != nil && !vk.IsValkeyNil(err) {
				return nil, err
			}
			if out, err = seqRecords(recs, bucket, seq, out); err != nil {
				return nil, err
			}
			m, err := res[i+1].AsStrMap()
			if err != nil {
				return nil, err
			}
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

// packSeqsScript moves entries of a bucket's hash to its records string,
// each only if its field still holds the value read: KEYS 1 the hash, 2
// the records string; ARGV 1 the strings' head, then per entry its field,
// the value read and its record. It returns how many it moved (0 when the
// string is of another head).
var packSeqsScript = vk.NewLuaScript(`
local head = ARGV[1]
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], head .. string.rep('\0', ` + seqRecordsLua + `)) end
if redis.call('GETRANGE', KEYS[2], 0, #head - 1) ~= head then return 0 end
local moved = 0
for i = 2, #ARGV, 3 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('SETRANGE', KEYS[2], #head + tonumber(ARGV[i]) * ` + seqRecordLua + `, ARGV[i + 2])
    redis.call('HDEL', KEYS[1], ARGV[i])
    moved = moved + 1
  end
end
return moved
`)

func (s *Store) seqsPackedKey() string { return s.ledger + "seqs-packed" }

// packSeqs moves the index entries a ledger wrote into hashes, before the
// records, to records, once (a key says it was done), 64 buckets a round
// trip. Entries with no record (another prefix, a position past two
// bytes) stay. Writes racing it are safe: a write adds records of numbers
// after those read, and an entry changed since it was read is not moved.
func (s *Store) packSeqs(ctx context.Context) error {
	done, err := s.client.Do(ctx, s.client.B().Exists().Key(s.seqsPackedKey()).Build()).AsInt64()
	if err != nil || done == 1 {
		return err
	}
	head := s.seqHead()
	top, err := s.LastSeq(ctx)
	if err != nil || head == "" {
		return err
	}
	const round = 64
	for from := uint64(0); from <= top/seqBucket; from += round {
		cmds := make(vk.Commands, 0, round)
		for b := from; b < from+round; b++ {
			cmds = append(cmds, s.client.B().Hgetall().Key(s.seqsKey(b)).Build())
		}
		var execs []vk.LuaExec
		for i, res := range s.client.DoMulti(ctx, cmds...) {
			m, err := res.AsStrMap()
			if err != nil {
				return fmt.Errorf("pack the event index: %w", err)
			}
			args := []string{head}
			for f, v := range m {
				number, pos, ok := strings.Cut(v, " ")
				p, err := strconv.Atoi(pos)
				ref := s.caseRef(number)
				if !ok || err != nil || ref == "" || p < 0 || p > 0xffff {
					continue
				}
				args = append(args, f, v, ref+string([]byte{byte(p >> 8), byte(p)}))
			}
			if len(args) > 1 {
				b := from + uint64(i)
				execs = append(execs, vk.LuaExec{Keys: []string{s.seqsKey(b), s.seqRecordsKey(b)}, Args: args})
			}
		}
		for _, res := range packSeqsScript.ExecMulti(ctx, s.client, execs...) {
			if err := res.Error(); err != nil {
				return fmt.Errorf("pack the event index: %w", err)
			}
		}
	}
	if err := s.client.Do(ctx, s.client.B().Set().Key(s.seqsPackedKey()).Value("1").Build()).Error(); err != nil {
		return fmt.Errorf("pack the event index: %w", err)
	}
	return nil
}
