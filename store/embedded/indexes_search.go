package embedded

import (
	"bytes"
	"fmt"
	"slices"
	"sort"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
)

// The word index (core.SearchIndex), kept in the transaction that writes
// the case:
//
//	wterms  term \x00 stem → entries   every case under each of its terms, packed per month
//	meta    "wterms"        → the rule's probe (below), once the index is complete
//
// As on Valkey, a stem is the case number less its day and count
// (ST202611) and an entry the day and count in 4 bytes (core.SearchEntry);
// a value holds the month's entries in order, so a term's postings are a
// value a month, not a key a case. A search walks the months every term
// has, newest first (leapfrogging their keys, below), intersects their
// values and checks each candidate against the index the other filters
// pick (the live cases, a grid's, a category's, a resident's): a page
// reads a few keys a term, not one a case. A file indexed under another
// rule (another blinding key, simplification turned on), or with a key a
// posting (bucket terms, before), is indexed again when opened.
var (
	bucketWords    = []byte("wterms")
	bucketOldTerms = []byte("terms") // a key a posting: dropped when opened
	bucketMeta     = []byte("meta")
	metaTerms      = []byte("wterms")
)

// searchFields are what of a case its terms are made of; indexedAs keeps
// them so that a write that changes none of them touches no term.
type searchFields struct {
	number, text, result, address, contact, label, phone string
}

func searchFieldsOf(c *core.Case) searchFields {
	f := searchFields{number: c.Number, text: c.Text, result: c.Result, address: c.Address, contact: c.Contact, phone: c.Phone}
	if c.Location != nil {
		f.label = c.Location.Label
	}
	return f
}

func (f searchFields) asCase() *core.Case {
	c := &core.Case{Number: f.number, Text: f.text, Result: f.result, Address: f.address, Contact: f.contact, Phone: f.phone}
	if f.label != "" {
		c.Location = &core.Location{Label: f.label}
	}
	return c
}

func termKey(term, stem string) []byte {
	return append(append([]byte(term), 0), stem...)
}

// reterm moves case c's term postings from those of was (nil for a new
// case) to its own.
func (s *Store) reterm(tx *bolt.Tx, was *indexedAs, c *core.Case) error {
	now := searchFieldsOf(c)
	var before []string
	if was != nil {
		if was.words == now {
			return nil
		}
		before = s.search.CaseTerms(was.words.asCase())
	}
	stem, entry, ok := core.SearchEntry(c.Number)
	if !ok {
		return nil // not a number of this store's: never listed by a search
	}
	after := s.search.CaseTerms(c)
	words := tx.Bucket(bucketWords)
	for _, t := range before {
		if _, ok := slices.BinarySearch(after, t); !ok {
			if err := unpost(words, termKey(t, stem), entry); err != nil {
				return err
			}
		}
	}
	for _, t := range after {
		if _, ok := slices.BinarySearch(before, t); !ok {
			if err := post(words, termKey(t, stem), entry); err != nil {
				return err
			}
		}
	}
	return nil
}

// A month's entries are kept in chunks of at most chunkEntries: the
// first under the month's key (term \x00 stem), each other under the
// month's key, \x00 and its first entry. Writing a posting rewrites one
// chunk, where one value a month made each posting of a common word
// rewrite the whole month (110 KB a write at a million cases over three
// years): writes grew with the ledger, and the file with the pages they
// freed. A month written as one value (before chunks, or by buildTerms)
// reads the same and is split by the next write to it.
const chunkEntries = 512

// monthChunkKey is the key of the chunk of month key base starting with first.
func monthChunkKey(base []byte, first []byte) []byte {
	return append(append(append(make([]byte, 0, len(base)+1+len(first)), base...), 0), first...)
}

// inMonth says whether k is month key base or one of its chunks.
func inMonth(k, base []byte) bool {
	return bytes.HasPrefix(k, base) && (len(k) == len(base) || len(k) == len(base)+5 && k[len(base)] == 0)
}

