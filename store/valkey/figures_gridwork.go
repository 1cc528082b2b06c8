package valkey

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// The grid's own work in the figures (core/gridwork_figures.go): its
// counters are cells' counters like the others; beside them:
//
//	P{gb}:callbacks       set     the numbers of the cases whose marks have a callback waiting
//	P{gb}:marks-version   string  the core.MarksVersion every case's marks were brought to
//
// The set is kept around the write, not in it: a number is added before a
// write whose marks have a callback waiting and removed after one whose
// marks have none, and Figures keeps only the members whose marks say so.
// A crash between the two leaves a member too many, never one too few.

func (s *Store) callbacksKey() string    { return s.ledger + "callbacks" }
func (s *Store) marksVersionKey() string { return s.ledger + "marks-version" }

// callbackBefore adds the case to the callbacks waiting before a write
// whose marks after have one.
func (s *Store) callbackBefore(ctx context.Context, after *core.FigureMarks) error {
	if after.CallbackDue.IsZero() {
		return nil
	}
	return s.client.Do(ctx, s.client.B().Sadd().Key(s.callbacksKey()).Member(after.Number).Build()).Error()
}

// callbackAfter takes the case out of the callbacks waiting after a write
// whose marks have none where they had one. A failure leaves a member
// Figures skips, so the write, done, is not failed for it.
func (s *Store) callbackAfter(ctx context.Context, before, after *core.FigureMarks) {
	if !after.CallbackDue.IsZero() || before == nil || before.CallbackDue.IsZero() {
		return
	}
	_ = s.client.Do(ctx, s.client.B().Srem().Key(s.callbacksKey()).Member(after.Number).Build()).Error()
}

// callbackMarks reads the marks of the cases with a callback waiting:
// from the case's value, or (a ledger before) their own key.
func (s *Store) callbackMarks(ctx context.Context, marks *marksRead) ([]core.FigureMarks, error) {
	numbers, err := s.client.Do(ctx, s.client.B().Smembers().Key(s.callbacksKey()).Build()).AsStrSlice()
	if err != nil || len(numbers) == 0 {
		return nil, err
	}
	keys := make([]string, 2*len(numbers))
	for i, n := range numbers {
		keys[i], keys[len(numbers)+i] = s.caseKey(n), s.marksKey(n)
	}
	vals, err := s.client.Do(ctx, s.client.B().Mget().Key(keys...).Build()).ToArray()
	if err != nil {
		return nil, err
	}
	var out []core.FigureMarks
	for i, n := range numbers {
		var m *core.FigureMarks
		if raw, err := vals[i].AsBytes(); err == nil {
			if m, err = marks.of(n, raw); err != nil {
				return nil, fmt.Errorf("marks of %s: %w", n, err)
			}
		}
		if m == nil {
			raw, err := vals[len(numbers)+i].AsBytes()
			if vk.IsValkeyNil(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			m = &core.FigureMarks{}
			if err := decodeMarks(raw, m); err != nil {
				return nil, fmt.Errorf("marks of %s: %w", n, err)
			}
		}
		if !m.CallbackDue.IsZero() {
			out = append(out, *m)
		}
	}
	return out, nil
}

// remarkScript replaces a case's marks of an older layout and adds what
// that changes to the counters, only if the value holding them (the
// case's, or the marks' own key) is still the one read: KEYS 1 that value,
// 2 counters; ARGV 1 the value read, 2 the new value, 3 k,
// then k pairs of cell field and increments (as tallyScript). It returns 1
// when it wrote, 0 when the marks had changed.
var remarkScript = vk.NewLuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
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
	logRaws, err := s.client.Do(ctx, s.client.B().Lrange().Key(s.caseLogKey(c.Number)).Start(0).Stop(-1).Build()).AsStrSlice()
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
	if err := s.callbackBefore(ctx, &m); err != nil {
		return nil, fmt.Errorf("remark %s: %w", c.Number, err)
	}
	args := appendFigureDeltas([]string{"", "", "", "", "", "", "", ""}, deltas, nil)
	args = append([]string{string(raw), string(value), args[7]}, args[8:]...)
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
	if err == nil {
		if n, _ := strconv.Atoi(v); n >= core.MarksVersion {
			return nil
		}
	} else if !vk.IsValkeyNil(err) {
		return fmt.Errorf("upgrade marks: %w", err)
	}
	err = s.eachCaseNumbers(ctx, 200, func(numbers []string) error {
		for _, n := range numbers {
			if _, _, _, err := s.caseWithMarks(ctx, n, false); err != nil && !errors.Is(err, core.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("upgrade marks: %w", err)
	}
	if err := s.client.Do(ctx, s.client.B().Set().Key(s.marksVersionKey()).Value(strconv.Itoa(core.MarksVersion)).Build()).Error(); err != nil {
		return fmt.Errorf("upgrade marks: %w", err)
	}
	return nil
}
