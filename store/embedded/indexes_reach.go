package embedded

import (
	"bytes"
	"slices"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
)

// What a staff member may see (core.CaseQuery.Within, core.Town.Reach) is
// a union of indexes, walked together newest first:
//
//	staff   staff \x00 number → nothing  every case by each staff member it is with (core.CaseStaff):
//	                                     a grid leader's assigned cases, "mine", a meeting's leader
//	vgrids  village \x00 grid → nothing  every grid a case of the village was ever in: a village's
//	                                     cases are those grids' (the grid index), whatever the
//	                                     directory says now
//
// Both are kept in the write that changes the case (reindex) and built once
// when a file written before them is opened.
var (
	bucketStaff  = []byte("staff")
	bucketVGrids = []byte("vgrids")
)

// restaff moves c's staff entries from was's staff to its own, and notes
// its village's grid.
func restaff(tx *bolt.Tx, was []string, c *core.Case) error {
	staff := tx.Bucket(bucketStaff)
	now := core.CaseStaff(c)
	for _, id := range was {
		if !slices.Contains(now, id) {
			if err := staff.Delete(gridKey(id, c.Number)); err != nil {
				return err
			}
		}
	}
	for _, id := range now {
		if !slices.Contains(was, id) {
			if err := staff.Put(gridKey(id, c.Number), nil); err != nil {
				return err
			}
		}
	}
	vgrids := tx.Bucket(bucketVGrids)
	if k := gridKey(c.Village, c.Grid); vgrids.Get(k) == nil {
		return vgrids.Put(k, nil)
	}
	return nil
}

// buildReach indexes every case of a file written before the staff and
// village indexes, once.
func buildReach(tx *bolt.Tx) error {
	return indexEveryCase(tx, [][]byte{bucketStaff, bucketVGrids}, func(c *core.Case) error { return restaff(tx, nil, c) })
}

// indexPart is one index walked in a union: a bucket and a key prefix.
type indexPart struct {
	bucket string
	prefix string
}

// mergedParts lists the indexes whose union holds every case q may match
// when q is narrowed by Within (or by several grids) and nothing narrower
// applies (indexFor's resident, department, live and one-grid indexes);
// ok is false otherwise.
func mergedParts(tx *bolt.Tx, q core.CaseQuery) (parts []indexPart, ok bool) {
	switch {
	case q.Resident != "", q.Department != "", len(q.States) > 0 && !containsState(q.States, core.StateClosed),
		len(q.Grids) == 1, len(q.Within) == 0 && len(q.Grids) < 2:
		return nil, false
	}
	return reachParts(tx, q), true
}

// reachParts lists the indexes whose union holds every case q's Within
// (or, without it, q's grids) lets through.
func reachParts(tx *bolt.Tx, q core.CaseQuery) (parts []indexPart) {
	add := func(p indexPart) {
		if !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	if len(q.Within) == 0 {
		for _, g := range q.Grids {
			add(indexPart{string(bucketGrids), g + "\x00"})
		}
		return parts
	}
	for _, sc := range q.Within {
		switch {
		case sc.Grid != "":
			add(indexPart{string(bucketGrids), sc.Grid + "\x00"})
		case sc.Staff != "":
			add(indexPart{string(bucketStaff), sc.Staff + "\x00"})
		case sc.Village != "":
			prefix := []byte(sc.Village + "\x00")
			cur := tx.Bucket(bucketVGrids).Cursor()
			for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
				add(indexPart{string(bucketGrids), string(k[len(prefix):]) + "\x00"})
			}
		}
	}
	return parts
}

// withinFilter wraps visit, when q is narrowed by Within, so that a number
// outside every index of the reader's reach is passed over before its case
// is read: a grid leader's open queue, walked along the live cases, reads
// the leader's open cases, not the town's.
func withinFilter(tx *bolt.Tx, q core.CaseQuery, visit func(number string) (bool, error)) func(number string) (bool, error) {
	if len(q.Within) == 0 {
		return visit
	}
	parts := reachParts(tx, q)
	// Cursors, not Get: an index entry's value is empty, which Get may
	// answer as nil, as it does a key that is not there.
	curs := make([]*bolt.Cursor, len(parts))
	for i, p := range parts {
		curs[i] = tx.Bucket([]byte(p.bucket)).Cursor()
	}
	var key []byte
	return func(number string) (bool, error) {
		for i, p := range parts {
			key = append(append(key[:0], p.prefix...), number...)
			if k, _ := curs[i].Seek(key); bytes.Equal(k, key) {
				return visit(number)
			}
		}
		return true, nil
	}
}

// backCursor walks one index part backwards from below before.
type backCursor struct {
	cur    *bolt.Cursor
	prefix []byte
	k      []byte // the current key, nil when done
}

func newBackCursor(tx *bolt.Tx, p indexPart, before string) *backCursor {
	bc := &backCursor{cur: tx.Bucket([]byte(p.bucket)).Cursor(), prefix: []byte(p.prefix)}
	from := append([]byte(p.prefix), 0xff)
	if before != "" {
		from = append([]byte(p.prefix), before...)
	}
	if bc.k, _ = bc.cur.Seek(from); bc.k == nil {
		bc.k, _ = bc.cur.Last()
	} else {
		bc.k, _ = bc.cur.Prev()
	}
	bc.check()
	return bc
}

func (bc *backCursor) check() {
	if bc.k != nil && !bytes.HasPrefix(bc.k, bc.prefix) {
		bc.k = nil
	}
}

func (bc *backCursor) number() string { return string(bc.k[len(bc.prefix):]) }

// walkMerged calls fn with the case numbers of every part, newest first,
// each number once (the first below before, when set), until fn returns
// false or an error: the union of the parts read as one index.
func walkMerged(tx *bolt.Tx, parts []indexPart, before string, fn func(number string) (bool, error)) error {
	curs := make([]*backCursor, 0, len(parts))
	for _, p := range parts {
		curs = append(curs, newBackCursor(tx, p, before))
	}
	for {
		top := ""
		for _, bc := range curs {
			if bc.k != nil && bc.number() > top {
				top = bc.number()
			}
		}
		if top == "" {
			return nil
		}
		for _, bc := range curs {
			// A number in several parts is read once.
			if bc.k != nil && bc.number() == top {
				bc.k, _ = bc.cur.Prev()
				bc.check()
			}
		}
		if more, err := fn(top); err != nil || !more {
			return err
		}
	}
}