// chunkFor finds the chunk of month base where entry belongs: the last
// whose first entry is at or below it, else the month's first; key is nil
// when the month has none.
func chunkFor(b *bolt.Bucket, base []byte, entry [4]byte) (key, v []byte) {
	cur := b.Cursor()
	k, v := cur.Seek(monthChunkKey(base, entry[:]))
	if k == nil || !bytes.Equal(k, monthChunkKey(base, entry[:])) {
		if k == nil {
			k, v = cur.Last()
		} else {
			k, v = cur.Prev()
		}
	}
	if k == nil || !inMonth(k, base) {
		return nil, nil
	}
	return k, v
}

// monthEntries is the month's entries, in order: its chunks' values one
// after the other (a chunk's entries all precede the next one's).
func monthEntries(b *bolt.Bucket, base []byte) []byte {
	cur := b.Cursor()
	k, v := cur.Seek(base)
	var out []byte
	for n := 0; k != nil && inMonth(k, base); k, v = cur.Next() {
		if n++; n == 1 {
			out = v // most months are one chunk: no copy
			continue
		}
		if n == 2 {
			out = append([]byte(nil), out...)
		}
		out = append(out, v...)
	}
	return out
}

// post adds entry to the month's entries under base, in order.
func post(b *bolt.Bucket, base []byte, entry [4]byte) error {
	key, v := chunkFor(b, base, entry)
	if key == nil {
		return b.Put(base, entry[:])
	}
	i, found := searchEntries(v, entry)
	if found {
		return nil
	}
	if len(v) >= 4*chunkEntries && i == len(v) {
		// Appended past a full chunk, as new cases are: a chunk of its own.
		return b.Put(monthChunkKey(base, entry[:]), entry[:])
	}
	// A fresh value: bbolt's is read-only and lives until the commit.
	out := make([]byte, 0, len(v)+4)
	out = append(append(append(out, v[:i]...), entry[:]...), v[i:]...)
	return putChunks(b, base, key, out)
}

// putChunks writes entries as the chunk under key, of month base, split
// into chunks of half the most when there are more than that.
func putChunks(b *bolt.Bucket, base, key, entries []byte) error {
	if len(entries) <= 4*chunkEntries {
		return b.Put(key, entries)
	}
	const half = 4 * chunkEntries / 2
	if err := b.Put(key, entries[:half]); err != nil {
		return err
	}
	for off := half; off < len(entries); off += half {
		piece := entries[off:min(off+half, len(entries))]
		if err := b.Put(monthChunkKey(base, piece[:4]), piece); err != nil {
			return err
		}
	}
	return nil
}

