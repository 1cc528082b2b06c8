package embedded_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
	"gridbot/store"
	"gridbot/store/embedded"
	"gridbot/store/storetest"
)

// A file written before the word index, or indexed under another rule,
// is indexed when opened with a rule; opened without one (a tool), its
// index is left as it is.
func TestWordIndexBuiltWhenOpened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gridbot.db")
	open := func(rule core.SearchIndex) store.Store {
		t.Helper()
		s, err := embedded.Open(path, embedded.Options{CasePrefix: "ST", Search: rule, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	dropIndex := func() {
		// As an older gridbot left it: a key a posting, in bucket terms.
		rewriteFile(t, path, func(tx *bolt.Tx) error {
			if err := dropBuckets("wterms", "meta")(tx); err != nil {
				return err
			}
			old, err := tx.CreateBucket([]byte("terms"))
			if err != nil {
				return err
			}
			return old.Put([]byte("b路灯路灯\x00ST202611250001"), nil)
		})
	}
	storetest.WordIndexBuiltWhenOpened(t, 2500, open, dropIndex) // more than one batch of the build
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("terms")) != nil {
			return errors.New("the old layout's bucket terms is still there")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A file written before the department index is indexed when opened.
func TestDepartmentIndexBuiltWhenOpened(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gridbot.db")
	s, err := embedded.Open(path, embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Resident: "o1", Text: "路灯",
		Departments: []core.Assist{{Department: "cj", State: core.AssistCalled}}, CreatedAt: now},
		core.Event{Kind: core.EventSubmitted, At: now})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("depts")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = embedded.Open(path, embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cs, err := s.Cases(ctx, core.CaseQuery{Department: "cj"})
	if err != nil || len(cs) != 1 || cs[0].Number != c.Number {
		t.Fatalf("department cj after the index was built: %+v, %v", cs, err)
	}
}
