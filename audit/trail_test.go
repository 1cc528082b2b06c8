package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridbot/audit"
	"gridbot/core"
	"gridbot/store/embedded"
)

func newTrail(t *testing.T, now *time.Time) *audit.Trail {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "a.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &audit.Trail{Store: st, Now: func() time.Time { return *now }}
}

// TestSearchNewestFirst: a search returns the newest matches first, at
// most the limit, and says more matched.
func TestSearchNewestFirst(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	trail := newTrail(t, &now)
	ctx := context.Background()
	for i := range 10 {
		now = now.Add(time.Minute)
		actor := "lead1"
		if i%2 == 1 {
			actor = "lead2"
		}
		if err := trail.Record(ctx, core.AuditRecord{Actor: actor, Action: core.AuditViewCase, Object: fmt.Sprint("C", i)}); err != nil {
			t.Fatal(err)
		}
	}
	got, more, err := trail.Search(ctx, core.AuditQuery{Actor: "LEAD1"}, 3)
	if err != nil || !more || len(got) != 3 || got[0].Object != "C8" || got[2].Object != "C4" {
		t.Fatalf("search: %v more=%v %+v", err, more, got)
	}
	from := time.Date(2026, 12, 1, 8, 9, 0, 0, time.UTC)
	got, more, err = trail.Search(ctx, core.AuditQuery{From: from}, 10)
	if err != nil || more || len(got) != 2 || got[0].Object != "C9" {
		t.Fatalf("search from %s: %v %+v", from, err, got)
	}
}

// TestHashCoversEveryField: changing any field changes the hash, and two
// fields cannot trade characters unseen.
func TestHashCoversEveryField(t *testing.T) {
	r := core.AuditRecord{Seq: 7, At: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), Actor: "lead1", Addr: "10.0.0.1",
		Action: core.AuditViewCase, Object: "ST1", Outcome: core.AuditOK, Detail: "含电话", Prev: "ab"}
	base := audit.Hash(r)
	edits := []func(*core.AuditRecord){
		func(r *core.AuditRecord) { r.Seq++ },
		func(r *core.AuditRecord) { r.At = r.At.Add(time.Millisecond) },
		func(r *core.AuditRecord) { r.Actor = "lead2" },
		func(r *core.AuditRecord) { r.Addr = "10.0.0.2" },
		func(r *core.AuditRecord) { r.Action = core.AuditExport },
		func(r *core.AuditRecord) { r.Object = "ST2" },
		func(r *core.AuditRecord) { r.Outcome = core.AuditRefused },
		func(r *core.AuditRecord) { r.Detail = "" },
		func(r *core.AuditRecord) { r.Prev = "ac" },
		func(r *core.AuditRecord) { r.Actor, r.Addr = "lead110.0.0.1", "" },
	}
	for i, edit := range edits {
		e := r
		edit(&e)
		if audit.Hash(e) == base {
			t.Errorf("edit %d leaves the hash unchanged", i)
		}
	}
	if len(base) != 64 || strings.Trim(base, "0123456789abcdef") != "" {
		t.Errorf("hash %q is not 32 bytes of hex", base)
	}
}
