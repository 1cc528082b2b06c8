package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
	"gridbot/store/valuecodec"
)

// The figures' counters (core/figures_tally.go), kept in the transaction
// that writes the case:
//
//	figures  cell key → the cell's counters, core.NumFigureCounters varints
//	marks    number → the case's core.FigureMarks: JSON compressed with
//	         the marks' dictionary (store/valuecodec), or plain as
//	         written before
//
// A file written before them is tallied once when opened, each case from
// its whole log at once.
var (
	bucketFigures = []byte("figures")
	bucketMarks   = []byte("marks")
)

// tally records what writing c with evs adds to the figures.
func (s *Store) tally(tx *bolt.Tx, c *core.Case, evs []core.Event) error {
	marks := tx.Bucket(bucketMarks)
	var before *core.FigureMarks
	if v := marks.Get([]byte(c.Number)); v != nil {
		before = &core.FigureMarks{}
		if err := decodeMarks(v, before); err != nil {
			return fmt.Errorf("marks of %s: %w", c.Number, err)
		}
	}
	after, deltas := s.figures.Mark(before, c, evs)
	v, err := encodeMarks(&after)
	if err != nil {
		return err
	}
	if err := marks.Put([]byte(c.Number), v); err != nil {
		return err
	}
	if err := noteCallback(tx, &after); err != nil {
		return err
	}
	counters := tx.Bucket(bucketCounters)
	for st, n := range core.StateDeltas(before, &after) {
		k := stateKey(st)
		prev := 0
		if v := counters.Get(k); v != nil {
			if prev, err = strconv.Atoi(string(v)); err != nil {
				return fmt.Errorf("counter %s: %w", k, err)
			}
		}
		if err := counters.Put(k, []byte(strconv.Itoa(prev+n))); err != nil {
			return err
		}
	}
	return addFigures(tx.Bucket(bucketFigures), deltas)
}

// stateKey is the counters' key of the count of cases in state st (the
// day counts' keys are eight digits, so they never meet).
func stateKey(st core.State) []byte { return []byte("state:" + string(st)) }

func addFigures(b *bolt.Bucket, deltas core.FigureDeltas) error {
	for key, d := range deltas {
		counts, err := decodeCounts(b.Get([]byte(key)))
		if err != nil {
			return fmt.Errorf("figures %q: %w", key, err)
		}
		zero := true
		for i := range counts {
			counts[i] += d[i]
			zero = zero && counts[i] == 0
		}
		if zero {
			if err := b.Delete([]byte(key)); err != nil {
				return err
			}
			continue
		}
		if err := b.Put([]byte(key), encodeCounts(counts)); err != nil {
			return err
		}
	}
	return nil
}

func encodeCounts(c core.FigureCounts) []byte {
	out := make([]byte, 0, len(c)*2)
	for _, n := range c {
		out = binary.AppendVarint(out, int64(n))
	}
	return out
}

func decodeCounts(v []byte) (core.FigureCounts, error) {
	var c core.FigureCounts
	for i := 0; len(v) > 0 && i < len(c); i++ {
		n, k := binary.Varint(v)
		if k <= 0 {
			return c, fmt.Errorf("bad counter")
		}
		c[i], v = int(n), v[k:]
	}
	return c, nil
}

// Figures implements core.CaseStore. A read transaction's ID is that of
// the last write committed, so the tally read in one is kept for the
// readers after it until a write commits (tallycache).
func (s *Store) Figures(ctx context.Context) (core.FigureTally, error) {
	var t core.FigureTally
	err := s.db.View(func(tx *bolt.Tx) error {
		if kept, ok := s.tallies.Get(tx.ID()); ok {
			t = kept
			return nil
		}
		cells, err := figureCells(tx)
		if err != nil {
			return err
		}
		t.Cells = cells
		if t.Callbacks, err = s.waitingCallbacks(tx); err != nil {
			return err
		}
		marks := tx.Bucket(bucketMarks)
		err = tx.Bucket(bucketLive).ForEach(func(k, _ []byte) error {
			v := marks.Get(k)
			if v == nil {
				return nil
			}
			var m core.FigureMarks
			if err := s.keptMarks(k, v, &m); err != nil {
				return fmt.Errorf("marks of %s: %w", k, err)
			}
			t.Live = append(t.Live, m)
			return nil
		})
		if err != nil {
			return err
		}
		s.tallies.Put(tx.ID(), t)
		return nil
	})
	if err != nil {
		return core.FigureTally{}, fmt.Errorf("figures: %w", err)
	}
	return t, nil
}

// figureCells reads the counters as of tx.
func figureCells(tx *bolt.Tx) (map[core.FigureCell]core.FigureCounts, error) {
	cells := map[core.FigureCell]core.FigureCounts{}
	err := tx.Bucket(bucketFigures).ForEach(func(k, v []byte) error {
		cell, ok := core.ParseFigureCell(string(k))
		if !ok {
			return nil
		}
		counts, err := decodeCounts(v)
		if err != nil {
			return fmt.Errorf("figures %q: %w", k, err)
		}
		cells[cell] = counts
		return nil
	})
	return cells, err
}

// buildFigures tallies every case of a file written before the figures
// were kept; it runs once, in the transaction that creates their buckets.
func (s *Store) buildFigures(tx *bolt.Tx) error {
	if tx.Bucket(bucketFigures) != nil && tx.Bucket(bucketMarks) != nil {
		return nil
	}
	for _, b := range [][]byte{bucketFigures, bucketMarks} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketCases).ForEach(func(k, v []byte) error {
		var c core.Case
		if err := unmarshalCase(v, &c); err != nil {
			return fmt.Errorf("tally case %q: %w", k, err)
		}
		evs, err := s.caseEvents(tx, k)
		if err != nil {
			return fmt.Errorf("tally %q: %w", k, err)
		}
		return s.tally(tx, &c, evs)
	})
}

// encodeMarks is the stored value of a case's figure marks.
func encodeMarks(m *core.FigureMarks) ([]byte, error) {
	v, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return valuecodec.Marks.Pack(v)
}

// maxDecodedMarks bounds the marks the cache keeps: those of the open
// cases and the callbacks waiting, which every figures page reads.
const maxDecodedMarks = 1 << 16

// keptMarks reads the stored marks of case number through the cache of
// decoded marks.
func (s *Store) keptMarks(number, v []byte, m *core.FigureMarks) error {
	if s.marks.Get(string(number), v, m) {
		return nil
	}
	*m = core.FigureMarks{}
	if err := decodeMarks(v, m); err != nil {
		return err
	}
	s.marks.Put(string(number), v, m)
	return nil
}

// decodeMarks reads stored figure marks, packed or plain.
func decodeMarks(v []byte, m *core.FigureMarks) error {
	plain, err := valuecodec.Marks.Unpack(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, m)
}
