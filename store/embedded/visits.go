package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
)

// The visits to linked households (core/linked.go), each written with its
// counter in one transaction:
//
//	visits       household 0x00 (MaxUint64 - at in ns, big-endian) id → the visit as JSON (a household's newest first)
//	visit.keys   cadre 0x1f key → the visit's key in visits (a retry records one visit)
//	visit.counts cell key → the cell's count, decimal
//
// The buckets are made by the first visit, so a file from before opens as
// it was. A visit is sealed whole when the store has a Sealer.
var (
	bucketVisits      = []byte("visits")
	bucketVisitKeys   = []byte("visit.keys")
	bucketVisitCounts = []byte("visit.counts")
)

func visitKey(v *core.Visit) []byte {
	k := append([]byte(v.Household), 0)
	k = binary.BigEndian.AppendUint64(k, math.MaxUint64-uint64(v.At.UnixNano()))
	return append(k, v.ID...)
}

// AddVisit implements core.VisitStore.
func (s *Store) AddVisit(ctx context.Context, v core.Visit) (core.Visit, bool, error) {
	if v.ID == "" || v.Household == "" || v.Cadre == "" || v.Key == "" {
		return core.Visit{}, false, fmt.Errorf("add visit: %w", core.ErrInvalid)
	}
	out, added := v, true
	err := s.writes.update(func(tx *bolt.Tx) error {
		var bs [3]*bolt.Bucket
		for i, name := range [][]byte{bucketVisits, bucketVisitKeys, bucketVisitCounts} {
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			bs[i] = b
		}
		visits, keys, counts := bs[0], bs[1], bs[2]
		dedupe := []byte(v.Cadre + "\x1f" + v.Key)
		if at := keys.Get(dedupe); at != nil {
			added = false
			raw := visits.Get(at)
			if raw == nil {
				return fmt.Errorf("visit key %q names no visit", dedupe)
			}
			return s.openVisit(raw, &out)
		}
		raw, err := s.sealVisit(&v)
		if err != nil {
			return err
		}
		k := visitKey(&v)
		if err := visits.Put(k, raw); err != nil {
			return err
		}
		if err := keys.Put(dedupe, k); err != nil {
			return err
		}
		cell := []byte(v.CellOf().Key())
		n := 0
		if was := counts.Get(cell); was != nil {
			if n, err = strconv.Atoi(string(was)); err != nil {
				return fmt.Errorf("visit count %q: %w", cell, err)
			}
		}
		return counts.Put(cell, []byte(strconv.Itoa(n+1)))
	})
	if err != nil {
		return core.Visit{}, false, fmt.Errorf("add visit: %w", err)
	}
	return out, added, nil
}

// HouseholdVisits implements core.VisitStore.
func (s *Store) HouseholdVisits(ctx context.Context, household string, limit int) ([]core.Visit, error) {
	var out []core.Visit
	prefix := append([]byte(household), 0)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketVisits)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, raw := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, raw = c.Next() {
			var v core.Visit
			if err := s.openVisit(raw, &v); err != nil {
				return fmt.Errorf("visit %x: %w", k, err)
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("household visits: %w", err)
	}
	return out, nil
}

// VisitCounts implements core.VisitStore.
func (s *Store) VisitCounts(ctx context.Context) (map[core.VisitCell]int, error) {
	out := map[core.VisitCell]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketVisitCounts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			cell, ok := core.ParseVisitCell(string(k))
			if !ok {
				return nil
			}
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return fmt.Errorf("visit count %q: %w", k, err)
			}
			out[cell] = n
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("visit counts: %w", err)
	}
	return out, nil
}

// sealVisit is a visit as stored: sealed whole when the store has a
// Sealer (what a cadre found is personal data, issue 20).
func (s *Store) sealVisit(v *core.Visit) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil || s.sealer == nil {
		return raw, err
	}
	return s.sealer.Seal(raw)
}

// openVisit reads a stored visit, sealed or plain.
func (s *Store) openVisit(raw []byte, v *core.Visit) error {
	plain, err := core.OpenBytes(s.sealer, raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, v)
}
