package valkey

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// The figures' counters (core/figures_tally.go), kept by writeScript in
// the write that changes the case:
//
//	P{gb}:marks:<number>  string  the case's core.FigureMarks as JSON
//	P{gb}:figures         hash    <cell key> → its counters, comma-separated (a cell back to all 0 is removed),
//	                              "states" → the cases in each state of core.AllStates (CountCases),
//	                              and "ver" → how many writes changed what the figures read
//	P{gb}:figured         string  set once the cases written before the counters are tallied
//
// A case written before them has no marks: its first update tallies it
// from its log (caseWithMarks), and buildFigures tallies the rest once.

func (s *Store) marksKey(number string) string { return s.ledger + "marks:" + number }
func (s *Store) figuresKey() string            { return s.ledger + "figures" }
func (s *Store) figuredKey() string            { return s.ledger + "figured" }

// statesField is the counters' field of the counts of cases by state, in
// the order of core.AllStates.
const statesField = "states"

// versionField is the counters' field every write of what the figures
// read increments (writeScript, and the scripts that bring old ledgers
// up): the version a kept tally is labelled with (tallycache).
const versionField = "ver"

// appendFigureDeltas puts the number of cells changed at args[7] and
// appends each as its field and comma-separated increments, in a fixed
// order, then the moves between the counts by state.
func appendFigureDeltas(args []string, deltas core.FigureDeltas, states map[core.State]int) []string {
	cells := make([]string, 0, len(deltas))
	for k := range deltas {
		cells = append(cells, k)
	}
	sort.Strings(cells)
	for _, cell := range cells {
		d := deltas[cell]
		args = append(args, cell, joinInts(d[:]))
	}
	n := len(cells)
	if len(states) > 0 {
		by := make([]int, len(core.AllStates))
		for i, st := range core.AllStates {
			by[i] = states[st]
		}
		args = append(args, statesField, joinInts(by))
		n++
	}
	args[7] = strconv.Itoa(n)
	return args
}

func joinInts(ns []int) string {
	b := make([]byte, 0, len(ns)*2)
	for i, n := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(b)
}

// splitInts reads joinInts back into out; short input leaves the rest.
func splitInts(s string, out []int) error {
	for i := 0; s != "" && i < len(out); i++ {
		part := s
		if j := strings.IndexByte(s, ','); j >= 0 {
			part, s = s[:j], s[j+1:]
		} else {
			s = ""
		}
		n, err := strconv.Atoi(part)
		if err != nil {
			return err
		}
		out[i] = n
	}
	return nil
}

// caseWithMarks reads the case, the JSON it was decoded from and its
// marks in one round trip. A case written before the marks were kept is
// tallied from its log.
func (s *Store) caseWithMarks(ctx context.Context, number string, retried bool) (core.Case, []byte, *core.FigureMarks, error) {
	var c core.Case
	vals, err := s.client.Do(ctx, s.client.B().Mget().Key(s.caseKey(number), s.marksKey(number)).Build()).ToArray()
	if err != nil {
		return c, nil, nil, fmt.Errorf("case %q: %w", number, err)
	}
	raw, err := vals[0].AsBytes()
	if vk.IsValkeyNil(err) {
		return c, nil, nil, fmt.Errorf("case %q: %w", number, core.ErrNotFound)
	}
	if err != nil {
		return c, nil, nil, fmt.Errorf("case %q: %w", number, err)
	}
	withMarks, err := s.unpackCase(raw, &c)
	if err != nil {
		return c, nil, nil, fmt.Errorf("case %q: %w", number, err)
	}
	if withMarks != nil {
		if withMarks.Version < core.MarksVersion {
			// Marks of an older layout: brought up to date first
			// (figures_gridwork.go), so this write counts from them.
			mm, err := s.remark(ctx, &c, raw, withMarks, true)
			if errors.Is(err, errRemarkRaced) {
				return s.caseWithMarks(ctx, number, retried)
			}
			return c, raw, mm, err
		}
		return c, raw, withMarks, nil
	}
	rawMarks, err := vals[1].AsBytes()
	if err == nil {
		var m core.FigureMarks
		if err := decodeMarks(rawMarks, &m); err != nil {
			return c, nil, nil, fmt.Errorf("marks of %q: %w", number, err)
		}
		if m.Version < core.MarksVersion {
			// Marks of an older layout: brought up to date first
			// (figures_gridwork.go), so this write counts from them.
			mm, err := s.remark(ctx, &c, rawMarks, &m, false)
			if errors.Is(err, errRemarkRaced) {
				return s.caseWithMarks(ctx, number, retried)
			}
			return c, raw, mm, err
		}
		return c, raw, &m, nil
	}
	if !vk.IsValkeyNil(err) {
		return c, nil, nil, fmt.Errorf("marks of %q: %w", number, err)
	}
	m, err := s.marksFromLog(ctx, &c)
	if errors.Is(err, errRewritten) && !retried {
		return s.caseWithMarks(ctx, number, true)
	}
	if err != nil {
		return c, nil, nil, err
	}
	return c, raw, m, nil
}

