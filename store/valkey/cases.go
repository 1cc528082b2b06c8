package valkey

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
	"gridbot/routing"
	"gridbot/routing/valkeystream"
	"gridbot/store/valuecodec"
)

// seqPlaceholder stands for an event's sequence number in its stream
// entry until the write script takes the real one: events are encoded in Go
// with this Seq, and the script substitutes the number it got from INCR in
// the entry's JSON ("seq":<placeholder>) and in its UUID (the placeholder
// alone); the case's log entry starts with the number instead. A JSON string can hold the digits but never the unescaped
// `"seq":` before them, so the substitution cannot hit a resident's text.
const seqPlaceholder = uint64(math.MaxUint64)

// writeScript writes a case and its events atomically. It is the only
// writer of the ledger.
//
// KEYS: 1 case, 2 case log, 3 the start of the sequence index's key names
// (events.go; the script adds the bucket), 4 sequence counter, 5 stream, 6
// the live index (cases not closed), 7 the grid index the case was in, 8
// the grid index it is in now (the same as 7 on create), 9 the case's
// figure marks, 10 the figures' counters, and on create 11 all-cases
// index (or KEYS[1] again when there is none, days.go), 12 resident index, and 13 the submit key when the case has one
// (ARGV 3 set), then the near-index keys.
// ARGV: 1 "create" or "update", 2 case number, 3 SHA-1 of the stored case
// the update was computed from, or on create how long the submit key is kept
// (ms), 4 new case JSON, 5 what the live index does ("add", "rem" or
// "keep"), 6 event count, 7 the case's entry in the callbacks waiting after
// the write (waitingEntry, "" for none; figures_gridwork.go), 8 the
// number k of counter cells it changes, then k pairs of cell field and
// comma-separated increments, then per event: its log entry after the
// sequence number (logTail), its stream field count n, its n
// stream fields, then the counts r and a of the near-index keys the case
// leaves and joins, then the count t of word-index keys, the word index's
// entry and stem (indexes_search.go), then the retention index's day left,
// day joined and score (indexes_retention.go), then the case's reference
// in the sequence index's records and their strings' head (events.go, ""
// for a number with no reference). KEYS end with the retention
// index's three keys, the r + a near-index keys, the word index's stems
// set and its t term keys.
//
// It returns {"ok", seq...}, or {"exists"} / {"notfound"} / {"conflict"} /
// {"filed", number of the case filed with the submit key} having written
// nothing. The stream entry is added first, as the write most
// likely to fail (a key of the wrong type), and the case last.
const writeScript = writePrelude + writeCheck + writeBody

// writePrelude, writeCheck and writeBody are the parts of writeScript:
// writeManyScript runs the checks of every case before the first write.
const writePrelude = `
local placeholder = '18446744073709551615'
local tagged = '"seq":' .. placeholder
local function fill(s, seq)
  if s == placeholder then return seq end
  local i, j = string.find(s, tagged, 1, true)
  if not i then return s end
  return string.sub(s, 1, i - 1) .. '"seq":' .. seq .. string.sub(s, j + 1)
end
`

const writeCheck = `
if ARGV[1] == 'create' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
  if ARGV[3] ~= '' then
    local filed = redis.call('GET', KEYS[13])
    if filed then return {'filed', filed} end
  end
else
  local cur = redis.call('GET', KEYS[1])
  if not cur then return {'notfound'} end
  if redis.sha1hex(cur) ~= ARGV[3] then return {'conflict'} end
end
`

