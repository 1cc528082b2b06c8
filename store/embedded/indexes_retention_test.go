package embedded_test

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"gridbot/store"
	"gridbot/store/embedded"
	"gridbot/store/storetest"
)

// A file written before the retention index gets it when opened.
func TestRetentionIndexBuiltWhenOpened(t *testing.T) {
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
		if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("retain")) }); err != nil {
			t.Fatal(err)
		}
	}
	storetest.RetentionIndexBuiltWhenOpened(t, 300, open, dropIndex)
}

// shared is the one store of a file that two "instances" share (the file
// is locked to one process): closing it is the test's.
type shared struct{ *embedded.Store }

func (shared) Close() error { return nil }

// A retention run, two at once, erases exactly the expired cases.
func TestRetentionErasesExactlyTheExpired(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST", NoSync: true,
		Search: storetest.SearchRule})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.RetentionErasesExactlyTheExpired(t, 600, func() store.Store { return shared{s} })
}
