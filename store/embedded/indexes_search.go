package embedded

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
)

// The word index (core.SearchIndex), kept in the transaction that writes
// the case:
//
//	terms  term \x00 number → nothing   every case under each of its terms
//	meta   "terms"          → the rule's probe (below), once the index is complete
//
// A search walks the postings of its terms together, newest first, by
// leapfrogging (each cursor seeks to the greatest number at or below the
// others'), so it reads about as many keys as the rarest term's postings
// in the range it walks, never the ledger; the index the other filters
// pick (the live cases, a grid's, a category's, a resident's) joins the
// walk as one more posting. A file indexed under another rule (another
// blinding key, simplification turned on) is indexed again when opened.
var (
	bucketTerms = []byte("terms")
	bucketMeta  = []byte("meta")
	metaTerms   = []byte("terms")
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

func termKey(term, number string) []byte {
	return append(append([]byte(term), 0), number...)
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
	after := s.search.CaseTerms(c)
	terms := tx.Bucket(bucketTerms)
	// Each term's numbers grow at its end (new cases), so pages split
	// there are left nearly full rather than half (bbolt's default).
	terms.FillPercent = 0.9
	for _, t := range before {
		if _, ok := slices.BinarySearch(after, t); !ok {
			if err := terms.Delete(termKey(t, c.Number)); err != nil {
				return err
			}
		}
	}
	for _, t := range after {
		if _, ok := slices.BinarySearch(before, t); !ok {
			if err := terms.Put(termKey(t, c.Number), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// termsProbe is what the rule makes of a fixed case: a file whose index
// was built under a rule giving another probe is indexed again.
func (s *Store) termsProbe() []byte {
	return []byte(strings.Join(s.search.CaseTerms(&core.Case{Number: "ST202601010001", Text: "路燈 LED", Phone: "13800138000"}), "\x00"))
}

// buildTerms indexes every case of a file written before the word index,
// or under another rule, a few thousand cases a transaction; it runs in
// Open, before the store serves.
func (s *Store) buildTerms(db *bolt.DB) error {
	probe := s.termsProbe()
	var done bool
	err := db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if built := meta.Get(metaTerms); built != nil && tx.Bucket(bucketTerms) != nil &&
			(bytes.Equal(built, probe) || s.search.Simplify == nil && s.search.Blind == nil) {
			// Built, under this rule; or opened without one (a check,
			// a tool) and kept as it is.
			done = true
			return nil
		}
		if tx.Bucket(bucketTerms) != nil {
			if err := tx.DeleteBucket(bucketTerms); err != nil {
				return err
			}
		}
		if err := meta.Delete(metaTerms); err != nil {
			return err
		}
		_, err = tx.CreateBucket(bucketTerms)
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
				if err := s.reterm(tx, nil, &c); err != nil {
					return err
				}
				after = append(after[:0], k...)
				n++
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
	return string(k[len(p.prefix):]), true
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

// searchPostings returns the postings a search walks: its terms', and the
// index the query's other filters pick, or false when the search has no
// terms (punctuation alone) and the store walks as before.
func (s *Store) searchPostings(tx *bolt.Tx, q core.CaseQuery) ([]*posting, bool) {
	terms, ok := s.search.QueryTerms(q.Search)
	if !ok {
		return nil, false
	}
	b := tx.Bucket(bucketTerms)
	var ps []*posting
	for _, t := range terms {
		ps = append(ps, newPosting(b, termKey(t, "")))
	}
	if index, prefix := indexFor(tx, q); index != nil {
		ps = append(ps, newPosting(index, prefix))
	}
	return ps, true
}