const writeBody = `
local out = {'ok'}
-- The marks are in the case's value; a key of their own that a ledger
-- before left goes. What the figures read of a callback waiting is kept
-- apart, in a hash named from the counters' key (figures_gridwork.go).
redis.call('DEL', KEYS[9])
-- Every write changes what the figures read: the version they are kept
-- by (figures.go) moves.
redis.call('HINCRBY', KEYS[10], '` + versionField + `', 1)
if ARGV[7] == '' then redis.call('HDEL', KEYS[10] .. '` + waitingSuffix + `', ARGV[2])
else redis.call('HSET', KEYS[10] .. '` + waitingSuffix + `', ARGV[2], ARGV[7]) end
local nd = tonumber(ARGV[8])
for d = 1, nd do
  -- A cell's counters are one field, comma-separated; the deltas too.
  local field, cur = ARGV[7 + 2 * d], {}
  local was = redis.call('HGET', KEYS[10], field)
  if was then for x in string.gmatch(was, '[^,]+') do cur[#cur + 1] = tonumber(x) end end
  local sum, i, zero = {}, 0, true
  for x in string.gmatch(ARGV[8 + 2 * d], '[^,]+') do
    i = i + 1
    local v = (cur[i] or 0) + tonumber(x)
    if v ~= 0 then zero = false end
    sum[i] = string.format('%d', v)
  end
  if zero then redis.call('HDEL', KEYS[10], field) else redis.call('HSET', KEYS[10], field, table.concat(sum, ',')) end
end
local at = 9 + 2 * nd
-- The case's reference in the index's records and their strings' head,
-- the last two arguments (events.go).
local ref, head = ARGV[#ARGV - 1], ARGV[#ARGV]
-- A packed head holds several events (events_pack.go).
` + packedLua + `
for e = 1, tonumber(ARGV[6]) do
  local seqn = redis.call('INCR', KEYS[4])
  local seq = string.format('%d', seqn)
  local n = tonumber(ARGV[at + 1])
  local fields = {}
  for f = 1, n do fields[f] = fill(ARGV[at + 1 + f], seq) end
  redis.call('XADD', KEYS[5], '*', unpack(fields))
  local pos = redis.call('RPUSH', KEYS[2], '[' .. seq .. ARGV[at]) - 1 + shift
  -- The index (events.go) is named from KEYS[3] and the bucket: same slot
  -- ({gb}). A record in the bucket's string when the number has one and
  -- the string is of the same prefix, else a field of the bucket's hash.
  local bucket = string.format('%d', math.floor(seqn / ` + seqBucketLua + `))
  local recorded = false
  if ref ~= '' and pos < 65536 then
    local rk = KEYS[3] .. 'r' .. bucket
    if redis.call('EXISTS', rk) == 0 then redis.call('SET', rk, head .. string.rep('\0', ` + seqRecordsLua + `)) end
    if redis.call('GETRANGE', rk, 0, #head - 1) == head then
      redis.call('SETRANGE', rk, #head + (seqn % ` + seqBucketLua + `) * ` + seqRecordLua + `,
        ref .. string.char(math.floor(pos / 256), pos % 256))
      recorded = true
    end
  end
  if not recorded then
    redis.call('HSET', KEYS[3] .. bucket, string.format('%d', seqn % ` + seqBucketLua + `), ARGV[2] .. ' ' .. string.format('%d', pos))
  end
  at = at + 2 + n
  out[#out + 1] = seq
end
if ARGV[5] == 'add' then
  redis.call('ZADD', KEYS[6], 0, ARGV[2])
elseif ARGV[5] == 'rem' then
  redis.call('ZREM', KEYS[6], ARGV[2])
end
if KEYS[7] ~= KEYS[8] then redis.call('ZREM', KEYS[7], ARGV[2]) end
if KEYS[7] ~= KEYS[8] or ARGV[1] == 'create' then redis.call('ZADD', KEYS[8], 0, ARGV[2]) end
if ARGV[1] == 'create' then
  -- KEYS[11] is the case's own key on a ledger that keeps no set of every
  -- case (days.go).
  if KEYS[11] ~= KEYS[1] then redis.call('ZADD', KEYS[11], 0, ARGV[2]) end
  redis.call('ZADD', KEYS[12], 0, ARGV[2])
  if ARGV[3] ~= '' then redis.call('SET', KEYS[13], ARGV[2], 'PX', ARGV[3]) end
end
local nr, na, nt = tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
local base = #KEYS - nr - na - nt - 1
for i = 1, nr do redis.call('ZREM', KEYS[base + i], ARGV[2]) end
for i = 1, na do redis.call('ZADD', KEYS[base + nr + i], 0, ARGV[2]) end
if nt > 0 then
  -- The word index (indexes_search.go): the stem, then the terms gained.
  local w = #KEYS - nt
  redis.call('SADD', KEYS[w], ARGV[at + 4])
  for i = 1, nt do redis.call('APPEND', KEYS[w + i], ARGV[at + 3]) end
end
-- The retention index (indexes_retention.go), its three keys before the
-- near-index keys and its arguments after the word index's.
local rd, ra = base - 2, at + 5
` + writeRetention + `
redis.call('SET', KEYS[1], ARGV[4])
return out
`

