package embedded_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/ledgerfill"
	"gridbot/script"
	"gridbot/store/embedded"
)

// TestFilledFileSize fills GRIDBOT_SIZE_CASES cases (3 years) as `gridbot
// fill` does and prints what each bucket takes of the file: a measurement
// for docs/benchmarks.md, skipped unless asked for. GRIDBOT_SIZE_FILE keeps
// the file at that path.
func TestFilledFileSize(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("GRIDBOT_SIZE_CASES"))
	if n <= 0 {
		t.Skip("set GRIDBOT_SIZE_CASES to fill and measure")
	}
	town, err := configs.LoadTown("../../configs/town.yaml", "../../configs/categories.yaml")
	if err != nil {
		t.Fatal(err)
	}
	conv, err := script.New()
	if err != nil {
		t.Fatal(err)
	}
	path := os.Getenv("GRIDBOT_SIZE_FILE")
	if path == "" {
		path = filepath.Join(t.TempDir(), "fill.db")
	}
	rules := core.Rules{}
	st, err := embedded.Open(path, embedded.Options{CasePrefix: town.CasePrefix, NoSync: true,
		Figures: core.FigureRule{Town: town, Rules: rules}, Search: core.SearchIndex{Simplify: conv.Simplified}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	began := time.Now()
	stats, err := ledgerfill.Fill(ctx, &core.Ledger{Store: st, Town: town, Rules: rules},
		ledgerfill.Options{Cases: n, Years: 3, Seed: 1, Workers: 16})
	if err != nil {
		t.Fatal(err)
	}
	for {
		evs, err := st.PendingEvents(ctx, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		seqs := make([]uint64, len(evs))
		for i, e := range evs {
			seqs[i] = e.Seq
		}
		if err := st.AckEvents(ctx, seqs...); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(began)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("fill: %d cases, %d events in %s; file %.1f MiB, %.0f bytes a case\n", stats.Cases, stats.Events,
		took.Round(time.Second), float64(fi.Size())/(1<<20), float64(fi.Size())/float64(n))
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type row struct {
		name                  string
		keys                  int
		kv, inuse, alloc      int
		leafPages, branchPage int
	}
	var rows []row
	err = db.View(func(tx *bolt.Tx) error {
		fmt.Printf("free pages %d (pending %d), page size %d, pages %d\n", db.Stats().FreePageN, db.Stats().PendingPageN, db.Info().PageSize, tx.Size()/int64(db.Info().PageSize))
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			s := b.Stats()
			r := row{name: string(name), keys: s.KeyN, inuse: s.LeafInuse + s.BranchInuse, alloc: s.LeafAlloc + s.BranchAlloc,
				leafPages: s.LeafPageN + s.LeafOverflowN, branchPage: s.BranchPageN + s.BranchOverflowN}
			_ = b.ForEach(func(k, v []byte) error { r.kv += len(k) + len(v); return nil })
			rows = append(rows, r)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].alloc > rows[j].alloc })
	fmt.Printf("%-18s %9s %12s %12s %12s %8s\n", "bucket", "keys", "k+v B/case", "inuse B/case", "alloc B/case", "fill%")
	for _, r := range rows {
		pct := 0.0
		if r.alloc > 0 {
			pct = 100 * float64(r.inuse) / float64(r.alloc)
		}
		fmt.Printf("%-18s %9d %12.0f %12.0f %12.0f %7.0f%%\n", r.name, r.keys, float64(r.kv)/float64(n), float64(r.inuse)/float64(n), float64(r.alloc)/float64(n), pct)
	}
}