// putMonth replaces the month's entries with entries, in chunks.
func putMonth(b *bolt.Bucket, base, entries []byte) error {
	cur := b.Cursor()
	for k, _ := cur.Seek(base); k != nil && inMonth(k, base); k, _ = cur.Seek(base) {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return putChunks(b, base, base, entries)
}

// unpost removes entry from the month's entries under base.
func unpost(b *bolt.Bucket, base []byte, entry [4]byte) error {
	key, v := chunkFor(b, base, entry)
	if key == nil {
		return nil
	}
	i, found := searchEntries(v, entry)
	if !found {
		return nil
	}
	if len(v) > 4 {
		out := make([]byte, 0, len(v)-4)
		return b.Put(key, append(append(out, v[:i]...), v[i+4:]...))
	}
	if !bytes.Equal(key, base) {
		return b.Delete(key)
	}
	// The month's first chunk, emptied: gone with the month, or kept
	// empty while later chunks remain, as they are found from it.
	if k, _ := b.Cursor().Seek(monthChunkKey(base, nil)); k != nil && inMonth(k, base) {
		return b.Put(base, []byte{})
	}
	return b.Delete(base)
}

// searchEntries finds entry's offset in v (entries in order), or where it
// would go.
func searchEntries(v []byte, entry [4]byte) (int, bool) {
	n := len(v) / 4
	i := sort.Search(n, func(i int) bool { return bytes.Compare(v[4*i:4*i+4], entry[:]) >= 0 })
	return 4 * i, i < n && bytes.Equal(v[4*i:4*i+4], entry[:])
}

// buildTerms indexes every case of a file written before the word index,
// with a key a posting, or under another rule, a few thousand cases a
// transaction, each transaction's postings gathered by key and merged
// into the month values once; it runs in Open, before the store serves.
func (s *Store) buildTerms(db *bolt.DB) error {
	probe := []byte(s.search.Probe())
	var done bool
	err := db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if built := meta.Get(metaTerms); built != nil && tx.Bucket(bucketWords) != nil &&
			(s.search.IndexServes(string(built)) || s.search.Simplify == nil && s.search.Blind == nil) {
			// Built, under this rule; or opened without one (a check,
			// a tool) and kept as it is.
			done = true
			return nil
		}
		for _, b := range [][]byte{bucketWords, bucketOldTerms} {
			if tx.Bucket(b) != nil {
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
			}
		}
		if err := meta.Delete(metaTerms); err != nil {
			return err
		}
		if err := meta.Delete(bucketOldTerms); err != nil { // the old layout's mark
			return err
		}
		_, err = tx.CreateBucket(bucketWords)
		return err
	})
	if err != nil || done {
		return err
	}
	const batch = 2000
	var after []byte // the last case indexed
	for {
		n := 0
		err := db.Update(func(tx *bolt.Tx) error {
			gained := map[string][]byte{} // key → the entries gained, in the cases' order
			cur := tx.Bucket(bucketCases).Cursor()
			k, v := cur.First()
			if after != nil {
				if k, v = cur.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = cur.Next()
				}
			}
			for ; k != nil && n < batch; k, v = cur.Next() {
				var c core.Case
				if err := s.decodeStored(v, &c); err != nil {
					return fmt.Errorf("index case %q: %w", k, err)
				}
				if stem, entry, ok := core.SearchEntry(c.Number); ok {
					for _, t := range s.search.CaseTerms(&c) {
						key := string(termKey(t, stem))
						gained[key] = append(gained[key], entry[:]...)
					}
				}
				after = append(after[:0], k...)
				n++
			}
			words := tx.Bucket(bucketWords)
			for key, entries := range gained {
				if err := putMonth(words, []byte(key), mergeEntries(monthEntries(words, []byte(key)), entries)); err != nil {
					return err
				}
			}
			if n < batch {
				return tx.Bucket(bucketMeta).Put(metaTerms, probe)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("word index: %w", err)
		}
		if n < batch {
			return nil
		}
	}
}

// mergeEntries is the entries of a and b (each 4 bytes), in order, once
// each, in a fresh slice.
func mergeEntries(a, b []byte) []byte {
	all := make([][4]byte, 0, (len(a)+len(b))/4)
	for _, v := range [][]byte{a, b} {
		for i := 0; i+4 <= len(v); i += 4 {
			all = append(all, [4]byte(v[i:i+4]))
		}
	}
	slices.SortFunc(all, func(x, y [4]byte) int { return bytes.Compare(x[:], y[:]) })
	all = slices.Compact(all)
	out := make([]byte, 0, 4*len(all))
	for _, e := range all {
		out = append(out, e[:]...)
	}
	return out
}

// posting is one sorted list of case numbers: the keys of a bucket under a
// prefix.
type posting struct {
	cur    *bolt.Cursor
	prefix []byte
	key    []byte // scratch
}

func newPosting(b *bolt.Bucket, prefix []byte) *posting {
	return &posting{cur: b.Cursor(), prefix: prefix}
}

// atOrBelow returns the greatest number at or below n, or false.
func (p *posting) atOrBelow(n string) (string, bool) {
	p.key = append(append(p.key[:0], p.prefix...), n...)
	k, _ := p.cur.Seek(p.key)
	if k == nil {
		k, _ = p.cur.Last()
	} else if !bytes.Equal(k, p.key) {
		k, _ = p.cur.Prev()
	}
	return p.number(k)
}

