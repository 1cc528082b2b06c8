package embedded

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
)

// The grid's own work in the figures (core/gridwork_figures.go): its
// counters are cells' counters like the others; this file keeps beside
// them the cases with a callback waiting, and brings marks written before
// those counters up to date once.
//
//	figures.callbacks  number → "" for each case whose marks have a callback waiting
var bucketCallbacks = []byte("figures.callbacks")

// keyMarksVersion, in the figures bucket (it is no cell: ParseFigureCell
// skips it), is the core.MarksVersion every mark has been brought to.
var keyMarksVersion = []byte("marks-version")

// keyCallbacksTx, in the counters bucket, is the ID of the last write
// transaction that changed the callbacks waiting or the marks of one of
// their cases: read in the same transaction as the callbacks, it says
// whether the list kept from an earlier read still holds.
var keyCallbacksTx = []byte("callbacks-tx")

// noteCallback keeps the case in the callbacks waiting, or takes it out.
func noteCallback(tx *bolt.Tx, m *core.FigureMarks) error {
	b, err := tx.CreateBucketIfNotExists(bucketCallbacks)
	if err != nil {
		return err
	}
	if m.CallbackDue.IsZero() {
		if b.Get([]byte(m.Number)) == nil {
			return nil // not waiting before either: the list is the same
		}
		if err := b.Delete([]byte(m.Number)); err != nil {
			return err
		}
	} else if err := b.Put([]byte(m.Number), nil); err != nil {
		return err
	}
	return callbacksChanged(tx)
}

// callbacksChanged records that tx changes the callbacks waiting.
func callbacksChanged(tx *bolt.Tx) error {
	return tx.Bucket(bucketCounters).Put(keyCallbacksTx, seqKey(uint64(tx.ID())))
}

// callbacksKept is the callbacks waiting as a figures page last read them,
// and the callbacks-tx they were read at. Every figures page reads them,
// and a town that falls behind with its callback visits has them by the
// tens of thousands (a quarter of a filled ledger's cases): reading each
// one's marks again was most of the server's CPU under 20 staff at
// 100,000 cases (docs/benchmarks.md).
type callbacksKept struct {
	mu    sync.Mutex
	at    []byte
	marks []core.FigureMarks
}

// waitingCallbacks returns the marks of the cases with a callback waiting,
// copies of the caller's own.
func (s *Store) waitingCallbacks(tx *bolt.Tx) ([]core.FigureMarks, error) {
	at := tx.Bucket(bucketCounters).Get(keyCallbacksTx)
	s.callbacks.mu.Lock()
	if at != nil && s.callbacks.marks != nil && bytes.Equal(at, s.callbacks.at) {
		kept := s.callbacks.marks
		s.callbacks.mu.Unlock()
		out := make([]core.FigureMarks, len(kept))
		for i := range kept {
			out[i] = s.marks.Clone(&kept[i])
		}
		return out, nil
	}
	s.callbacks.mu.Unlock()
	marks, err := s.callbackMarks(tx)
	if err != nil || at == nil {
		return marks, err
	}
	kept := make([]core.FigureMarks, len(marks))
	for i := range marks {
		kept[i] = s.marks.Clone(&marks[i])
	}
	s.callbacks.mu.Lock()
	s.callbacks.at, s.callbacks.marks = bytes.Clone(at), kept
	s.callbacks.mu.Unlock()
	return marks, nil
}

// callbackMarks reads the marks of the cases with a callback waiting.
func (s *Store) callbackMarks(tx *bolt.Tx) ([]core.FigureMarks, error) {
	b := tx.Bucket(bucketCallbacks)
	if b == nil {
		return nil, nil
	}
	marks := tx.Bucket(bucketMarks)
	var out []core.FigureMarks
	err := b.ForEach(func(k, _ []byte) error {
		v := marks.Get(k)
		if v == nil {
			return nil
		}
		var m core.FigureMarks
		if err := s.keptMarks(k, v, &m); err != nil {
			return fmt.Errorf("marks of %s: %w", k, err)
		}
		if !m.CallbackDue.IsZero() {
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// upgradeMarks brings every case's marks written before core.MarksVersion
// to it, each from the case and its whole log, with what that adds to the
// counters; it runs once, in the transaction that opens the file.
func (s *Store) upgradeMarks(tx *bolt.Tx) error {
	figures := tx.Bucket(bucketFigures)
	v, err := strconv.Atoi(string(figures.Get(keyMarksVersion)))
	if err == nil && v >= core.MarksVersion {
		return nil
	}
	marks, cases := tx.Bucket(bucketMarks), tx.Bucket(bucketCases)
	// From the layout before the board's, only the cases not closed need
	// bringing up (core.MarksVersionBoard): the live bucket, not the
	// ledger.
	walk := marks
	if err == nil && v >= core.MarksVersionBoard-1 {
		walk = tx.Bucket(bucketLive)
	}
	type upgraded struct {
		key   []byte
		marks core.FigureMarks
	}
	var done []upgraded
	err = walk.ForEach(func(k, _ []byte) error {
		v := marks.Get(k)
		if v == nil {
			return nil
		}
		var old core.FigureMarks
		if err := decodeMarks(v, &old); err != nil {
			return fmt.Errorf("marks of %s: %w", k, err)
		}
		if old.Version >= core.MarksVersion {
			return nil
		}
		raw := cases.Get(k)
		if raw == nil {
			return nil
		}
		var c core.Case
		if err := unmarshalCase(raw, &c); err != nil {
			return fmt.Errorf("case %s: %w", k, err)
		}
		evs, err := s.caseEvents(tx, k)
		if err != nil {
			return fmt.Errorf("tally %q: %w", k, err)
		}
		m, deltas, ok := s.figures.Remark(&old, &c, evs)
		if !ok {
			return nil
		}
		if err := addFigures(figures, deltas); err != nil {
			return err
		}
		done = append(done, upgraded{key: append([]byte{}, k...), marks: m})
		return nil
	})
	if err != nil {
		return fmt.Errorf("upgrade marks: %w", err)
	}
	// Written after the walk: a bucket is not changed while it is walked.
	for _, u := range done {
		v, err := encodeMarks(&u.marks)
		if err != nil {
			return err
		}
		if err := marks.Put(u.key, v); err != nil {
			return err
		}
		if err := noteCallback(tx, &u.marks); err != nil {
			return err
		}
	}
	return figures.Put(keyMarksVersion, []byte(strconv.Itoa(core.MarksVersion)))
}