// writeManyScript writes several cases and their events in one atomic
// write (CaseStore.UpdateCases): every case is checked as writeScript
// checks it, and if one fails nothing is written; then each is written as
// writeScript writes it. The parameters KEYS and ARGV of its functions
// shadow the script's own, so the parts read as they do in writeScript.
//
// KEYS: each case's writeScript keys in turn. ARGV: 1 the number of cases
// n, then n pairs of the counts of keys and of arguments of each case,
// then each case's writeScript arguments in turn. It returns the first
// refusal, or {"ok", seq...} with the sequence numbers of every case's
// events in turn.
const writeManyScript = writePrelude + `
local function check(KEYS, ARGV)
` + writeCheck + `
  return nil
end
local function write(KEYS, ARGV)
` + writeBody + `
end
local n = tonumber(ARGV[1])
local parts, k, a = {}, 0, 1 + 2 * n
for i = 1, n do
  local nk, na = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local ks, as = {}, {}
  for j = 1, nk do ks[j] = KEYS[k + j] end
  for j = 1, na do as[j] = ARGV[a + j] end
  k, a = k + nk, a + na
  parts[i] = {ks, as}
end
for i = 1, n do
  local refused = check(parts[i][1], parts[i][2])
  if refused then return refused end
end
local out = {'ok'}
for i = 1, n do
  local got = write(parts[i][1], parts[i][2])
  for j = 2, #got do out[#out + 1] = got[j] end
end
return out
`

// Results of writeScript other than "ok".
var (
	errExists   = errors.New("exists")
	errConflict = errors.New("conflict")
)

// errFiled is writeScript's "filed": the submit key already filed Number.
type errFiled struct{ Number string }

func (e errFiled) Error() string { return "already filed as " + e.Number }

// submitKeyTTL is how long a submit key guards against filing twice: far
// longer than a resident's retry, and than a dialog session lives.
const submitKeyTTL = 7 * 24 * time.Hour

// maxAttempts bounds UpdateCase's optimistic retries.
const maxAttempts = 64

// runWrite runs writeScript for c and evs (whose Case is set) and numbers evs.
// old is the stored case JSON an update was computed from, and was the
// case it decoded to; both nil for create. marks are the case's figure
// marks when it was read (nil for create).
func (s *Store) runWrite(ctx context.Context, c *core.Case, evs []core.Event, old []byte, was *core.Case, marks *core.FigureMarks) error {
	keys, args, err := s.writeArgs(c, evs, old, was, marks)
	if err != nil {
		return err
	}
	if err := s.noteVillageGrids(ctx, c); err != nil {
		return err
	}
	res, err := s.write.Exec(ctx, s.client, keys, args).ToArray()
	if err != nil {
		return fmt.Errorf("write script: %w", err)
	}
	if err := numberEvents(res, evs); err != nil {
		return err
	}
	if c.State == core.StateClosed {
		// Packed whole (events_pack.go); the write is done whether or
		// not that is.
		_ = s.packLog(ctx, c.Number)
	}
	return nil
}

