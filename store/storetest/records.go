package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"gridbot/core"
	"gridbot/objectstore/files"
	"gridbot/store"
)

// testRecordsOneKeyEach: the namespaces that grow with the residents
// (household files, joined cases, kept media) behave as records do, are
// never read whole, and are paged through completely.
func testRecordsOneKeyEach(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	const ns = "household"
	if !core.OneKeyPerRecord(ns) || core.OneKeyPerRecord("staff-bindings") {
		t.Fatal("core.OneKeyPerRecord does not name the household files alone")
	}
	const n = 250
	want := map[string]bool{}
	for i := range n {
		k := fmt.Sprintf("oresident-%03d", i)
		want[k] = true
		if err := s.PutRecord(ctx, ns, k, []byte("file "+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutRecord(ctx, "joined", "oresident-000", []byte("[]")); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Record(ctx, ns, "oresident-007"); err != nil || !ok || string(v) != "file oresident-007" {
		t.Fatalf("record: %q %v %v", v, ok, err)
	}
	if err := s.PutRecord(ctx, ns, "oresident-007", []byte("moved house")); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := s.Record(ctx, ns, "oresident-007"); string(v) != "moved house" {
		t.Fatalf("after a change: %q", v)
	}
	if err := s.DeleteRecord(ctx, ns, "oresident-008"); err != nil {
		t.Fatal(err)
	}
	delete(want, "oresident-008")
	if _, ok, err := s.Record(ctx, ns, "oresident-008"); ok || err != nil {
		t.Fatalf("deleted record: %v %v", ok, err)
	}
	if _, err := s.RecordsIn(ctx, ns); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("RecordsIn of a namespace kept one key per record: %v, want ErrInvalid", err)
	}
	if _, _, err := s.RecordKeys(ctx, "staff-bindings", "", 10); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("RecordKeys of a small namespace: %v, want ErrInvalid", err)
	}
	got := map[string]bool{}
	cursor, pages := "", 0
	for {
		keys, next, err := s.RecordKeys(ctx, ns, cursor, 40)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, k := range keys {
			got[k] = true
		}
		if next == "" {
			break
		}
		if pages > 1000 {
			t.Fatal("RecordKeys never ends")
		}
		cursor = next
	}
	if len(got) != len(want) {
		t.Fatalf("paged through %d keys of %d", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Fatalf("%s never listed", k)
		}
	}
	if pages < 2 {
		t.Fatalf("%d keys in %d page: not paged", len(got), pages)
	}
}

// testMediaOutOfTheStore: with an object store, a kept photo's bytes are in
// it and its record is small; media kept in the record by an older version
// stay readable, MigrateMedia moves them, and deletion (注销, retention)
// erases both.
func testMediaOutOfTheStore(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	objects, err := files.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	photo := bytes.Repeat([]byte{0xff, 0xd8}, 50_000)
	// What an older version kept: the bytes inside the record.
	old := &core.MediaStore{Records: s}
	for _, id := range []string{"old-1", "old-2", "old-3"} {
		if err := old.Put(ctx, core.MediaFile{ID: id, Case: "ST1", Kind: core.MediaImage, ContentType: "image/jpeg", Data: photo}); err != nil {
			t.Fatal(err)
		}
	}
	m := &core.MediaStore{Records: s, Objects: objects}
	if err := m.Put(ctx, core.MediaFile{ID: "new-1", Case: "ST2", Kind: core.MediaVoice, ContentType: "audio/amr", Data: []byte("#!AMR")}); err != nil {
		t.Fatal(err)
	}
	raw, ok, err := s.Record(ctx, "media", "new-1")
	if err != nil || !ok || len(raw) > 300 || bytes.Contains(raw, []byte("IyFBTVI")) {
		t.Fatalf("the record of a new file holds %d bytes (%v %v): %s", len(raw), ok, err, raw)
	}
	if data, ok, _ := objects.Object(ctx, core.MediaObjectKey("new-1")); !ok || string(data) != "#!AMR" {
		t.Fatalf("the object store holds %q %v", data, ok)
	}
	for _, id := range []string{"old-1", "new-1"} {
		if f, ok, err := m.Get(ctx, id); err != nil || !ok || len(f.Data) == 0 {
			t.Fatalf("%s before the migration: %v %v", id, ok, err)
		}
	}
	if _, ok, err := m.Get(ctx, "../../etc/passwd"); ok || err != nil {
		t.Fatalf("a path as an ID: %v %v", ok, err)
	}
	moved, err := m.MigrateMedia(ctx, s)
	if err != nil || moved != 3 {
		t.Fatalf("migrate: %d %v", moved, err)
	}
	if again, err := m.MigrateMedia(ctx, s); err != nil || again != 0 {
		t.Fatalf("migrate again: %d %v", again, err)
	}
	for _, id := range []string{"old-1", "old-2", "old-3"} {
		raw, _, _ := s.Record(ctx, "media", id)
		if len(raw) > 300 {
			t.Fatalf("%s's record still holds %d bytes", id, len(raw))
		}
		f, ok, err := m.Get(ctx, id)
		if err != nil || !ok || !bytes.Equal(f.Data, photo) || f.ContentType != "image/jpeg" || f.Case != "ST1" {
			t.Fatalf("%s after the migration: %d bytes %v %v", id, len(f.Data), ok, err)
		}
	}
	if err := m.Delete(ctx, "old-2", "new-1", "never-kept"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"old-2", "new-1"} {
		if _, ok, _ := m.Get(ctx, id); ok {
			t.Fatalf("%s readable after deletion", id)
		}
		if _, ok, _ := objects.Object(ctx, core.MediaObjectKey(id)); ok {
			t.Fatalf("%s's bytes left in the object store", id)
		}
		if _, ok, _ := s.Record(ctx, "media", id); ok {
			t.Fatalf("%s's record left", id)
		}
	}
	left := []string{}
	for cursor := ""; ; {
		keys, next, err := s.RecordKeys(ctx, "media", cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, keys...)
		if cursor = next; cursor == "" {
			break
		}
	}
	slices.Sort(left)
	left = slices.Compact(left)
	if !slices.Equal(left, []string{"old-1", "old-3"}) {
		t.Fatalf("media records left: %v", left)
	}
}
