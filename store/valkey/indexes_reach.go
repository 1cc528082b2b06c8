package valkey

import (
	"context"
	"fmt"
	"slices"
	"sync"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// What a staff member may see (core.CaseQuery.Within, core.Town.Reach) is
// a union of indexes, read together newest first (mergedCases):
//
//	P{gb}:who:<staff>      sorted set  every case by each staff member it is with (core.CaseStaff),
//	                                   score 0: a grid leader's assigned cases, "mine", a meeting's leader
//	P{gb}:vgrids:<village> set         every grid a case of the village was ever in: a village's
//	                                   cases are those grids' (P{gb}:grid:<grid>), so a village
//	                                   costs no entry a case, whatever the directory says now
//	P{gb}:reached          string      set once the cases written before these are in them
//
// writeScript moves a case's who entries with its near-index keys
// (nearKeys). A village's grid is added before the write that first puts a
// case of the village in it (noteVillageGrids): a write failing after it
// leaves a grid too many, which costs a walk of that grid's cases, never a
// case missed.

func (s *Store) whoKey(staff string) string      { return s.ledger + "who:" + staff }
func (s *Store) vgridsKey(village string) string { return s.ledger + "vgrids:" + village }
func (s *Store) reachedKey() string              { return s.ledger + "reached" }

// whoKeys lists the staff index keys case c is under.
func (s *Store) whoKeys(c *core.Case) []string {
	var out []string
	for _, id := range core.CaseStaff(c) {
		out = append(out, s.whoKey(id))
	}
	return out
}

// villageGrids remembers the village grids this process has added, so that
// a write adds only a pair it has not seen: a round trip the first time a
// grid gets a case of a village, none after.
type villageGrids struct {
	mu   sync.Mutex
	seen map[[2]string]bool
}

// noteVillageGrids adds the grid of each case to its village's grids,
// before the write that puts the case there.
func (s *Store) noteVillageGrids(ctx context.Context, cases ...*core.Case) error {
	s.vgrids.mu.Lock()
	var cmds vk.Commands
	var pairs [][2]string
	for _, c := range cases {
		p := [2]string{c.Village, c.Grid}
		if s.vgrids.seen[p] || slices.Contains(pairs, p) {
			continue
		}
		pairs = append(pairs, p)
		cmds = append(cmds, s.client.B().Sadd().Key(s.vgridsKey(c.Village)).Member(c.Grid).Build())
	}
	s.vgrids.mu.Unlock()
	if len(cmds) == 0 {
		return nil
	}
	if err := s.doAll(ctx, cmds); err != nil {
		return fmt.Errorf("village grids: %w", err)
	}
	s.vgrids.mu.Lock()
	defer s.vgrids.mu.Unlock()
	if s.vgrids.seen == nil {
		s.vgrids.seen = map[[2]string]bool{}
	}
	for _, p := range pairs {
		s.vgrids.seen[p] = true
	}
	return nil
}

// buildReach puts every case of a ledger written before the staff index
// and the villages' grids into them, once, a page at a time. A case a
// write moves meanwhile may keep an entry under a staff member it left:
// a candidate that Match drops, never a case missed.
func (s *Store) buildReach(ctx context.Context) error {
	return s.indexEveryCase(ctx, s.reachedKey(), "staff index", func(number string, c *core.Case) vk.Commands {
		return append(s.zaddTo(s.whoKeys(c), number), s.client.B().Sadd().Key(s.vgridsKey(c.Village)).Member(c.Grid).Build())
	})
}

// mergedKeys lists the indexes whose union holds every case q may match
// when q is narrowed by Within (or by several grids) and nothing narrower
// applies (indexFor's resident, department, live and one-grid indexes);
// ok is false otherwise.
func (s *Store) mergedKeys(ctx context.Context, q core.CaseQuery) (keys []string, ok bool, err error) {
	switch {
	case q.Resident != "", q.Department != "", len(q.States) > 0 && !slicesContains(q.States, core.StateClosed),
		len(q.Grids) == 1, len(q.Within) == 0 && len(q.Grids) < 2:
		return nil, false, nil
	}
	keys, err = s.reachKeys(ctx, q)
	return keys, err == nil, err
}

// reachKeys lists the indexes whose union holds every case q's Within (or,
// without it, q's grids) lets through.
func (s *Store) reachKeys(ctx context.Context, q core.CaseQuery) (keys []string, err error) {
	add := func(k string) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(q.Within) == 0 {
		for _, g := range q.Grids {
			add(s.gridKey(g))
		}
		return keys, nil
	}
	var villages []string
	for _, sc := range q.Within {
		switch {
		case sc.Grid != "":
			add(s.gridKey(sc.Grid))
		case sc.Staff != "":
			add(s.whoKey(sc.Staff))
		case sc.Village != "":
			villages = append(villages, sc.Village)
		}
	}
	if len(villages) > 0 {
		cmds := make(vk.Commands, 0, len(villages))
		for _, v := range villages {
			cmds = append(cmds, s.client.B().Smembers().Key(s.vgridsKey(v)).Build())
		}
		for _, r := range s.client.DoMulti(ctx, cmds...) {
			grids, err := r.AsStrSlice()
			if err != nil {
				return nil, fmt.Errorf("village grids: %w", err)
			}
			slices.Sort(grids)
			for _, g := range grids {
				add(s.gridKey(g))
			}
		}
	}
	return keys, nil
}

// withinKeys is reachKeys when q is narrowed by Within, nil otherwise: the
// indexes a list read from a narrower index (the live cases, a word's)
// checks its numbers against before it reads their cases, so that a grid
// leader's open queue reads the leader's open cases, not the town's.
func (s *Store) withinKeys(ctx context.Context, q core.CaseQuery) ([]string, error) {
	if len(q.Within) == 0 {
		return nil, nil
	}
	return s.reachKeys(ctx, q)
}

// inAnyIndex keeps the numbers in at least one of the sorted sets keys (no
// keys keeps them all), in one round trip.
func (s *Store) inAnyIndex(ctx context.Context, keys []string, numbers []string) ([]string, error) {
	if len(keys) == 0 || len(numbers) == 0 {
		return numbers, nil
	}
	cmds := make(vk.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = s.client.B().Zmscore().Key(k).Member(numbers...).Build()
	}
	found := make([]bool, len(numbers))
	for _, r := range s.client.DoMulti(ctx, cmds...) {
		scores, err := r.ToArray()
		if err != nil {
			return nil, err
		}
		for j := range scores {
			found[j] = found[j] || !scores[j].IsNil()
		}
	}
	out := numbers[:0]
	for j, n := range numbers {
		if found[j] {
			out = append(out, n)
		}
	}
	return out, nil
}

// mergedCases answers q from the union of the sorted sets keys: each read
// a page at a time below q.Before, newest first, merged by number, each
// number once, the cases read with one MGET a page, until limit are kept.
func (s *Store) mergedCases(ctx context.Context, q core.CaseQuery, keys []string, limit int) ([]core.Case, error) {
	page := min(max(limit, 64), 512)
	type source struct {
		key   string
		upper string   // the next page starts below this member
		buf   []string // read, not yet merged, newest first
		done  bool     // nothing more below buf
	}
	srcs := make([]*source, len(keys))
	for i, k := range keys {
		srcs[i] = &source{key: k, upper: "+"}
		if q.Before != "" {
			srcs[i].upper = "(" + q.Before
		}
	}
	// refill reads the next page of every source whose buffer is empty,
	// in one round trip: the newest number left must be known of each.
	refill := func() error {
		var cmds vk.Commands
		var which []*source
		for _, src := range srcs {
			if len(src.buf) == 0 && !src.done {
				cmds = append(cmds, s.client.B().Zrange().Key(src.key).Min(src.upper).Max("-").Bylex().Rev().Limit(0, int64(page)).Build())
				which = append(which, src)
			}
		}
		if len(cmds) == 0 {
			return nil
		}
		for i, r := range s.client.DoMulti(ctx, cmds...) {
			ns, err := r.AsStrSlice()
			if err != nil {
				return err
			}
			src := which[i]
			src.buf, src.done = ns, len(ns) < page
			if len(ns) > 0 {
				src.upper = "(" + ns[len(ns)-1]
			}
		}
		return nil
	}
	var out []core.Case
	var batch []string
	flush := func() (err error) {
		out, err = s.matchPage(ctx, q, batch, out, limit)
		batch = batch[:0]
		return err
	}
	for len(out) < limit {
		if err := refill(); err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		top := ""
		for _, src := range srcs {
			if len(src.buf) > 0 && src.buf[0] > top {
				top = src.buf[0]
			}
		}
		if top == "" {
			break
		}
		for _, src := range srcs {
			// A number in several indexes is read once.
			if len(src.buf) > 0 && src.buf[0] == top {
				src.buf = src.buf[1:]
			}
		}
		if batch = append(batch, top); len(batch) == page {
			if err := flush(); err != nil {
				return nil, fmt.Errorf("list cases: %w", err)
			}
		}
	}
	if len(batch) > 0 && len(out) < limit {
		if err := flush(); err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
	}
	return out, nil
}