// writeArgs are writeScript's keys and arguments for writing c and evs
// (runWrite).
func (s *Store) writeArgs(c *core.Case, evs []core.Event, old []byte, was *core.Case, marks *core.FigureMarks) (keys, args []string, err error) {
	after, deltas := s.figures.Mark(marks, c, evs)
	caseJSON, err := s.packCase(c, &after)
	if err != nil {
		return nil, nil, err
	}
	live := "keep"
	switch isLive := c.State != core.StateClosed; {
	case was == nil && isLive, was != nil && isLive && was.State == core.StateClosed:
		live = "add"
	case was != nil && !isLive && was.State != core.StateClosed:
		live = "rem"
	}
	wasGrid := s.gridKey(c.Grid)
	if was != nil {
		wasGrid = s.gridKey(was.Grid)
	}
	keys = []string{s.caseKey(c.Number), s.caseLogKey(c.Number), s.seqsPrefix(), s.seqKey(), s.stream,
		s.liveKey(), wasGrid, s.gridKey(c.Grid), s.marksKey(c.Number), s.figuresKey()}
	args = []string{"update", c.Number, "", string(caseJSON), live, strconv.Itoa(len(evs)), waitingEntry(&after), ""}
	args = appendFigureDeltas(args, deltas, core.StateDeltas(marks, &after))
	if old == nil {
		args[0] = "create"
		keys = append(keys, s.allCasesKey(c.Number), s.residentKey(c.Resident))
		if c.SubmitKey != "" {
			keys = append(keys, s.submitKey(c.Resident, c.SubmitKey))
			args[2] = strconv.FormatInt(submitKeyTTL.Milliseconds(), 10)
		}
	} else {
		sum := sha1.Sum(old)
		args[2] = hex.EncodeToString(sum[:])
	}
	for _, ev := range evs {
		sealed, err := core.SealEvent(s.sealer, ev)
		if err != nil {
			return nil, nil, err
		}
		tail, fields, err := encodeEvent(sealed)
		if err != nil {
			return nil, nil, err
		}
		args = append(args, tail, strconv.Itoa(len(fields)))
		args = append(args, fields...)
	}
	leave, join := s.nearMoves(was, c)
	args = append(args, strconv.Itoa(len(leave)), strconv.Itoa(len(join)))
	rkeys, rargs := s.retentionMoves(was, c)
	keys = append(append(append(keys, rkeys...), leave...), join...)
	terms, stem, entry := s.termWrite(was, c)
	args = append(args, strconv.Itoa(len(terms)), string(entry), stem)
	args = append(args, rargs...)
	args = append(args, s.caseRef(c.Number), s.seqHead())
	keys = append(append(keys, s.termStemsKey()), terms...)
	return keys, args, nil
}

// numberEvents reads a write script's reply: the refusal as an error, or
// the sequence numbers of evs.
func numberEvents(res []vk.ValkeyMessage, evs []core.Event) error {
	if len(res) == 0 {
		return errors.New("write script: empty reply")
	}
	switch status, _ := res[0].ToString(); status {
	case "ok":
	case "exists":
		return errExists
	case "filed":
		number, _ := res[len(res)-1].ToString()
		return errFiled{Number: number}
	case "notfound":
		return core.ErrNotFound
	case "conflict":
		return errConflict
	default:
		return fmt.Errorf("write script: unexpected reply %q", status)
	}
	if len(res) != len(evs)+1 {
		return fmt.Errorf("write script: %d sequence numbers for %d events", len(res)-1, len(evs))
	}
	for i := range evs {
		v, err := res[i+1].ToString()
		if err != nil {
			return fmt.Errorf("write script: %w", err)
		}
		if evs[i].Seq, err = strconv.ParseUint(v, 10, 64); err != nil {
			return fmt.Errorf("write script: sequence %q: %w", v, err)
		}
	}
	return nil
}

