package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
)

// The audit trail: one bucket of records keyed by their big-endian number,
// and the anchor a trim leaves. The buckets are made by the first append,
// so a file from before the trail opens as it was.
var (
	bucketAudit       = []byte("audit")        // seq → the record as JSON
	bucketAuditAnchor = []byte("audit.anchor") // "anchor" → the last record trimmed away
	keyAuditAnchor    = []byte("anchor")
)

func auditKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// lastAudit is the last record, else the anchor, else the zero record.
func lastAudit(tx *bolt.Tx) (core.AuditRecord, error) {
	var r core.AuditRecord
	if b := tx.Bucket(bucketAudit); b != nil {
		if k, v := b.Cursor().Last(); k != nil {
			return r, json.Unmarshal(v, &r)
		}
	}
	return auditAnchor(tx)
}

func auditAnchor(tx *bolt.Tx) (core.AuditRecord, error) {
	var r core.AuditRecord
	if b := tx.Bucket(bucketAuditAnchor); b != nil {
		if v := b.Get(keyAuditAnchor); v != nil {
			return r, json.Unmarshal(v, &r)
		}
	}
	return r, nil
}

// AppendAudit implements core.AuditStore. Appends share the store's group
// commits, so a burst of audited reads costs one fsync per group.
func (s *Store) AppendAudit(ctx context.Context, seal func(last core.AuditRecord) (core.AuditRecord, error)) (core.AuditRecord, error) {
	var out core.AuditRecord
	err := s.writes.update(func(tx *bolt.Tx) error {
		last, err := lastAudit(tx)
		if err != nil {
			return err
		}
		r, err := seal(last)
		if err != nil {
			return err
		}
		if r.Seq != last.Seq+1 {
			return fmt.Errorf("audit record numbered %d after %d", r.Seq, last.Seq)
		}
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(bucketAudit)
		if err != nil {
			return err
		}
		out = r
		return b.Put(auditKey(r.Seq), raw)
	})
	if err != nil {
		return core.AuditRecord{}, fmt.Errorf("append audit record: %w", err)
	}
	return out, nil
}

// AuditRecords implements core.AuditStore.
func (s *Store) AuditRecords(ctx context.Context, after uint64, limit int) ([]core.AuditRecord, error) {
	var out []core.AuditRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(auditKey(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var r core.AuditRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("audit record %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit records: %w", err)
	}
	return out, nil
}

// AuditAnchor implements core.AuditStore.
func (s *Store) AuditAnchor(ctx context.Context) (core.AuditRecord, error) {
	var r core.AuditRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		r, err = auditAnchor(tx)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("audit anchor: %w", err)
	}
	return r, nil
}

// AuditTrimBatch bounds the records one trim transaction removes.
const auditTrimBatch = 5000

// TrimAudit implements core.AuditStore.
func (s *Store) TrimAudit(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		n := 0
		err := s.writes.update(func(tx *bolt.Tx) error {
			n = 0
			b := tx.Bucket(bucketAudit)
			if b == nil {
				return nil
			}
			var last []byte
			c := b.Cursor()
			var del [][]byte
			for k, v := c.First(); k != nil && len(del) < auditTrimBatch; k, v = c.Next() {
				var r core.AuditRecord
				if err := json.Unmarshal(v, &r); err != nil {
					return err
				}
				if !r.At.Before(before) {
					break
				}
				del, last = append(del, append([]byte{}, k...)), append([]byte{}, v...)
			}
			if len(del) == 0 {
				return nil
			}
			ab, err := tx.CreateBucketIfNotExists(bucketAuditAnchor)
			if err != nil {
				return err
			}
			if err := ab.Put(keyAuditAnchor, last); err != nil {
				return err
			}
			for _, k := range del {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n = len(del)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("trim audit: %w", err)
		}
		total += n
		if n < auditTrimBatch {
			return total, nil
		}
	}
}
