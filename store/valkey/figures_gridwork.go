package valkey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// The grid's own work in the figures (core/gridwork_figures.go): its
// counters are cells' counters like the others; beside them:
//
//	P{gb}:figures:waiting  hash    <number> → what the figures read of its callback waiting
//	                               (core.FigureMarks.CallbackWaiting, waitingEntry), one field a case with one
//	P{gb}:marks-version    string  the core.MarksVersion every case's marks were brought to
//
// The hash is kept in the write that changes the case (writeScript, and
// tallyScript and remarkScript for older marks), so a figures page reads
// it and no case: about 60 bytes a callback waiting instead of the case's
// whole value. A ledger before kept a set of the numbers around the write
// (P{gb}:callbacks, a member too many possible); moveWaiting builds the
// hash from it when a store opens the ledger.

func (s *Store) waitingKey() string      { return s.figuresKey() + waitingSuffix }
func (s *Store) callbacksKey() string    { return s.ledger + "callbacks" }
func (s *Store) marksVersionKey() string { return s.ledger + "marks-version" }

// waitingSuffix names the hash of the callbacks waiting after the
// figures' counters' key: the scripts that have that key name the hash
// from it (the same slot, {gb}) without another key in their layout.
const waitingSuffix = ":waiting"

// waitingLua sets or clears case number's field in the callbacks waiting,
// figures being the counters' key and entry waitingEntry's ("" for none).
const waitingLua = `
local function changed(figures) redis.call('HINCRBY', figures, '` + versionField + `', 1) end
local function waiting(figures, number, entry)
  if entry == '' then redis.call('HDEL', figures .. '` + waitingSuffix + `', number)
  else redis.call('HSET', figures .. '` + waitingSuffix + `', number, entry) end
end
`

// waitingEntry is the field value of marks m in the callbacks waiting:
// the callback's date in Unix nanoseconds, the month, village and grid,
// and the departments, separated by 0x1f (the departments by 0x1e; none of
// these ids holds a control character). "" when no callback waits.
func waitingEntry(m *core.FigureMarks) string {
	w, ok := m.CallbackWaiting()
	if !ok {
		return ""
	}
	return strconv.FormatInt(w.CallbackDue.UnixNano(), 10) + "\x1f" + w.Month + "\x1f" + w.Village + "\x1f" + w.Grid +
		"\x1f" + strings.Join(w.Departments, "\x1e")
}

// parseWaiting reads waitingEntry back into the marks of case number.
func parseWaiting(number, entry string) (core.FigureMarks, error) {
	parts := strings.Split(entry, "\x1f")
	if len(parts) != 5 {
		return core.FigureMarks{}, fmt.Errorf("callback waiting of %s: %d fields", number, len(parts))
	}
	due, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || due == 0 {
		return core.FigureMarks{}, fmt.Errorf("callback waiting of %s: date %q", number, parts[0])
	}
	m := core.FigureMarks{Number: number, Month: parts[1], Village: parts[2], Grid: parts[3],
		CallbackDue: time.Unix(0, due).UTC()}
	if parts[4] != "" {
		m.Departments = strings.Split(parts[4], "\x1e")
	}
	return m, nil
}