// encodeEvent returns ev's entry in its case's log without its opening
// (logTail), and its stream entry fields with the sequence placeholder for
// the script to fill in.
func encodeEvent(ev core.Event) (string, []string, error) {
	plain, err := logTail(ev)
	if err != nil {
		return "", nil, err
	}
	tail, err := valuecodec.PackEventTail(plain)
	if err != nil {
		return "", nil, fmt.Errorf("encode event of %s: %w", ev.Case, err)
	}
	ev.Seq = seqPlaceholder
	msg, err := routing.NewMessage(ev)
	if err != nil {
		return "", nil, err
	}
	tagged := []byte(`"seq":` + strconv.FormatUint(seqPlaceholder, 10))
	if n := bytes.Count(msg.Payload, tagged); n != 1 || msg.UUID != strconv.FormatUint(seqPlaceholder, 10) {
		return "", nil, fmt.Errorf("encode event of %s: the sequence number is not where the write script looks for it", ev.Case)
	}
	fields, err := valkeystream.EntryFields(msg)
	if err != nil {
		return "", nil, err
	}
	return string(tail), fields, nil
}

// CreateCase implements core.CaseStore. The day's number is taken first
// (INCR); the case, its first event, the indexes and the stream entry are
// then written by one script.
func (s *Store) CreateCase(ctx context.Context, c core.Case, first core.Event) (core.Case, core.Event, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.SubmitKey != "" {
		// Most second submissions are caught here, before a day number is
		// spent; the write script catches the rest.
		number, err := s.client.Do(ctx, s.client.B().Get().Key(s.submitKey(c.Resident, c.SubmitKey)).Build()).ToString()
		switch {
		case err == nil:
			return s.filed(ctx, number)
		case !vk.IsValkeyNil(err):
			return core.Case{}, core.Event{}, fmt.Errorf("create case: submit key: %w", err)
		}
	}
	day := c.CreatedAt // in the town's zone (core.Ledger.Submit), not the server's
	n, err := s.countDay(ctx, day.Format("20060102"))
	if err != nil {
		return core.Case{}, core.Event{}, fmt.Errorf("create case: number: %w", err)
	}
	c.Number = core.FormatCaseNumber(s.casePrefix, day, n)
	c.Version = 1
	c.UpdatedAt = first.At
	first.Case = c.Number
	evs := []core.Event{first}
	var filed errFiled
	switch err := s.runWrite(ctx, &c, evs, nil, nil, nil); {
	case errors.As(err, &filed):
		return s.filed(ctx, filed.Number)
	case errors.Is(err, errExists):
		return core.Case{}, core.Event{}, fmt.Errorf("create case: case %s exists: %w", c.Number, core.ErrConflict)
	case err != nil:
		return core.Case{}, core.Event{}, fmt.Errorf("create case %s: %w", c.Number, err)
	}
	return c, evs[0], nil
}

// filed returns the case a submit key filed before.
func (s *Store) filed(ctx context.Context, number string) (core.Case, core.Event, error) {
	c, _, err := s.getCase(ctx, number)
	if err != nil {
		return core.Case{}, core.Event{}, fmt.Errorf("create case: filed before: %w", err)
	}
	return c, core.Event{}, nil
}

// Case implements core.CaseStore.
func (s *Store) Case(ctx context.Context, number string) (core.Case, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	c, _, err := s.getCase(ctx, number)
	return c, err
}

// getCase returns the case and the JSON it was decoded from.
func (s *Store) getCase(ctx context.Context, number string) (core.Case, []byte, error) {
	var c core.Case
	raw, err := s.client.Do(ctx, s.client.B().Get().Key(s.caseKey(number)).Build()).AsBytes()
	if vk.IsValkeyNil(err) {
		return c, nil, fmt.Errorf("case %q: %w", number, core.ErrNotFound)
	}
	if err != nil {
		return c, nil, fmt.Errorf("case %q: %w", number, err)
	}
	if _, err := s.unpackCase(raw, &c); err != nil {
		return c, nil, fmt.Errorf("case %q: %w", number, err)
	}
	return c, raw, nil
}

