package embedded_test

import (
	"testing"

	bolt "go.etcd.io/bbolt"

	"gridbot/store"
	"gridbot/store/embedded"
)

// openFile opens the store at path for a test, each call anew.
func openFile(t *testing.T, path string) func() store.Store {
	return func() store.Store {
		t.Helper()
		s, err := embedded.Open(path, embedded.Options{CasePrefix: "ST", NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// rewriteFile changes the closed file at path as an older gridbot left it.
func rewriteFile(t *testing.T, path string, change func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(change); err != nil {
		t.Fatal(err)
	}
}

// dropBuckets removes the buckets names: a file written before them.
func dropBuckets(names ...string) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		for _, b := range names {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	}
}