// errRewritten is marksFromLog's answer when the case was written, with
// its marks, while it tallied it.
var errRewritten = errors.New("case rewritten while tallied")

// marksFromLog tallies a case written before the marks were kept, from
// its whole log at once. It returns nil when the counters already count it
// (the marks exist by now).
func (s *Store) marksFromLog(ctx context.Context, c *core.Case) (*core.FigureMarks, error) {
	raws, _, err := s.readLog(ctx, c.Number)
	if err != nil {
		return nil, fmt.Errorf("log of %q: %w", c.Number, err)
	}
	evs, err := decodeEvents(c.Number, raws)
	if err != nil {
		return nil, err
	}
	if _, err := s.tallyOld(ctx, c, evs); err != nil {
		return nil, err
	}
	raw, err := s.client.Do(ctx, s.client.B().Get().Key(s.marksKey(c.Number)).Build()).AsBytes()
	if vk.IsValkeyNil(err) {
		return nil, errRewritten
	}
	if err != nil {
		return nil, fmt.Errorf("marks of %q: %w", c.Number, err)
	}
	var m core.FigureMarks
	if err := decodeMarks(raw, &m); err != nil {
		return nil, fmt.Errorf("marks of %q: %w", c.Number, err)
	}
	return &m, nil
}

// tallyScript counts a case written before the counters, once: it sets
// the marks and adds the counts only if the case has no marks yet. KEYS: 1
// marks, 2 counters, 3 the case; ARGV: 1 marks JSON, 2 k, then k pairs of cell field
// and comma-separated increments (as writeScript), then the case's number and
// its entry in the callbacks waiting (waitingEntry).
const tallyScript = waitingLua + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
-- A case written with its marks in its value (tag 4) is counted.
local c = redis.call('GET', KEYS[3])
if c and string.byte(c, 1) == 4 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
changed(KEYS[2])
for d = 1, tonumber(ARGV[2]) do
  local field, cur = ARGV[1 + 2 * d], {}
  local was = redis.call('HGET', KEYS[2], field)
  if was then for x in string.gmatch(was, '[^,]+') do cur[#cur + 1] = tonumber(x) end end
  local sum, i, zero = {}, 0, true
  for x in string.gmatch(ARGV[2 + 2 * d], '[^,]+') do
    i = i + 1
    local v = (cur[i] or 0) + tonumber(x)
    if v ~= 0 then zero = false end
    sum[i] = string.format('%d', v)
  end
  if zero then redis.call('HDEL', KEYS[2], field) else redis.call('HSET', KEYS[2], field, table.concat(sum, ',')) end
end
local w = 3 + 2 * tonumber(ARGV[2])
waiting(KEYS[2], ARGV[w], ARGV[w + 1])
return 1
`

// tallyOld counts case c, with its whole log evs, if it is not counted.
func (s *Store) tallyOld(ctx context.Context, c *core.Case, evs []core.Event) (bool, error) {
	m, deltas := s.figures.Mark(nil, c, evs)
	marks, err := encodeMarks(&m)
	if err != nil {
		return false, err
	}
	args := appendFigureDeltas([]string{"", "", "", "", "", "", string(marks), ""}, deltas, core.StateDeltas(nil, &m))
	args = append(args, c.Number, waitingEntry(&m))
	n, err := s.tally.Exec(ctx, s.client, []string{s.marksKey(c.Number), s.figuresKey(), s.caseKey(c.Number)}, args[6:]).AsInt64()
	if err != nil {
		return false, fmt.Errorf("tally %s: %w", c.Number, err)
	}
	return n == 1, nil
}

// buildFigures tallies the cases of a ledger written before the counters
// were kept, once, a page at a time; writes racing it are safe (tallyScript
// counts a case only if nothing counted it).
func (s *Store) buildFigures(ctx context.Context) error {
	done, err := s.client.Do(ctx, s.client.B().Exists().Key(s.figuredKey()).Build()).AsInt64()
	if err != nil {
		return fmt.Errorf("tally cases: %w", err)
	}
	if done == 1 {
		return nil
	}
	err = s.eachCasePage(ctx, 200, func(_ []string, cases []*core.Case) error {
		for _, c := range cases {
			if c == nil {
				continue
			}
			raws, _, err := s.readLog(ctx, c.Number)
			if err != nil {
				return err
			}
			evs, err := decodeEvents(c.Number, raws)
			if err != nil {
				return err
			}
			if _, err := s.tallyOld(ctx, c, evs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tally cases: %w", err)
	}
	if err := s.client.Do(ctx, s.client.B().Set().Key(s.figuredKey()).Value("1").Build()).Error(); err != nil {
		return fmt.Errorf("tally cases: %w", err)
	}
	return nil
}

// Figures implements core.CaseStore: the counters in one HGETALL, the
// live cases' marks a page at a time. The version every write moves is
// read first: while it stands, the tally read last is handed out again
// (tallycache), for one round trip.
func (s *Store) Figures(ctx context.Context) (core.FigureTally, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	version, err := s.client.Do(ctx, s.client.B().Hget().Key(s.figuresKey()).Field(versionField).Build()).ToString()
	if err != nil && !vk.IsValkeyNil(err) {
		return core.FigureTally{}, fmt.Errorf("figures: %w", err)
	}
	if kept, ok := s.tallies.Get(version); ok {
		return kept, nil
	}
	t, err := s.readFigures(ctx)
	if err != nil {
		return core.FigureTally{}, err
	}
	s.tallies.Put(version, t)
	return t, nil
}

// readFigures reads the tally: the counters, the callbacks waiting, and
// the marks of every case not closed.
func (s *Store) readFigures(ctx context.Context) (core.FigureTally, error) {
	res := s.client.DoMulti(ctx,
		s.client.B().Hgetall().Key(s.figuresKey()).Build(),
		s.client.B().Zrange().Key(s.liveKey()).Min("0").Max("-1").Build(),
		s.client.B().Hgetall().Key(s.waitingKey()).Build())
	fields, err := res[0].AsStrMap()
	if err != nil {
		return core.FigureTally{}, fmt.Errorf("figures: %w", err)
	}
	live, err := res[1].AsStrSlice()
	if err != nil {
		return core.FigureTally{}, fmt.Errorf("figures: %w", err)
	}
	t := core.FigureTally{Cells: make(map[core.FigureCell]core.FigureCounts, len(fields))}
	marks := s.marks.read()
	defer marks.done()
	waiting, err := res[2].AsStrMap()
	if err != nil {
		return core.FigureTally{}, fmt.Errorf("figures: %w", err)
	}
	if t.Callbacks, err = callbackMarks(waiting); err != nil {
		return core.FigureTally{}, fmt.Errorf("figures: %w", err)
	}
	for f, v := range fields {
		cell, ok := core.ParseFigureCell(f)
		if !ok {
			continue // the counts by state
		}
		var counts core.FigureCounts
		if err := splitInts(v, counts[:]); err != nil {
			return core.FigureTally{}, fmt.Errorf("figures: %q: %w", f, err)
		}
		t.Cells[cell] = counts
	}
	const page = 500
	for i := 0; i < len(live); i += page {
		part := live[i:min(i+page, len(live))]
		// The marks are in the case's value, or (a ledger before) a key
		// of their own.
		keys := make([]string, 2*len(part))
		for j, n := range part {
			keys[j], keys[len(part)+j] = s.caseKey(n), s.marksKey(n)
		}
		vals, err := s.client.Do(ctx, s.client.B().Mget().Key(keys...).Build()).ToArray()
		if err != nil {
			return core.FigureTally{}, fmt.Errorf("figures: %w", err)
		}
		for j := range part {
			raw, err := vals[j].AsBytes()
			if err == nil {
				m, err := marks.of(part[j], raw)
				if err != nil {
					return core.FigureTally{}, fmt.Errorf("figures: %s: %w", part[j], err)
				}
				if m != nil {
					t.Live = append(t.Live, *m)
					continue
				}
			}
			raw, err = vals[len(part)+j].AsBytes()
			if vk.IsValkeyNil(err) {
				continue
			}
			if err != nil {
				return core.FigureTally{}, fmt.Errorf("figures: %s: %w", part[j], err)
			}
			var m core.FigureMarks
			if err := decodeMarks(raw, &m); err != nil {
				return core.FigureTally{}, fmt.Errorf("figures: %s: %w", part[j], err)
			}
			t.Live = append(t.Live, m)
		}
	}
	return t, nil
}
