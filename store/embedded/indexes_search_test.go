package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
	"gridbot/store/embedded"
	"gridbot/store/storetest"
)

// A file written before the word index, or indexed under another rule,
// is indexed when opened with a rule; opened without one (a tool), its
// index is left as it is.
func TestWordIndexBuiltWhenOpened(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gridbot.db")
	open := func(rule core.SearchIndex) *embedded.Store {
		t.Helper()
		s, err := embedded.Open(path, embedded.Options{CasePrefix: "ST", Search: rule, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	found := func(s *embedded.Store, rule core.SearchIndex, q string) int {
		t.Helper()
		cs, err := s.Cases(ctx, core.CaseQuery{Search: rule.Parse(q), Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	s := open(core.SearchIndex{})
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 2500; i++ { // more than one batch of the build
		text := "井盖丢失"
		if i%10 == 0 {
			text = "路燈壞了"
		}
		if _, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Resident: "o1", Text: text, CreatedAt: now},
			core.Event{Kind: core.EventSubmitted, At: now}); err != nil {
			t.Fatal(err)
		}
	}
	if n := found(s, core.SearchIndex{}, "路灯"); n != 0 {
		t.Fatalf("without simplification 路灯 found %d cases written 路燈", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Under another rule: indexed again.
	s = open(storetest.SearchRule)
	if n := found(s, storetest.SearchRule, "路灯"); n != 250 {
		t.Fatalf("after the rule changed, 路灯 found %d cases, want 250", n)
	}
	s.Close()
	// Opened by a tool without a rule: the index stays.
	s = open(core.SearchIndex{})
	s.Close()
	s = open(storetest.SearchRule)
	if n := found(s, storetest.SearchRule, "路灯"); n != 250 {
		t.Fatalf("after a tool opened the file, 路灯 found %d cases, want 250", n)
	}
	s.Close()
	// The file as an older gridbot left it: no word index.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("terms")); err != nil {
			return err
		}
		return tx.DeleteBucket([]byte("meta"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s = open(storetest.SearchRule)
	defer s.Close()
	if n := found(s, storetest.SearchRule, "井盖"); n != 2250 {
		t.Fatalf("an older file: 井盖 found %d cases, want 2250", n)
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
