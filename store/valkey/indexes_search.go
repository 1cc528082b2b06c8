package valkey

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// The word index (core.SearchIndex), kept by writeScript in the write that
// changes the case's words:
//
//	P{gb}:w:<term>:<stem>  a string of 4-byte entries, one per case of that month carrying the term
//	P{gb}:wstems           the set of month stems that have entries
//
// A stem is the case number less its day and count (ST202611: prefix, year
// and month); an entry is the day (1 byte) and the count (3 bytes, big
// endian) of the number. Entries are appended when a case gains a term and
// never removed: a case that lost a word is a stale candidate, which the
// check with CaseQuery.Match drops, and a term gained twice is read once.
// Four bytes a posting, where a sorted set member costs some 60–90 bytes:
// the whole index is a few hundred bytes a case plus a key per term and
// month.
//
// A search reads the stems newest first, a few months at a time: the
// length of every term's string in those months (STRLEN, one round trip),
// then, for the months where every term has entries, the strings from the
// shortest up (a posting far longer than the candidates left is not read:
// the check decides), the candidates' membership in the index the other
// filters pick (ZMSCORE), and the cases that remain (MGET), until the page
// is full.

func (s *Store) termKey(term, stem string) string { return s.ledger + "w:" + term + ":" + stem }
func (s *Store) termStemsKey() string             { return s.ledger + "wstems" }
func (s *Store) termedKey() string                { return s.ledger + "wbuilt" }

// termEntry splits a case number into its stem and entry
// (core.SearchEntry); false for a number not written by
// core.FormatCaseNumber.
func termEntry(number string) (stem string, entry []byte, ok bool) {
	stem, e, ok := core.SearchEntry(number)
	return stem, e[:], ok
}

// entryNumber is termEntry's inverse.
func entryNumber(stem string, e []byte) string { return core.SearchEntryNumber(stem, e) }

// termWrite is what a write adds to the word index: the keys of the
// terms c gained since was (nil on create), the stems set, and the entry.
// It returns no keys when the words did not change.
func (s *Store) termWrite(was, c *core.Case) (keys []string, stem string, entry []byte) {
	if was != nil && sameWords(was, c) {
		return nil, "", nil
	}
	stem, entry, ok := termEntry(c.Number)
	if !ok {
		return nil, "", nil
	}
	var before []string
	if was != nil {
		before = s.search.CaseTerms(was)
	}
	for _, t := range s.search.CaseTerms(c) {
		if _, found := slices.BinarySearch(before, t); !found {
			keys = append(keys, s.termKey(t, stem))
		}
	}
	return keys, stem, entry
}

func sameWords(a, b *core.Case) bool {
	label := func(c *core.Case) string {
		if c.Location == nil {
			return ""
		}
		return c.Location.Label
	}
	return a.Text == b.Text && a.Result == b.Result && a.Address == b.Address && a.Contact == b.Contact &&
		a.Phone == b.Phone && label(a) == label(b)
}

// indexedOf copies what of c the indexes read, before a change edits c:
// its state, grid, category, location, departments, the words its terms
// are made of, and what the retention index reads (resident, UpdatedAt).
func indexedOf(c *core.Case) core.Case {
	w := core.Case{Number: c.Number, State: c.State, Grid: c.Grid, Category: c.Category, Text: c.Text, Result: c.Result,
		Address: c.Address, Contact: c.Contact, Phone: c.Phone, Resident: c.Resident, UpdatedAt: c.UpdatedAt}
	if c.Location != nil {
		loc := *c.Location
		w.Location = &loc
	}
	for _, a := range c.Departments {
		w.Departments = append(w.Departments, core.Assist{Department: a.Department})
	}
	return w
}

// searchMonths is how many months a search reads the lengths of in one
// round trip.
const searchMonths = 6