// below returns the greatest number below n, or false.
func (p *posting) below(n string) (string, bool) {
	p.key = append(append(p.key[:0], p.prefix...), n...)
	k, _ := p.cur.Seek(p.key)
	if k == nil {
		k, _ = p.cur.Last()
	} else {
		k, _ = p.cur.Prev()
	}
	return p.number(k)
}

func (p *posting) number(k []byte) (string, bool) {
	if k == nil || !bytes.HasPrefix(k, p.prefix) {
		return "", false
	}
	rest := k[len(p.prefix):]
	if i := bytes.IndexByte(rest, 0); i >= 0 {
		rest = rest[:i] // a month's later chunk: the month
	}
	return string(rest), true
}

// leapfrog calls fn with each number in every posting, greatest first,
// starting below before ("" for the greatest), until fn returns false or
// an error.
func leapfrog(ps []*posting, before string, fn func(number string) (bool, error)) error {
	var x string
	var ok bool
	if before == "" {
		x, ok = ps[0].atOrBelow("\xff")
	} else {
		x, ok = ps[0].below(before)
	}
	if !ok {
		return nil
	}
	agree, i := 1, 1%len(ps)
	for {
		for agree < len(ps) {
			n, ok := ps[i].atOrBelow(x)
			if !ok {
				return nil
			}
			if n == x {
				agree++
			} else {
				x, agree = n, 1
			}
			i = (i + 1) % len(ps)
		}
		more, err := fn(x)
		if err != nil || !more {
			return err
		}
		if x, ok = ps[i].below(x); !ok {
			return nil
		}
		agree, i = 1, (i+1)%len(ps)
	}
}

// searchCases answers q from the word index, up to limit cases; ok is
// false when the search has no terms (punctuation alone) and the store
// walks as before. The months every term has are found newest first by
// leapfrogging the terms' keys (their suffixes are the stems); each such
// month's values are intersected, from the shortest, and the candidates,
// newest first, checked against the other filters' index and read.
func (s *Store) searchCases(tx *bolt.Tx, q core.CaseQuery, limit int) ([]core.Case, bool, error) {
	terms, ok := s.search.QueryTerms(q.Search)
	if !ok {
		return nil, false, nil
	}
	words := tx.Bucket(bucketWords)
	ps := make([]*posting, len(terms))
	for i, t := range terms {
		ps[i] = newPosting(words, termKey(t, ""))
	}
	index, prefix := indexFor(tx, q)
	var key []byte
	startBelow := ""
	if q.Before != "" {
		stem, _, ok := core.SearchEntry(q.Before)
		if !ok {
			stem = q.Before
		}
		startBelow = stem + "\xff" // the month of Before is read, the cases below it kept
	}
	var out []core.Case
	read := withinFilter(tx, q, s.keepMatching(tx, q, &out, limit))
	err := leapfrog(ps, startBelow, func(stem string) (bool, error) {
		values := make([][]byte, len(terms))
		for i, t := range terms {
			values[i] = monthEntries(words, termKey(t, stem))
		}
		for _, n := range intersectEntries(stem, values) {
			if q.Before != "" && n >= q.Before {
				continue
			}
			if index != nil {
				key = append(append(key[:0], prefix...), n...)
				if index.Get(key) == nil {
					continue
				}
			}
			if more, err := read(n); err != nil || !more {
				return false, err
			}
		}
		return true, nil
	})
	return out, true, err
}

// intersectEntries lists, newest first, the numbers of month stem whose
// entries are in every value (each in order).
func intersectEntries(stem string, values [][]byte) []string {
	slices.SortFunc(values, func(a, b []byte) int { return len(a) - len(b) })
	var out []string
	for i := len(values[0]) - 4; i >= 0; i -= 4 {
		e := [4]byte(values[0][i : i+4])
		in := true
		for _, v := range values[1:] {
			if _, found := searchEntries(v, e); !found {
				in = false
				break
			}
		}
		if in {
			out = append(out, core.SearchEntryNumber(stem, e[:]))
		}
	}
	return out
}
