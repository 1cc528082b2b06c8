package embedded

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
)

// The case indexes, kept in the transaction that writes the case, so that
// what a page shows costs what it shows and not the whole ledger:
//
//	live   number → nothing            every case not closed: the sweep, work lists, open queues
//	grids  grid \x00 number → nothing  every case by its grid: a grid's queue, the household file's same address
//	kinds  category \x00 number → nothing
//	                                   every case by its category: a category's queue
//	near   category \x00 place \x00 number → nothing
//	                                   every case not closed by category and place (core.PlacesOf): 附议
//	depts  department \x00 number → nothing
//	                                   every case by each department called to it: a department's queue
//
// Keys sort by case number, which sorts by day and count, so walking an
// index backwards lists newest first, as the cases bucket does. A file
// written before the indexes existed is indexed once when opened.
var (
	bucketLive  = []byte("live")
	bucketGrids = []byte("grids")
	bucketNear  = []byte("near")
	bucketKinds = []byte("kinds")
	bucketDepts = []byte("depts")
)

// indexedAs is what of a case its indexes record.
type indexedAs struct {
	state core.State
	grid  string
	kind  string   // category
	near  []string // its near keys' prefixes (category \x00 place \x00), when not closed
	words searchFields
	depts []string // the departments called to it
	staff []string // the staff it is with (core.CaseStaff; indexes_reach.go)
	// retain is its key in the retention index, nil when not in it
	// (indexes_retention.go).
	retain []byte
}

func indexOf(c *core.Case) indexedAs {
	return indexedAs{state: c.State, grid: c.Grid, kind: c.Category, near: nearPrefixes(c), words: searchFieldsOf(c),
		depts: departmentsOf(c), staff: core.CaseStaff(c), retain: retainKey(c)}
}

// nearPrefixes are the near index's key prefixes of c: none when closed.
func nearPrefixes(c *core.Case) []string {
	if c.State == core.StateClosed {
		return nil
	}
	var out []string
	for _, p := range core.PlacesOf(c) {
		out = append(out, c.Category+"\x00"+p+"\x00")
	}
	return out
}

