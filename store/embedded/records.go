package embedded

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
)

// RecordKeys implements core.RecordPager: the namespace's bucket in key
// order, from the key after the cursor (the last key of the page before).
func (s *Store) RecordKeys(ctx context.Context, ns, cursor string, count int) ([]string, string, error) {
	if !core.OneKeyPerRecord(ns) {
		return nil, "", fmt.Errorf("record keys of %s: not kept one key per record: %w", ns, core.ErrInvalid)
	}
	if count <= 0 {
		count = 100
	}
	var keys []string
	more := false
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords).Bucket([]byte(ns))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		k, _ := c.First()
		if cursor != "" {
			k, _ = c.Seek([]byte(cursor))
			if k != nil && bytes.Equal(k, []byte(cursor)) {
				k, _ = c.Next()
			}
		}
		for ; k != nil; k, _ = c.Next() {
			if len(keys) == count {
				more = true
				break
			}
			keys = append(keys, string(k))
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("record keys of %s: %w", ns, err)
	}
	if !more || len(keys) == 0 {
		return keys, "", nil
	}
	return keys, keys[len(keys)-1], nil
}

var _ core.RecordPager = (*Store)(nil)
