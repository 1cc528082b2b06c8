package embedded

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
)

// TestPackedPostings: a month's entries stay in order, once each, through
// random posts and unposts, in chunks of at most chunkEntries (the month's
// key first, then its chunks, which a walk of the terms' keys reads as the
// month); a batch merge agrees with them, also written over a month; and
// the intersection of several months' values lists exactly the numbers in
// all, newest first.
func TestPackedPostings(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "p.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(5, 6))
	const stem = "ST202611"
	number := func(i int) string { return fmt.Sprintf("%s%02d%04d", stem, 1+i/400, i%400) }
	for round := 0; round < 40; round++ {
		k := 1 + r.IntN(4)
		sets := make([]map[string]bool, k)
		err := db.Update(func(tx *bolt.Tx) error {
			_ = tx.DeleteBucket([]byte("p"))
			b, err := tx.CreateBucket([]byte("p"))
			if err != nil {
				return err
			}
			for j := range sets {
				sets[j] = map[string]bool{}
				key := termKey(fmt.Sprint("t", j), stem)
				density := []float64{0.01, 0.1, 0.5, 1}[r.IntN(4)]
				for n := 0; n < 2000; n++ {
					i := r.IntN(1200)
					_, e, ok := core.SearchEntry(number(i))
					if !ok {
						t.Fatalf("%s: no entry", number(i))
					}
					if r.Float64() < density {
						sets[j][number(i)] = true
						err = post(b, key, e)
					} else {
						delete(sets[j], number(i))
						err = unpost(b, key, e)
					}
					if err != nil {
						return err
					}
				}
				v := monthEntries(b, key)
				var want []byte
				for i := 0; i < 1200; i++ {
					if sets[j][number(i)] {
						_, e, _ := core.SearchEntry(number(i))
						want = append(want, e[:]...)
					}
				}
				if string(v) != string(want) {
					return fmt.Errorf("t%d: %d bytes, want %d in order", j, len(v), len(want))
				}
				if half := len(want) / 8 * 4; string(mergeEntries(want[:half], want[half/8*4:])) != string(want) {
					return fmt.Errorf("t%d: a merge of two overlapping halves is not the whole", j)
				}
				chunks := 0
				cur := b.Cursor()
				for k, v := cur.Seek(key); k != nil && inMonth(k, key); k, v = cur.Next() {
					if chunks++; len(v) > 4*chunkEntries {
						return fmt.Errorf("t%d: a chunk of %d entries", j, len(v)/4)
					}
				}
				if len(want) > 4*chunkEntries && chunks < 2 {
					return fmt.Errorf("t%d: %d entries in %d chunk", j, len(want)/4, chunks)
				}
				if ps := newPosting(b, termKey(fmt.Sprint("t", j), "")); len(want) > 0 {
					if got, ok := ps.atOrBelow("\xff"); !ok || got != stem {
						return fmt.Errorf("t%d: the walk of its keys reads month %q, want the month", j, got)
					}
				}
			}
			values := make([][]byte, k)
			for j := range values {
				values[j] = monthEntries(b, termKey(fmt.Sprint("t", j), stem))
				if len(values[j]) == 0 {
					return nil // such a month is not read: every term has it
				}
			}
			var want []string
			for i := 1199; i >= 0; i-- {
				in := true
				for _, s := range sets {
					in = in && s[number(i)]
				}
				if in {
					want = append(want, number(i))
				}
			}
			if got := intersectEntries(stem, values); !slices.Equal(got, want) {
				return fmt.Errorf("intersection of %d: %v, want %v", k, got, want)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}

// BenchmarkPostingsOfABusyMonth: the postings of a month as busy as a
// million cases over three years make (27,000 cases a month), each post
// one write of its own, for a common word every case carries.
func BenchmarkPostingsOfABusyMonth(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "p.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const perMonth = 27_000
	key := termKey("路灯", "ST202611")
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("p")); return err }); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		_, e, _ := core.SearchEntry(fmt.Sprintf("ST202611%02d%04d", 1+(i%perMonth)/900, i%900))
		if err := db.Update(func(tx *bolt.Tx) error { return post(tx.Bucket([]byte("p")), key, e) }); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
