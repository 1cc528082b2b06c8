package valkey

import (
	"context"
	"fmt"
	"slices"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// The case indexes beside the all-cases and resident indexes: the live
// index (every case not closed: the sweep, 附议, work lists, open queues)
// and one per grid (a grid's queue, the household file's same address).
// writeScript keeps them in the write that changes the case. A ledger
// written before they existed is indexed once, when a store first opens
// it (buildIndexes).

// indexFor picks the index that narrows q the most, as the embedded store
// does: the resident's cases, the live ones when only states other than
// closed are asked for, one grid's, or else every case.
func (s *Store) indexFor(q core.CaseQuery) string {
	switch {
	case q.Resident != "":
		return s.residentKey(q.Resident)
	case q.Department != "":
		return s.deptKey(q.Department)
	case len(q.States) > 0 && !slicesContains(q.States, core.StateClosed):
		return s.liveKey()
	case len(q.Grids) == 1:
		return s.gridKey(q.Grids[0])
	case q.Category != "":
		return s.kindKey(q.Category)
	}
	return s.casesKey()
}

func slicesContains(states []core.State, st core.State) bool {
	for _, x := range states {
		if x == st {
			return true
		}
	}
	return false
}

// indexScript indexes one case written before the indexes existed, as it
// stands when the script runs. KEYS: 1 the case, 2 the live index, 3 the
// grid index of the grid the case was read in (ARGV 2). A case moved to
// another grid since was indexed by the write that moved it.
const indexScript = `
local raw = redis.call('GET', KEYS[1])
-- A case not in plain JSON was written compressed, and indexed by that write.
if not raw or string.sub(raw, 1, 1) ~= '{' then return 0 end
local c = cjson.decode(raw)
if c.grid ~= ARGV[2] then return 0 end
if c.state ~= 'closed' then redis.call('ZADD', KEYS[2], 0, ARGV[1]) end
redis.call('ZADD', KEYS[3], 0, ARGV[1])
return 1
`

// buildIndexes indexes the cases of a ledger written before the indexes
// existed, once: a page of cases at a time, each case by a script that
// reads it as it stands, so a write racing the pass is never undone.
// Several instances doing it at once do the same idempotent work.
func (s *Store) buildIndexes(ctx context.Context) error {
	done, err := s.client.Do(ctx, s.client.B().Exists().Key(s.indexedKey()).Build()).AsInt64()
	if err != nil {
		return fmt.Errorf("index cases: %w", err)
	}
	if done == 1 {
		return nil
	}
	script := vk.NewLuaScript(indexScript)
	err = s.eachCasePage(ctx, 500, func(numbers []string, cases []*core.Case) error {
		var execs []vk.LuaExec
		for i, c := range cases {
			if c == nil {
				continue
			}
			execs = append(execs, vk.LuaExec{Keys: []string{s.caseKey(numbers[i]), s.liveKey(), s.gridKey(c.Grid)},
				Args: []string{numbers[i], c.Grid}})
		}
		for _, r := range script.ExecMulti(ctx, s.client, execs...) {
			if err := r.Error(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index cases: %w", err)
	}
	// The live set may have changed: figures kept by other instances go.
	if err := s.client.Do(ctx, s.client.B().Hincrby().Key(s.figuresKey()).Field(versionField).Increment(1).Build()).Error(); err != nil {
		return fmt.Errorf("index cases: %w", err)
	}
	if err := s.client.Do(ctx, s.client.B().Set().Key(s.indexedKey()).Value("1").Build()).Error(); err != nil {
		return fmt.Errorf("index cases: %w", err)
	}
	return nil
}

// eachCasePage calls fn with the ledger's case numbers, newest first, a
// page of at most page at a time, and their cases (nil for one gone),
// until the ledger ends or fn fails: how the one-off builds of an index
// walk a ledger written before it without holding all of it.
func (s *Store) eachCasePage(ctx context.Context, page int, fn func(numbers []string, cases []*core.Case) error) error {
	return s.eachCaseNumbers(ctx, page, func(numbers []string) error {
		cases, err := s.caseValues(ctx, numbers)
		if err != nil {
			return err
		}
		return fn(numbers, cases)
	})
}

// eachCaseNumbers is eachCasePage without reading the cases.
func (s *Store) eachCaseNumbers(ctx context.Context, page int, fn func(numbers []string) error) error {
	upper := "+" // the next page starts below this member
	for {
		numbers, err := s.numbersPage(ctx, s.casesKey(), upper, page)
		if err != nil || len(numbers) == 0 {
			return err
		}
		if err := fn(numbers); err != nil {
			return err
		}
		if len(numbers) < page {
			return nil
		}
		upper = "(" + numbers[len(numbers)-1]
	}
}

// doAll sends cmds in one round trip; the first error of theirs is its.
func (s *Store) doAll(ctx context.Context, cmds vk.Commands) error {
	for _, r := range s.client.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}

// maxDecodedCases bounds the cases decoded kept: some pages of an office
// at work and the open cases residents are offered to join.
const maxDecodedCases = 4096

// caseValues reads the cases numbered numbers with one MGET; a case gone
// is nil.
func (s *Store) caseValues(ctx context.Context, numbers []string) ([]*core.Case, error) {
	keys := make([]string, len(numbers))
	for i, n := range numbers {
		keys[i] = s.caseKey(n)
	}
	vals, err := s.client.Do(ctx, s.client.B().Mget().Key(keys...).Build()).ToArray()
	if err != nil {
		return nil, err
	}
	out := make([]*core.Case, len(vals))
	for i := range vals {
		raw, err := vals[i].AsBytes()
		if vk.IsValkeyNil(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", numbers[i], err)
		}
		var c core.Case // from the cache while the value is the one decoded
		if !s.decoded.Get(numbers[i], raw, &c) {
			if _, err := s.unpackCase(raw, &c); err != nil {
				return nil, fmt.Errorf("%s: %w", numbers[i], err)
			}
			s.decoded.Put(numbers[i], raw, &c)
		}
		out[i] = &c
	}
	return out, nil
}

// CountCases implements core.CaseStore: the counts by state kept by each
// write, in one HMGET.
func (s *Store) CountCases(ctx context.Context) (map[core.State]int, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	v, err := s.client.Do(ctx, s.client.B().Hget().Key(s.figuresKey()).Field(statesField).Build()).ToString()
	if err != nil && !vk.IsValkeyNil(err) {
		return nil, fmt.Errorf("count cases: %w", err)
	}
	by := make([]int, len(core.AllStates))
	if err := splitInts(v, by); err != nil {
		return nil, fmt.Errorf("count cases: %w", err)
	}
	out := map[core.State]int{}
	for i, st := range core.AllStates {
		out[st] = by[i]
	}
	return out, nil
}

// The near index (core/places.go): P{gb}:near:<category>:<place>, a sorted
// set of the numbers of the cases not closed of that category under that
// place, score 0. writeScript moves a case's entries in its write.

func (s *Store) nearKey(category, place string) string {
	return s.ledger + "near:" + category + ":" + place
}

func (s *Store) kindKey(category string) string { return s.ledger + "kind:" + category }

// nearKeys lists the sorted sets case c is in besides the fixed indexes:
// its category's, its departments' and its staff's (every case;
// indexes_reach.go), and when not closed its near keys.
func (s *Store) nearKeys(c *core.Case) []string {
	if c == nil {
		return nil
	}
	out := append(append([]string{s.kindKey(c.Category)}, s.deptKeys(c)...), s.whoKeys(c)...)
	if c.State == core.StateClosed {
		return out
	}
	for _, p := range core.PlacesOf(c) {
		out = append(out, s.nearKey(c.Category, p))
	}
	return out
}

// nearMoves lists the near keys a write leaves and joins: was is the case
// before (nil on create).
func (s *Store) nearMoves(was, c *core.Case) (leave, join []string) {
	before, after := s.nearKeys(was), s.nearKeys(c)
	for _, k := range before {
		if !slices.Contains(after, k) {
			leave = append(leave, k)
		}
	}
	for _, k := range after {
		if !slices.Contains(before, k) {
			join = append(join, k)
		}
	}
	return leave, join
}

// nearQuery reports whether q can be answered from the near index.
func nearQuery(q core.CaseQuery) bool {
	return q.Resident == "" && q.Category != "" && len(q.Places) > 0 && len(q.States) > 0 && !slicesContains(q.States, core.StateClosed)
}

// nearCases answers q from the near index: every place's numbers, newest
// first, read with one MGET.
func (s *Store) nearCases(ctx context.Context, q core.CaseQuery, limit int) ([]core.Case, error) {
	cmds := make(vk.Commands, 0, len(q.Places))
	for _, p := range q.Places {
		cmds = append(cmds, s.client.B().Zrange().Key(s.nearKey(q.Category, p)).Min("0").Max("-1").Build())
	}
	seen := map[string]bool{}
	var numbers []string
	for _, r := range s.client.DoMulti(ctx, cmds...) {
		ns, err := r.AsStrSlice()
		if err != nil {
			return nil, fmt.Errorf("list cases near: %w", err)
		}
		for _, n := range ns {
			if !seen[n] {
				seen[n] = true
				numbers = append(numbers, n)
			}
		}
	}
	slices.Sort(numbers)
	slices.Reverse(numbers)
	out, err := s.matchPage(ctx, q, numbers, nil, limit)
	if err != nil {
		return nil, fmt.Errorf("list cases near: %w", err)
	}
	return out, nil
}

// matchPage appends to out the cases numbered numbers that pass q, read a
// page at a time, up to limit.
func (s *Store) matchPage(ctx context.Context, q core.CaseQuery, numbers []string, out []core.Case, limit int) ([]core.Case, error) {
	const page = 256
	for i := 0; i < len(numbers) && len(out) < limit; i += page {
		cases, err := s.caseValues(ctx, numbers[i:min(i+page, len(numbers))])
		if err != nil {
			return nil, err
		}
		for _, c := range cases {
			if c != nil && q.Match(c) {
				out = append(out, *c)
				if len(out) == limit {
					break
				}
			}
		}
	}
	return out, nil
}

// nearedKey is set once the cases not closed of a ledger written before
// the near index are in it.
func (s *Store) nearedKey() string { return s.ledger + "neared" }

// buildKinds puts every case of a ledger written before the category
// index into it, once.
func (s *Store) buildKinds(ctx context.Context) error {
	return s.indexEveryCase(ctx, s.kindedKey(), "category index", func(number string, c *core.Case) vk.Commands {
		return s.zaddTo([]string{s.kindKey(c.Category)}, number)
	})
}

// indexEveryCase puts every case of a ledger written before an index into
// it, once, a page at a time: cmds are the commands that index one case,
// and done is set when all have run. Several instances doing it at once
// do the same idempotent work. what names the index in errors.
func (s *Store) indexEveryCase(ctx context.Context, done, what string, cmds func(number string, c *core.Case) vk.Commands) error {
	built, err := s.client.Do(ctx, s.client.B().Exists().Key(done).Build()).AsInt64()
	if err != nil || built == 1 {
		return err
	}
	err = s.eachCasePage(ctx, 500, func(numbers []string, cases []*core.Case) error {
		var page vk.Commands
		for i, c := range cases {
			if c != nil {
				page = append(page, cmds(numbers[i], c)...)
			}
		}
		return s.doAll(ctx, page)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return s.client.Do(ctx, s.client.B().Set().Key(done).Value("1").Build()).Error()
}

// zaddTo adds case number to each of the sorted-set indexes keys.
func (s *Store) zaddTo(keys []string, number string) vk.Commands {
	cmds := make(vk.Commands, 0, len(keys)+1)
	for _, k := range keys {
		cmds = append(cmds, s.client.B().Zadd().Key(k).ScoreMember().ScoreMember(0, number).Build())
	}
	return cmds
}

func (s *Store) kindedKey() string { return s.ledger + "kinded" }

// buildNear puts the cases not closed of a ledger written before the near
// index into it, once. A write racing it moves the entries it knows of;
// ZADD of a case closed meanwhile is undone by nothing, and costs a
// candidate that Match then drops.
func (s *Store) buildNear(ctx context.Context) error {
	done, err := s.client.Do(ctx, s.client.B().Exists().Key(s.nearedKey()).Build()).AsInt64()
	if err != nil || done == 1 {
		return err
	}
	live, err := s.client.Do(ctx, s.client.B().Zrange().Key(s.liveKey()).Min("0").Max("-1").Build()).AsStrSlice()
	if err != nil {
		return fmt.Errorf("near index: %w", err)
	}
	const page = 500
	for i := 0; i < len(live); i += page {
		part := live[i:min(i+page, len(live))]
		cases, err := s.caseValues(ctx, part)
		if err != nil {
			return fmt.Errorf("near index: %w", err)
		}
		var cmds vk.Commands
		for j, c := range cases {
			for _, k := range s.nearKeys(c)[min(1, len(s.nearKeys(c))):] { // the category's is buildKinds'
				cmds = append(cmds, s.client.B().Zadd().Key(k).ScoreMember().ScoreMember(0, part[j]).Build())
			}
		}
		for _, r := range s.client.DoMulti(ctx, cmds...) {
			if err := r.Error(); err != nil {
				return fmt.Errorf("near index: %w", err)
			}
		}
	}
	return s.client.Do(ctx, s.client.B().Set().Key(s.nearedKey()).Value("1").Build()).Error()
}
