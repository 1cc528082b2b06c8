package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
	"gridbot/store/valuecodec"
)

// resealBatch bounds the values one transaction rewrites, so that serving
// writes wait on no long transaction.
const resealBatch = 500

// Reseal seals again, with the current key, every case, event and
// residents' record sealed with an older key or written plain (before the
// keys): what gridbot keys reseal runs after a rotation. It returns how
// many values it rewrote. The older keys must still be in the key file.
func (s *Store) Reseal(ctx context.Context) (int, error) {
	if s.sealer == nil {
		return 0, fmt.Errorf("reseal: %w", core.ErrNoKey)
	}
	current := s.sealer.KeyID()
	n := 0
	for _, b := range [][]byte{bucketCases, bucketCaseLogs, bucketOutbox} {
		m, err := s.resealBucket(ctx, func(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(b) }, func(k, v []byte) ([]byte, error) {
			switch {
			case bytes.Equal(b, bucketCases):
				return s.resealCase(v, current)
			case bytes.Equal(b, bucketCaseLogs):
				return s.resealLog(k, v, current)
			case pointsToLog(v):
				return nil, nil // the outbox names the event in its case's log
			}
			return s.resealEvent(v, current)
		})
		n += m
		if err != nil {
			return n, fmt.Errorf("reseal %s: %w", b, err)
		}
	}
	for _, ns := range core.SealedNamespaces() {
		m, err := s.resealBucket(ctx, func(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketRecords).Bucket([]byte(ns)) },
			func(_, v []byte) ([]byte, error) {
				if core.SealedKeyOf(v) == current {
					return nil, nil
				}
				plain, err := core.OpenBytes(s.sealer, v)
				if err != nil {
					return nil, err
				}
				return s.sealer.Seal(plain)
			})
		n += m
		s.recordsChanged(ns)
		if err != nil {
			return n, fmt.Errorf("reseal %s: %w", ns, err)
		}
	}
	return n, nil
}

// resealBucket rewrites the values of a bucket that again (given the key
// and the value) returns
// non-nil for, a batch per transaction.
func (s *Store) resealBucket(ctx context.Context, bucket func(*bolt.Tx) *bolt.Bucket, again func(k, v []byte) ([]byte, error)) (int, error) {
	n := 0
	var after []byte
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		done, count := false, 0
		err := s.writes.update(func(tx *bolt.Tx) error {
			done, count = false, 0
			b := bucket(tx)
			if b == nil {
				done = true
				return nil
			}
			type put struct{ k, v []byte }
			var puts []put
			c := b.Cursor()
			k, v := c.First()
			if after != nil {
				k, v = c.Seek(after)
				if k != nil && string(k) == string(after) {
					k, v = c.Next()
				}
			}
			seen := 0
			for ; k != nil && seen < resealBatch; k, v = c.Next() {
				seen++
				nv, err := again(k, v)
				if err != nil {
					return fmt.Errorf("%x: %w", k, err)
				}
				if nv != nil {
					puts = append(puts, put{append([]byte{}, k...), nv})
				}
				after = append(after[:0], k...)
			}
			done = k == nil
			for _, p := range puts {
				if err := b.Put(p.k, p.v); err != nil {
					return err
				}
			}
			count = len(puts)
			return nil
		})
		if err != nil {
			return n, err
		}
		n += count
		if done {
			return n, nil
		}
	}
}

// resealCase returns the case sealed with the current key, or nil when it
// already is.
func (s *Store) resealCase(v []byte, current string) ([]byte, error) {
	var probe struct {
		Sealed string `json:"sealed"`
	}
	v, err := plainCase(v)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(v, &probe); err != nil {
		return nil, err
	}
	if probe.Sealed != "" && core.SealedTextKey(probe.Sealed) == current {
		return nil, nil
	}
	nv, err := resealCase(s.sealer, v, probe.Sealed)
	if err != nil || nv == nil {
		return nil, err
	}
	return valuecodec.PackCaseWithMarks(nv, nil)
}

// resealCase re-encodes a case read from v, nil when nothing in it is
// personal (it was and stays plain).
func resealCase(sealer core.Sealer, v []byte, was string) ([]byte, error) {
	var c core.Case
	if err := core.DecodeCase(sealer, v, &c); err != nil {
		return nil, err
	}
	nv, err := core.EncodeCase(sealer, &c)
	if err != nil || (was == "" && !bytes.Contains(nv, []byte(`"sealed":`))) {
		return nil, err
	}
	return nv, nil
}

// resealEvent returns the event sealed with the current key, or nil when
// it already is or has nothing to seal.
func (s *Store) resealEvent(v []byte, current string) ([]byte, error) {
	var e core.Event
	if err := json.Unmarshal(v, &e); err != nil {
		return nil, err
	}
	if k := core.SealedEventKey(e); k == current || (k == "" && !core.EventHasPersonalData(e)) {
		return nil, nil
	}
	if err := core.OpenEvent(s.sealer, &e); err != nil {
		return nil, err
	}
	sealed, err := core.SealEvent(s.sealer, e)
	if err != nil {
		return nil, err
	}
	return json.Marshal(sealed)
}

// resealLog returns case number's log with each event sealed with the
// current key, or nil when every one already is.
func (s *Store) resealLog(number, v []byte, current string) ([]byte, error) {
	var out []byte
	changed := false
	err := eachLogEntry(v, func(seq uint64, raw []byte) (bool, error) {
		var e core.Event
		if err := decodeEntry(number, seq, raw, &e); err != nil {
			return false, fmt.Errorf("event %d: %w", seq, err)
		}
		if k := core.SealedEventKey(e); k != current && (k != "" || core.EventHasPersonalData(e)) {
			if err := core.OpenEvent(s.sealer, &e); err != nil {
				return false, fmt.Errorf("event %d: %w", seq, err)
			}
			nv, err := s.encodeEntry(e)
			if err != nil {
				return false, fmt.Errorf("event %d: %w", seq, err)
			}
			changed, raw = true, nv
		}
		out = appendLogEntry(out, seq, raw)
		return true, nil
	})
	if err != nil || !changed {
		return nil, err
	}
	return out, nil
}
