package embedded_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/ledgerfill"
	"gridbot/store/embedded"
)

// fileContents hashes every bucket, key and value of a bbolt file, nested
// buckets and their sequences too, and says how many pages it uses.
func fileContents(t *testing.T, path string) (sum [32]byte, pages int64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := sha256.New()
	var walk func(path []byte, b *bolt.Bucket) error
	walk = func(path []byte, b *bolt.Bucket) error {
		h.Write(path)
		h.Write(binary.BigEndian.AppendUint64(nil, b.Sequence()))
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return walk(append(append(bytes.Clone(path), 0), k...), b.Bucket(k))
			}
			h.Write(k)
			h.Write([]byte{0})
			h.Write(v)
			return nil
		})
	}
	err = db.View(func(tx *bolt.Tx) error {
		pages = tx.Size() / int64(db.Info().PageSize)
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk(name, b) })
	})
	if err != nil {
		t.Fatal(err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, pages
}

// TestCompactFile compacts a filled ledger: the copy holds every byte the
// file held in fewer pages, and opens as the store; a file in use or not a
// store is left as it was.
func TestCompactFile(t *testing.T) {
	town, err := configs.LoadTown("../../configs/town.yaml", "../../configs/categories.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gridbot.db")
	st, err := embedded.Open(path, embedded.Options{CasePrefix: town.CasePrefix, NoSync: true,
		Figures: core.FigureRule{Town: town}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stats, err := ledgerfill.Fill(ctx, &core.Ledger{Store: st, Town: town}, ledgerfill.Options{Cases: 600, Years: 1, Seed: 3, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}

	// While the store is open the file is left alone.
	if _, err := embedded.CompactFile(ctx, path); !errors.Is(err, embedded.ErrInUse) {
		t.Fatalf("compacting a file in use: %v, want ErrInUse", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	before, pagesBefore := fileContents(t, path)

	done, err := embedded.CompactFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	after, pagesAfter := fileContents(t, path)
	if after != before {
		t.Fatal("the compacted file does not hold what the file held")
	}
	if pagesAfter*4 > pagesBefore*3 {
		t.Errorf("%d pages before, %d after: want at least a quarter fewer", pagesBefore, pagesAfter)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != done.After || fi.Mode().Perm() != 0o600 {
		t.Errorf("the file after: %v %v, said %d bytes", fi, err, done.After)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("left in the folder: %v", entries)
	}
	t.Logf("%d cases: %d → %d pages, %d → %d bytes in %s", stats.Cases, pagesBefore, pagesAfter, done.Before, done.After, done.Took)

	st, err = embedded.Open(path, embedded.Options{CasePrefix: town.CasePrefix, Figures: core.FigureRule{Town: town}})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := st.Cases(ctx, core.CaseQuery{Limit: 10000})
	if err != nil || len(cases) != stats.Cases {
		t.Fatalf("after compaction %d cases listed (%v), want %d", len(cases), err, stats.Cases)
	}
	if evs, err := st.Events(ctx, cases[0].Number); err != nil || len(evs) == 0 {
		t.Fatalf("events of %s after compaction: %d, %v", cases[0].Number, len(evs), err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// A file that is not a store is refused and kept.
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a store "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := embedded.CompactFile(ctx, junk); err == nil {
		t.Fatal("a file that is no store was compacted")
	}
	if b, _ := os.ReadFile(junk); !bytes.HasPrefix(b, []byte("not a store ")) || len(b) != 12000 {
		t.Error("the file that is no store was changed")
	}
}
