package embedded_test

import (
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"gridbot/store"
	"gridbot/store/embedded"
	"gridbot/store/storetest"
)

// A file written before the staff and village indexes gets them when
// opened.
func TestReachIndexBuiltWhenOpened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gridbot.db")
	open := func() store.Store {
		t.Helper()
		s, err := embedded.Open(path, embedded.Options{CasePrefix: "ST", NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	dropIndex := func() {
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range []string{"staff", "vgrids"} {
				if err := tx.DeleteBucket([]byte(b)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	storetest.ReachIndexBuiltWhenOpened(t, open, dropIndex)
}

// go test -run '^$' -bench BenchmarkReach ./store/embedded/
func BenchmarkReach(b *testing.B) {
	for _, n := range []int{5000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s, err := embedded.Open(filepath.Join(b.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST", NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchReach(b, s, n)
		})
	}
}