// searchCases answers q from the word index; ok is false when the search
// has no terms and the caller walks as before.
func (s *Store) searchCases(ctx context.Context, q core.CaseQuery, limit int) ([]core.Case, bool, error) {
	terms, ok := s.search.QueryTerms(q.Search)
	if !ok {
		return nil, false, nil
	}
	stems, err := s.client.Do(ctx, s.client.B().Smembers().Key(s.termStemsKey()).Build()).AsStrSlice()
	if err != nil {
		return nil, true, fmt.Errorf("search: %w", err)
	}
	slices.Sort(stems)
	slices.Reverse(stems)
	if q.Before != "" {
		stems = slices.DeleteFunc(stems, func(st string) bool { return st > q.Before })
	}
	// The candidates are checked against the index the other filters pick
	// and against what the reader may see, before their cases are read.
	var filters [][]string
	if index := s.indexFor(q); index != s.casesKey() {
		filters = append(filters, []string{index})
	}
	if within, err := s.withinKeys(ctx, q); err != nil {
		return nil, true, fmt.Errorf("search: %w", err)
	} else if within != nil {
		filters = append(filters, within)
	}
	var out []core.Case
	for i := 0; i < len(stems) && len(out) < limit; i += searchMonths {
		batch := stems[i:min(i+searchMonths, len(stems))]
		cmds := make(vk.Commands, 0, len(batch)*len(terms))
		for _, st := range batch {
			for _, t := range terms {
				cmds = append(cmds, s.client.B().Strlen().Key(s.termKey(t, st)).Build())
			}
		}
		lens := make([]int64, len(cmds))
		for j, r := range s.client.DoMulti(ctx, cmds...) {
			if lens[j], err = r.AsInt64(); err != nil {
				return nil, true, fmt.Errorf("search: %w", err)
			}
		}
		for m, st := range batch {
			if len(out) == limit {
				break
			}
			numbers, err := s.monthCandidates(ctx, st, terms, lens[m*len(terms):(m+1)*len(terms)], q.Before)
			if err != nil {
				return nil, true, err
			}
			for _, keys := range filters {
				if numbers, err = s.inAnyIndex(ctx, keys, numbers); err != nil {
					return nil, true, fmt.Errorf("search: %w", err)
				}
			}
			if out, err = s.matchPage(ctx, q, numbers, out, limit); err != nil {
				return nil, true, fmt.Errorf("search: %w", err)
			}
		}
	}
	return out, true, nil
}

// monthCandidates lists, newest first, the numbers of stem's month found
// under every term read: the terms are read from the shortest string up,
// and one more than 32 times longer than the candidates left is not read.
// lens are the strings' lengths in terms' order.
func (s *Store) monthCandidates(ctx context.Context, stem string, terms []string, lens []int64, before string) ([]string, error) {
	order := make([]int, len(terms))
	for j := range order {
		order[j] = j
		if lens[j] == 0 {
			return nil, nil
		}
	}
	slices.SortFunc(order, func(a, b int) int { return int(lens[a] - lens[b]) })
	var cands map[uint32]bool
	for _, j := range order {
		if cands != nil && lens[j] > 32*4*int64(len(cands)) {
			break
		}
		raw, err := s.client.Do(ctx, s.client.B().Get().Key(s.termKey(terms[j], stem)).Build()).AsBytes()
		if err != nil && !vk.IsValkeyNil(err) {
			return nil, fmt.Errorf("search: %w", err)
		}
		next := map[uint32]bool{}
		for k := 0; k+4 <= len(raw); k += 4 {
			e := binary.BigEndian.Uint32(raw[k:])
			if cands == nil || cands[e] {
				next[e] = true
			}
		}
		cands = next
		if len(cands) == 0 {
			return nil, nil
		}
	}
	entries := make([]uint32, 0, len(cands))
	for e := range cands {
		entries = append(entries, e)
	}
	slices.Sort(entries)
	slices.Reverse(entries)
	out := make([]string, 0, len(entries))
	var e [4]byte
	for _, x := range entries {
		binary.BigEndian.PutUint32(e[:], x)
		if n := entryNumber(stem, e[:]); before == "" || n < before {
			out = append(out, n)
		}
	}
	return out, nil
}

// buildTerms indexes every case of a ledger written before the word
// index, or under another rule, once: a page of cases at a time. A write
// racing it appends what it gains; an entry appended twice is read once.
func (s *Store) buildTerms(ctx context.Context) error {
	probe := s.search.Probe()
	built, err := s.client.Do(ctx, s.client.B().Get().Key(s.termedKey()).Build()).AsBytes()
	if err != nil && !vk.IsValkeyNil(err) {
		return fmt.Errorf("word index: %w", err)
	}
	if built != nil && (s.search.IndexServes(string(built)) || s.search.Simplify == nil && s.search.Blind == nil) {
		// Built, under this rule or one it still reads (the old rule's
		// keys are left, unread, when it is built again); or opened
		// without one (a tool) and kept as it is.
		return nil
	}
	err = s.eachCasePage(ctx, 500, func(_ []string, cases []*core.Case) error {
		var cmds vk.Commands
		for _, c := range cases {
			if c == nil {
				continue
			}
			keys, stem, entry := s.termWrite(nil, c)
			if len(keys) == 0 {
				continue
			}
			cmds = append(cmds, s.client.B().Sadd().Key(s.termStemsKey()).Member(stem).Build())
			for _, k := range keys {
				cmds = append(cmds, s.client.B().Append().Key(k).Value(string(entry)).Build())
			}
		}
		return s.doAll(ctx, cmds)
	})
	if err != nil {
		return fmt.Errorf("word index: %w", err)
	}
	return s.client.Do(ctx, s.client.B().Set().Key(s.termedKey()).Value(probe).Build()).Error()
}
