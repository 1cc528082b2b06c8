package embedded

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestLeapfrogIntersects: the walk over several postings lists exactly
// the numbers in all of them, greatest first, from below any start, for
// random postings of very different sizes (and one empty).
func TestLeapfrogIntersects(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "l.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 50; round++ {
		k := 1 + r.IntN(4)
		sets := make([]map[string]bool, k)
		err := db.Update(func(tx *bolt.Tx) error {
			_ = tx.DeleteBucket([]byte("p"))
			b, err := tx.CreateBucket([]byte("p"))
			if err != nil {
				return err
			}
			for i := range sets {
				sets[i] = map[string]bool{}
				density := []float64{0, 0.01, 0.1, 0.5, 1}[r.IntN(5)]
				for n := 0; n < 400; n++ {
					if r.Float64() < density {
						number := fmt.Sprintf("ST2026%06d", n)
						sets[i][number] = true
						if err := b.Put(termKey(fmt.Sprint("t", i), number), nil); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		before := ""
		if r.IntN(2) == 0 {
			before = fmt.Sprintf("ST2026%06d", r.IntN(400))
		}
		var want []string
		for n := 399; n >= 0; n-- {
			number := fmt.Sprintf("ST2026%06d", n)
			in := before == "" || number < before
			for _, s := range sets {
				in = in && s[number]
			}
			if in {
				want = append(want, number)
			}
		}
		var got []string
		err = db.View(func(tx *bolt.Tx) error {
			var ps []*posting
			for i := range sets {
				ps = append(ps, newPosting(tx.Bucket([]byte("p")), termKey(fmt.Sprint("t", i), "")))
			}
			return leapfrog(ps, before, func(n string) (bool, error) { got = append(got, n); return true, nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d (%d postings, before %q): %v, want %v", round, k, before, got, want)
		}
	}
}
