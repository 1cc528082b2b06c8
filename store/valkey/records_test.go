package valkey_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gridbot/internal/valkeytest"
)

// A store written before one key per record (household files in one hash)
// is read as it is, and MigrateRecords moves it: a record changed or erased
// since the upgrade keeps its change, nothing else is lost, and the old hash
// is gone.
func TestMigrateRecordsFromOneHash(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, time.Now)
	c := s.Client()
	hset := func(ns, key, value string) {
		if err := c.Do(ctx, c.B().Hset().Key(prefix+"rec:"+ns).FieldValue().FieldValue(key, value).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	const n = 600
	for i := range n {
		hset("household", fmt.Sprintf("o%04d", i), fmt.Sprintf(`{"openid":"o%04d"}`, i))
	}
	hset("joined", "o0001", `[{"number":"ST1"}]`)
	hset("media", "m1", `{"id":"m1","data":"AAAA"}`)
	hset("staff-bindings", "ostaff", "gl-1") // not one key per record: stays

	// Before the migration: read from the hash, changed and erased through
	// the new layout.
	if v, ok, err := s.Record(ctx, "household", "o0005"); err != nil || !ok || string(v) != `{"openid":"o0005"}` {
		t.Fatalf("old record: %q %v %v", v, ok, err)
	}
	if err := s.PutRecord(ctx, "household", "o0006", []byte("changed")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecord(ctx, "household", "o0007"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Record(ctx, "household", "o0007"); ok {
		t.Fatal("an erased record is still read from the old hash")
	}
	moved, err := s.MigrateRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := n - 1 + 2; moved != want { // o0007 erased; joined and media
		t.Fatalf("moved %d records, want %d", moved, want)
	}
	for _, ns := range []string{"household", "joined", "media"} {
		if e, _ := c.Do(ctx, c.B().Exists().Key(prefix+"rec:"+ns).Build()).AsInt64(); e != 0 {
			t.Fatalf("the old hash of %s is still there", ns)
		}
	}
	if l, _ := c.Do(ctx, c.B().Hlen().Key(prefix+"rec:staff-bindings").Build()).AsInt64(); l != 1 {
		t.Fatal("a small namespace's hash was touched")
	}
	check := func(s interface {
		Record(context.Context, string, string) ([]byte, bool, error)
	}) {
		t.Helper()
		for i := range n {
			k := fmt.Sprintf("o%04d", i)
			v, ok, err := s.Record(ctx, "household", k)
			switch {
			case err != nil:
				t.Fatal(err)
			case i == 7 && ok:
				t.Fatal("the erased record came back")
			case i == 6 && string(v) != "changed":
				t.Fatalf("the changed record reads %q", v)
			case i != 6 && i != 7 && (!ok || string(v) != fmt.Sprintf(`{"openid":"%s"}`, k)):
				t.Fatalf("%s: %q %v", k, v, ok)
			}
		}
	}
	check(s)
	// Another instance started after the migration reads one key per
	// record only, and a second migration finds nothing.
	other := open(t, prefix, time.Now)
	check(other)
	if again, err := other.MigrateRecords(ctx); err != nil || again != 0 {
		t.Fatalf("second migration: %d %v", again, err)
	}
	if v, err := c.Do(ctx, c.B().Get().Key(prefix+"rec:household:o0001").Build()).ToString(); err != nil || v == "" {
		t.Fatalf("one key per record: %q %v", v, err)
	}
}