// renear moves c's near entries from was's to its own.
func renear(tx *bolt.Tx, was []string, c *core.Case) error {
	near := tx.Bucket(bucketNear)
	now := nearPrefixes(c)
	for _, p := range was {
		if !slices.Contains(now, p) {
			if err := near.Delete([]byte(p + c.Number)); err != nil {
				return err
			}
		}
	}
	for _, p := range now {
		if !slices.Contains(was, p) {
			if err := near.Put([]byte(p+c.Number), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// departmentsOf lists the departments called to c.
func departmentsOf(c *core.Case) []string {
	var out []string
	for _, a := range c.Departments {
		out = append(out, a.Department)
	}
	return out
}

// redept moves c's department entries from was's departments to its own.
func redept(tx *bolt.Tx, was []string, c *core.Case) error {
	depts := tx.Bucket(bucketDepts)
	now := departmentsOf(c)
	for _, d := range was {
		if !slices.Contains(now, d) {
			if err := depts.Delete(gridKey(d, c.Number)); err != nil {
				return err
			}
		}
	}
	for _, d := range now {
		if !slices.Contains(was, d) {
			if err := depts.Put(gridKey(d, c.Number), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func gridKey(grid, number string) []byte {
	return append(append([]byte(grid), 0), number...)
}

// reindex moves case c's index entries from what they were (was; nil for a
// new case) to what c is now.
func reindex(tx *bolt.Tx, was *indexedAs, c *core.Case) error {
	var wasNear []string
	if was != nil {
		wasNear = was.near
	}
	if err := renear(tx, wasNear, c); err != nil {
		return err
	}
	var wasDepts, wasStaff []string
	var wasRetain []byte
	if was != nil {
		wasDepts, wasStaff, wasRetain = was.depts, was.staff, was.retain
	}
	if err := restaff(tx, wasStaff, c); err != nil {
		return err
	}
	if err := reretain(tx, wasRetain, c); err != nil {
		return err
	}
	if err := redept(tx, wasDepts, c); err != nil {
		return err
	}
	kinds := tx.Bucket(bucketKinds)
	if was != nil && was.kind != c.Category {
		if err := kinds.Delete(gridKey(was.kind, c.Number)); err != nil {
			return err
		}
	}
	if was == nil || was.kind != c.Category {
		if err := kinds.Put(gridKey(c.Category, c.Number), nil); err != nil {
			return err
		}
	}
	live, grids := tx.Bucket(bucketLive), tx.Bucket(bucketGrids)
	number := []byte(c.Number)
	if c.State == core.StateClosed {
		if was != nil && was.state != core.StateClosed {
			if err := live.Delete(number); err != nil {
				return err
			}
		}
	} else if was == nil || was.state == core.StateClosed {
		if err := live.Put(number, nil); err != nil {
			return err
		}
	}
	if was != nil && was.grid != c.Grid {
		if err := grids.Delete(gridKey(was.grid, c.Number)); err != nil {
			return err
		}
	}
	if was == nil || was.grid != c.Grid {
		return grids.Put(gridKey(c.Grid, c.Number), nil)
	}
	return nil
}

// buildIndexes indexes every case of a file written before the indexes
// existed; it runs once, in the transaction that creates them.
func buildIndexes(tx *bolt.Tx) error {
	if err := buildRetention(tx); err != nil {
		return err
	}
	if err := buildReach(tx); err != nil {
		return err
	}
	// The department and category indexes came after the others.
	if err := indexEveryCase(tx, [][]byte{bucketDepts}, func(c *core.Case) error { return redept(tx, nil, c) }); err != nil {
		return err
	}
	err := indexEveryCase(tx, [][]byte{bucketKinds}, func(c *core.Case) error {
		return tx.Bucket(bucketKinds).Put(gridKey(c.Category, c.Number), nil)
	})
	if err != nil {
		return err
	}
	if tx.Bucket(bucketNear) == nil {
		// The near index came after the others: index the live cases.
		if _, err := tx.CreateBucket(bucketNear); err != nil {
			return err
		}
		if live := tx.Bucket(bucketLive); live != nil {
			err := live.ForEach(func(k, _ []byte) error {
				var c core.Case
				if err := getCase(tx, string(k), &c); err != nil {
					return err
				}
				return renear(tx, nil, &c)
			})
			if err != nil {
				return err
			}
		}
	}
	return indexEveryCase(tx, [][]byte{bucketLive, bucketGrids}, func(c *core.Case) error { return reindex(tx, nil, c) })
}

// indexEveryCase builds indexes that came after the file was written: when
// one of buckets is missing, it makes them and runs index on every case,
// once (a file that has them all is left as it is).
func indexEveryCase(tx *bolt.Tx, buckets [][]byte, index func(*core.Case) error) error {
	missing := false
	for _, b := range buckets {
		missing = missing || tx.Bucket(b) == nil
	}
	if !missing {
		return nil
	}
	for _, b := range buckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketCases).ForEach(func(k, v []byte) error {
		var c core.Case
		if err := unmarshalCase(v, &c); err != nil {
			return fmt.Errorf("index case %q: %w", k, err)
		}
		return index(&c)
	})
}

// indexFor picks the index that narrows q the most: the resident's cases,
// a department's, the live cases when only cases not closed are asked for, one grid's, or
// else every case. It returns the bucket and the key prefix to walk (keys
// end in the case number), or a nil bucket for every case.
func indexFor(tx *bolt.Tx, q core.CaseQuery) (*bolt.Bucket, []byte) {
	switch {
	case q.Resident != "":
		return tx.Bucket(bucketResidents), append([]byte(q.Resident), 0)
	case q.Department != "":
		return tx.Bucket(bucketDepts), append([]byte(q.Department), 0)
	case len(q.States) > 0 && !containsState(q.States, core.StateClosed):
		return tx.Bucket(bucketLive), nil
	case len(q.Grids) == 1:
		return tx.Bucket(bucketGrids), append([]byte(q.Grids[0]), 0)
	case q.Category != "":
		return tx.Bucket(bucketKinds), append([]byte(q.Category), 0)
	}
	return nil, nil
}

func containsState(states []core.State, s core.State) bool {
	for _, x := range states {
		if x == s {
			return true
		}
	}
	return false
}

// walkBack calls fn with the case number of each key of b under prefix,
// last key first (the first below before, when set), until fn returns
// false or an error.
func walkBack(b *bolt.Bucket, prefix []byte, before string, fn func(number string) (bool, error)) error {
	cur := b.Cursor()
	var k []byte
	if before != "" {
		if k, _ = cur.Seek(append(append([]byte{}, prefix...), before...)); k == nil {
			k, _ = cur.Last()
		} else {
			k, _ = cur.Prev()
		}
	} else if len(prefix) == 0 {
		k, _ = cur.Last()
	} else if k, _ = cur.Seek(append(append([]byte{}, prefix...), 0xff)); k == nil {
		k, _ = cur.Last()
	} else {
		k, _ = cur.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Prev() {
		more, err := fn(string(k[len(prefix):]))
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// countCases reads the counts of cases by state, kept by each write
// (tally).
func countCases(tx *bolt.Tx) (map[core.State]int, error) {
	out := map[core.State]int{}
	counters := tx.Bucket(bucketCounters)
	for _, st := range core.AllStates {
		out[st] = 0
		if v := counters.Get(stateKey(st)); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return nil, fmt.Errorf("counter %s: %w", st, err)
			}
			out[st] = n
		}
	}
	return out, nil
}

// nearNumbers lists the numbers of the open cases of category under any
// of places (the near index), newest first.
func nearNumbers(tx *bolt.Tx, category string, places []string) []string {
	seen := map[string]bool{}
	var out []string
	cur := tx.Bucket(bucketNear).Cursor()
	for _, p := range places {
		prefix := []byte(category + "\x00" + p + "\x00")
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			if n := string(k[len(prefix):]); !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// nearQuery reports whether q can be answered from the near index.
func nearQuery(q core.CaseQuery) bool {
	return q.Resident == "" && q.Category != "" && len(q.Places) > 0 && len(q.States) > 0 && !containsState(q.States, core.StateClosed)
}