// callbackMarks reads the callbacks waiting from their hash's fields, as
// HGETALL answered them.
func callbackMarks(fields map[string]string) ([]core.FigureMarks, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	out := make([]core.FigureMarks, 0, len(fields))
	for n, e := range fields {
		m, err := parseWaiting(n, e)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	// In number order, as a reader comparing two reads expects.
	slices.SortFunc(out, func(a, b core.FigureMarks) int { return strings.Compare(a.Number, b.Number) })
	return out, nil
}

// moveWaitingScript sets case number's field in the callbacks waiting
// from its marks as they were read, only if its value (and the marks' own
// key, a ledger before) is still what was read: a write since set it
// itself. KEYS 1 the case, 2 its marks' key, 3 the counters; ARGV 1 the
// case's value read, 2 the marks' key's value read ("" for none), 3 the
// number, 4 the entry. It returns 1 when it set the field.
var moveWaitingScript = vk.NewLuaScript(waitingLua + `
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] then return 0 end
waiting(KEYS[3], ARGV[3], ARGV[4])
changed(KEYS[3])
return 1
`)

// moveWaiting builds the callbacks waiting of a ledger that kept only a
// set of their numbers (a member too many possible): each member's marks
// are read and its field set, and the set deleted. Writes racing it are
// safe (moveWaitingScript sets a field only over the value it read).
func (s *Store) moveWaiting(ctx context.Context) error {
	numbers, err := s.client.Do(ctx, s.client.B().Smembers().Key(s.callbacksKey()).Build()).AsStrSlice()
	if err != nil {
		return fmt.Errorf("callbacks waiting: %w", err)
	}
	const page = 200
	for i := 0; i < len(numbers); i += page {
		part := numbers[i:min(i+page, len(numbers))]
		keys := make([]string, 2*len(part))
		for j, n := range part {
			keys[j], keys[len(part)+j] = s.caseKey(n), s.marksKey(n)
		}
		vals, err := s.client.Do(ctx, s.client.B().Mget().Key(keys...).Build()).ToArray()
		if err != nil {
			return fmt.Errorf("callbacks waiting: %w", err)
		}
		for j, n := range part {
			raw, err := vals[j].AsBytes()
			if vk.IsValkeyNil(err) {
				continue // erased since
			}
			if err != nil {
				return fmt.Errorf("callbacks waiting: %w", err)
			}
			m, err := marksOf(raw)
			if err != nil {
				return fmt.Errorf("callbacks waiting: %s: %w", n, err)
			}
			rawMarks, err := vals[len(part)+j].AsBytes()
			if err != nil && !vk.IsValkeyNil(err) {
				return fmt.Errorf("callbacks waiting: %w", err)
			}
			if m == nil && rawMarks != nil {
				m = &core.FigureMarks{}
				if err := decodeMarks(rawMarks, m); err != nil {
					return fmt.Errorf("callbacks waiting: %s: %w", n, err)
				}
			}
			if m == nil {
				continue
			}
			err = moveWaitingScript.Exec(ctx, s.client, []string{s.caseKey(n), s.marksKey(n), s.figuresKey()},
				[]string{string(raw), string(rawMarks), n, waitingEntry(m)}).Error()
			if err != nil {
				return fmt.Errorf("callbacks waiting: %s: %w", n, err)
			}
		}
	}
	if err := s.client.Do(ctx, s.client.B().Del().Key(s.callbacksKey()).Build()).Error(); err != nil {
		return fmt.Errorf("callbacks waiting: %w", err)
	}
	return nil
}

// remarkScript replaces a case's marks of an older layout and adds what
// that changes to the counters, only if the value holding them (the
// case's, or the marks' own key) is still the one read: KEYS 1 that value,
// 2 counters; ARGV 1 the value read, 2 the new value, 3 k,
// then k pairs of cell field and increments (as tallyScript), then the
// case's number and its entry in the callbacks waiting (waitingEntry). It returns 1 when
// it wrote, 0 when the marks had changed.
var remarkScript = vk.NewLuaScript(waitingLua + `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
changed(KEYS[2])
for d = 1, tonumber(ARGV[3]) do
  local field, cur = ARGV[2 + 2 * d], {}
  local was = redis.call('HGET', KEYS[2], field)
  if was then for x in string.gmatch(was, '[^,]+') do cur[#cur + 1] = tonumber(x) end end
  local sum, i, zero = {}, 0, true
  for x in string.gmatch(ARGV[3 + 2 * d], '[^,]+') do
    i = i + 1
    local v = (cur[i] or 0) + tonumber(x)
    if v ~= 0 then zero = false end
    sum[i] = string.format('%d', v)
  end
  for j = i + 1, #cur do
    sum[j] = string.format('%d', cur[j])
    if cur[j] ~= 0 then zero = false end
  end
  if zero then redis.call('HDEL', KEYS[2], field) else redis.call('HSET', KEYS[2], field, table.concat(sum, ',')) end
end
local w = 4 + 2 * tonumber(ARGV[3])
waiting(KEYS[2], ARGV[w], ARGV[w + 1])
return 1
`)

// errRemarkRaced is remark's answer when another write changed the value
// it read first: read the case again.
var errRemarkRaced = errors.New("marks changed while brought up to date")

// remark brings the marks old of case c to this build's layout
// (core.FigureRule.Remark) and returns them. inCase says the marks are in
// the case's value, read as raw; otherwise raw is the value of their own
// key (a ledger before). errRemarkRaced: another write came first.
func (s *Store) remark(ctx context.Context, c *core.Case, raw []byte, old *core.FigureMarks, inCase bool) (*core.FigureMarks, error) {
	logRaws, _, err := s.readLog(ctx, c.Number)
	if err != nil {
		return nil, fmt.Errorf("log of %q: %w", c.Number, err)
	}
	evs, err := decodeEvents(c.Number, logRaws)
	if err != nil {
		return nil, err
	}
	m, deltas, ok := s.figures.Remark(old, c, evs)
	if !ok {
		return old, nil
	}
	key := s.marksKey(c.Number)
	value, err := encodeMarks(&m)
	if inCase {
		key = s.caseKey(c.Number)
		value, err = encodeCase(c, &m)
	}
	if err != nil {
		return nil, err
	}
	args := appendFigureDeltas([]string{"", "", "", "", "", "", "", ""}, deltas, nil)
	args = append([]string{string(raw), string(value), args[7]}, args[8:]...)
	args = append(args, c.Number, waitingEntry(&m))
	n, err := remarkScript.Exec(ctx, s.client, []string{key, s.figuresKey()}, args).AsInt64()
	if err != nil {
		return nil, fmt.Errorf("remark %s: %w", c.Number, err)
	}
	if n == 0 {
		return nil, errRemarkRaced
	}
	return &m, nil
}

// upgradeMarks brings every case's marks to this build's layout, once (a
// key says it was done), a page at a time; writes racing it are safe
// (remarkScript writes only over the marks it read, and a write reads
// marks of an older layout through remark first).
func (s *Store) upgradeMarks(ctx context.Context) error {
	v, err := s.client.Do(ctx, s.client.B().Get().Key(s.marksVersionKey()).Build()).ToString()
	had := 0
	if err == nil {
		if had, _ = strconv.Atoi(v); had >= core.MarksVersion {
			return nil
		}
	} else if !vk.IsValkeyNil(err) {
		return fmt.Errorf("upgrade marks: %w", err)
	}
	bring := func(numbers []string) error {
		for _, n := range numbers {
			if _, _, _, err := s.caseWithMarks(ctx, n, false); err != nil && !errors.Is(err, core.ErrNotFound) {
				return err
			}
		}
		return nil
	}
	if had >= core.MarksVersionBoard-1 {
		// From the layout before the board's, only the cases not closed
		// need bringing up (core.MarksVersionBoard).
		var live []string
		live, err = s.client.Do(ctx, s.client.B().Zrange().Key(s.liveKey()).Min("0").Max("-1").Build()).AsStrSlice()
		if err == nil {
			err = bring(live)
		}
	} else {
		err = s.eachCaseNumbers(ctx, 200, bring)
	}
	if err != nil {
		return fmt.Errorf("upgrade marks: %w", err)
	}
	if err := s.client.Do(ctx, s.client.B().Set().Key(s.marksVersionKey()).Value(strconv.Itoa(core.MarksVersion)).Build()).Error(); err != nil {
		return fmt.Errorf("upgrade marks: %w", err)
	}
	return nil
}
