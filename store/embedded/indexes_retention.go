package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
)

// The retention index (core.RetentionClock), kept in the transaction that
// writes the case:
//
//	retain  time \x00 number → nothing   every closed case still holding personal data
//
// time is core.RetentionMicros of the case's clock, 8 bytes big-endian, so
// the bucket lists the cases oldest first and a retention run reads those
// due and no other. A file written before the index is indexed once when
// opened.
var bucketRetain = []byte("retain")

// retainKey is c's key in the retention index, or nil when the policy does
// not hold c.
func retainKey(c *core.Case) []byte {
	at, ok := core.RetentionClock(c)
	if !ok {
		return nil
	}
	return append(binary.BigEndian.AppendUint64(nil, uint64(core.RetentionMicros(at))), c.Number...)
}

// reretain moves c's retention entry from was (nil: none) to its own.
func reretain(tx *bolt.Tx, was []byte, c *core.Case) error {
	now := retainKey(c)
	if bytes.Equal(was, now) {
		return nil
	}
	b := tx.Bucket(bucketRetain)
	if was != nil {
		if err := b.Delete(was); err != nil {
			return err
		}
	}
	if now != nil {
		return b.Put(now, nil)
	}
	return nil
}

// buildRetention indexes the cases of a file written before the retention
// index, once, in the transaction that creates it.
func buildRetention(tx *bolt.Tx) error {
	if tx.Bucket(bucketRetain) != nil {
		return nil
	}
	if _, err := tx.CreateBucket(bucketRetain); err != nil {
		return err
	}
	return tx.Bucket(bucketCases).ForEach(func(k, _ []byte) error {
		var c core.Case
		if err := getCase(tx, string(k), &c); err != nil {
			return fmt.Errorf("retention index: %w", err)
		}
		return reretain(tx, nil, &c)
	})
}

// RetentionDue implements core.RetentionIndex.
func (s *Store) RetentionDue(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	end := uint64(core.RetentionEnd(cutoff))
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketRetain).Cursor()
		for k, _ := cur.First(); k != nil && len(out) < limit; k, _ = cur.Next() {
			if len(k) < 8 || binary.BigEndian.Uint64(k) >= end {
				break
			}
			out = append(out, string(k[8:]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("retention due: %w", err)
	}
	return out, nil
}