// UpdateCase implements core.CaseStore. It is optimistic: the write script
// refuses the write if the case changed since it was read, and UpdateCase
// then reads it again and reruns change, up to maxAttempts times with a
// little jitter. An error from change is returned as it is.
func (s *Store) UpdateCase(ctx context.Context, number string, change func(*core.Case) ([]core.Event, error)) (core.Case, []core.Event, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	for attempt := 1; ; attempt++ {
		c, raw, marks, err := s.caseWithMarks(ctx, number, false)
		if err != nil {
			return core.Case{}, nil, fmt.Errorf("update case: %w", err)
		}
		was := indexedOf(&c)
		evs, err := change(&c)
		if err != nil {
			return core.Case{}, nil, err
		}
		if len(evs) == 0 {
			return core.Case{}, nil, core.ErrNoChange
		}
		c.Number = number // the key is not the change's to edit
		c.Version++
		for i := range evs {
			evs[i].Case = number
			c.UpdatedAt = evs[i].At
		}
		err = s.runWrite(ctx, &c, evs, raw, &was, marks)
		if err == nil {
			return c, evs, nil
		}
		if !errors.Is(err, errConflict) {
			return core.Case{}, nil, fmt.Errorf("update case %s: %w", number, err)
		}
		if attempt == maxAttempts {
			return core.Case{}, nil, fmt.Errorf("update case %s: still contended after %d attempts: %w", number, attempt, core.ErrConflict)
		}
		// Back off a random moment that grows with the contention seen.
		wait := time.Duration(rand.Int64N(int64(min(attempt, 10)) * int64(time.Millisecond)))
		select {
		case <-ctx.Done():
			return core.Case{}, nil, fmt.Errorf("update case %s: %w", number, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// UpdateCases implements core.CaseStore: UpdateCase for several cases in
// one run of writeManyScript, which refuses the whole write if any case
// changed since it was read; UpdateCases then reads them all again and
// reruns change, as UpdateCase does.
func (s *Store) UpdateCases(ctx context.Context, numbers []string, change func([]*core.Case) ([][]core.Event, error)) ([]core.Case, [][]core.Event, error) {
	if err := core.CheckCaseNumbers(numbers); err != nil {
		return nil, nil, fmt.Errorf("update cases: %w", err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	for attempt := 1; ; attempt++ {
		cases := make([]core.Case, len(numbers))
		ptrs := make([]*core.Case, len(numbers))
		raws := make([][]byte, len(numbers))
		marks := make([]*core.FigureMarks, len(numbers))
		was := make([]core.Case, len(numbers))
		for i, number := range numbers {
			c, raw, m, err := s.caseWithMarks(ctx, number, false)
			if err != nil {
				return nil, nil, fmt.Errorf("update cases: %w", err)
			}
			cases[i], raws[i], marks[i] = c, raw, m
			was[i] = indexedOf(&c)
			ptrs[i] = &cases[i]
		}
		evs, err := change(ptrs)
		if err != nil {
			return nil, nil, err
		}
		if len(evs) != len(numbers) {
			return nil, nil, fmt.Errorf("update cases: %d event lists for %d cases: %w", len(evs), len(numbers), core.ErrInvalid)
		}
		args := []string{strconv.Itoa(len(numbers))}
		var keys, caseArgs []string
		all := 0
		for i, number := range numbers {
			if len(evs[i]) == 0 {
				return nil, nil, core.ErrNoChange
			}
			c := &cases[i]
			c.Number = number // the key is not the change's to edit
			c.Version++
			for j := range evs[i] {
				evs[i][j].Case = number
				c.UpdatedAt = evs[i][j].At
			}
			k, a, err := s.writeArgs(c, evs[i], raws[i], &was[i], marks[i])
			if err != nil {
				return nil, nil, fmt.Errorf("update cases: %w", err)
			}
			if err := s.noteVillageGrids(ctx, c); err != nil {
				return nil, nil, fmt.Errorf("update cases: %w", err)
			}
			args = append(args, strconv.Itoa(len(k)), strconv.Itoa(len(a)))
			keys, caseArgs = append(keys, k...), append(caseArgs, a...)
			all += len(evs[i])
		}
		flat := make([]core.Event, 0, all)
		for _, e := range evs {
			flat = append(flat, e...)
		}
		res, err := s.writeMany.Exec(ctx, s.client, keys, append(args, caseArgs...)).ToArray()
		if err != nil {
			return nil, nil, fmt.Errorf("update cases: write script: %w", err)
		}
		err = numberEvents(res, flat)
		if err == nil {
			for i := range cases {
				if cases[i].State == core.StateClosed {
					_ = s.packLog(ctx, cases[i].Number) // as runWrite
				}
			}
			at := 0
			for i := range evs {
				for j := range evs[i] {
					evs[i][j].Seq = flat[at].Seq
					at++
				}
			}
			return cases, evs, nil
		}
		if !errors.Is(err, errConflict) {
			return nil, nil, fmt.Errorf("update cases %v: %w", numbers, err)
		}
		if attempt == maxAttempts {
			return nil, nil, fmt.Errorf("update cases %v: still contended after %d attempts: %w", numbers, attempt, core.ErrConflict)
		}
		wait := time.Duration(rand.Int64N(int64(min(attempt, 10)) * int64(time.Millisecond)))
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("update cases %v: %w", numbers, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// defaultLimit bounds a listing that did not ask for a limit.
const defaultLimit = 1000

// Cases implements core.CaseStore. It walks an index newest first (the
// resident's when q.Resident is set, else all cases) a page at a time,
// fetching each page's cases with one MGET and filtering with q.Match.
func (s *Store) Cases(ctx context.Context, q core.CaseQuery) ([]core.Case, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	if !q.Search.Empty() {
		if out, ok, err := s.searchCases(ctx, q, limit); ok {
			return out, err
		}
	}
	if nearQuery(q) {
		return s.nearCases(ctx, q, limit)
	}
	if keys, ok, err := s.mergedKeys(ctx, q); err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	} else if ok {
		return s.mergedCases(ctx, q, keys, limit) // indexes_reach.go
	}
	index := s.indexFor(q)
	within, err := s.withinKeys(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	page := int64(min(max(limit, 64), 512))
	if within != nil {
		// Most numbers are dropped unread: take more at a time.
		page = 2048
	}
	var out []core.Case
	upper := "+" // the next page starts below this member
	if q.Before != "" {
		upper = "(" + q.Before
	}
	for len(out) < limit {
		read, err := s.numbersPage(ctx, index, upper, int(page))
		if err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		if len(read) == 0 {
			break
		}
		upper = "(" + read[len(read)-1]
		numbers, err := s.inAnyIndex(ctx, within, read)
		if err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		if out, err = s.matchPage(ctx, q, numbers, out, limit); err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		if int64(len(read)) < page {
			break
		}
	}
	return out, nil
}

// Events implements core.CaseStore.
func (s *Store) Events(ctx context.Context, number string) ([]core.Event, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	res := s.client.DoMulti(ctx,
		s.client.B().Exists().Key(s.caseKey(number)).Build(),
		s.logRead(number, -1))
	exists, err := res[0].AsInt64()
	if err != nil {
		return nil, fmt.Errorf("events of %q: %w", number, err)
	}
	if exists == 0 {
		return nil, fmt.Errorf("events of %q: %w", number, core.ErrNotFound)
	}
	raws, _, err := logElements(res[1])
	if err != nil {
		return nil, fmt.Errorf("events of %q: %w", number, err)
	}
	evs, err := decodeEvents(number, raws)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		if err := core.OpenEvent(s.sealer, &evs[i]); err != nil {
			return nil, fmt.Errorf("events of %q: %w", number, err)
		}
	}
	return evs, nil
}
