package embedded

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
)

// The case indexes, kept in the transaction that writes the case, so that
// what a page shows costs what it shows and not the whole ledger:
//
//	live   number → nothing            every case not closed: the sweep, 附议, work lists, open queues
//	grids  grid \x00 number → nothing  every case by its grid: a grid's queue, the household file's same address
//
// Keys sort by case number, which sorts by day and count, so walking an
// index backwards lists newest first, as the cases bucket does. A file
// written before the indexes existed is indexed once when opened.
var (
	bucketLive  = []byte("live")
	bucketGrids = []byte("grids")
)

// indexedAs is what of a case its indexes record.
type indexedAs struct {
	state core.State
	grid  string
}

func indexOf(c *core.Case) indexedAs { return indexedAs{state: c.State, grid: c.Grid} }

func gridKey(grid, number string) []byte {
	return append(append([]byte(grid), 0), number...)
}

// reindex moves case c's index entries from what they were (was; nil for a
// new case) to what c is now.
func reindex(tx *bolt.Tx, was *indexedAs, c *core.Case) error {
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
	if tx.Bucket(bucketLive) != nil && tx.Bucket(bucketGrids) != nil {
		return nil
	}
	for _, b := range [][]byte{bucketLive, bucketGrids} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketCases).ForEach(func(k, v []byte) error {
		var c core.Case
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("index case %q: %w", k, err)
		}
		return reindex(tx, nil, &c)
	})
}

// indexFor picks the index that narrows q the most: the resident's cases,
// the live cases when only cases not closed are asked for, one grid's, or
// else every case. It returns the bucket and the key prefix to walk (keys
// end in the case number), or a nil bucket for every case.
func indexFor(tx *bolt.Tx, q core.CaseQuery) (*bolt.Bucket, []byte) {
	switch {
	case q.Resident != "":
		return tx.Bucket(bucketResidents), append([]byte(q.Resident), 0)
	case len(q.States) > 0 && !containsState(q.States, core.StateClosed):
		return tx.Bucket(bucketLive), nil
	case len(q.Grids) == 1:
		return tx.Bucket(bucketGrids), append([]byte(q.Grids[0]), 0)
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
// last key first, until fn returns false or an error.
func walkBack(b *bolt.Bucket, prefix []byte, fn func(number string) (bool, error)) error {
	cur := b.Cursor()
	var k []byte
	if len(prefix) == 0 {
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

// countCases counts the cases by state: the live ones read one by one,
// the closed ones as every case numbered (the day counters) less the live.
func countCases(tx *bolt.Tx) (map[core.State]int, error) {
	out := map[core.State]int{}
	for _, s := range []core.State{core.StateSubmitted, core.StateAssigned, core.StateInProgress,
		core.StateResolved, core.StateClosed, core.StateReopened} {
		out[s] = 0
	}
	total, live := 0, 0
	err := tx.Bucket(bucketCounters).ForEach(func(k, v []byte) error {
		if len(k) != len("20060102") {
			return nil // not a day's count
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("counter %s: %w", k, err)
		}
		total += n
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tx.Bucket(bucketLive).ForEach(func(k, _ []byte) error {
		var c core.Case
		if err := getCase(tx, string(k), &c); err != nil {
			return err
		}
		out[c.State]++
		live++
		return nil
	})
	if err != nil {
		return nil, err
	}
	out[core.StateClosed] = total - live
	return out, nil
}
