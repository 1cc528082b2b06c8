package main

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"

	"gridbot/core"
	"gridbot/store/embedded"
)

type townPointer struct{ atomic.Pointer[core.Town] }

func (p *townPointer) Town() *core.Town { return p.Load() }

// TestDirectoryEditsEndSessions: a new password_hash, a disable or a
// removal in the directory file moves the person's session generation on
// (their sessions end, and stay ended if the edit is undone); an enable or
// another edit does not (role and scope a session records itself).
func TestDirectoryEditsEndSessions(t *testing.T) {
	base := core.Town{Name: "石塘镇", CasePrefix: "ST",
		Staff: []core.Staff{
			{ID: "a", Name: "甲", Role: core.RoleTown, PasswordHash: "h1"},
			{ID: "b", Name: "乙", Role: core.RoleTown, PasswordHash: "h1"},
			{ID: "c", Name: "丙", Role: core.RoleTown, PasswordHash: "h1"},
			{ID: "d", Name: "丁", Role: core.RoleTown, PasswordHash: "h1"},
		},
		Categories: []core.Category{{Code: "road", Name: "道路设施", DeadlineHours: 24}},
	}
	edit := func(from core.Town, fn func([]core.Staff) []core.Staff) core.Town {
		from.Staff = fn(slices.Clone(from.Staff))
		return from
	}
	towns := &townPointer{}
	set := func(town core.Town) {
		t.Helper()
		tw, err := core.NewTown(town)
		if err != nil {
			t.Fatal(err)
		}
		towns.Store(tw)
	}
	set(base)
	keys := &embedded.MemoryKeys{}
	d := &directoryEdits{towns: towns, keys: keys, log: slog.New(slog.DiscardHandler), last: towns.Town()}
	ctx := context.Background()
	gen := func(id string) string {
		v, _, _ := keys.Get(ctx, "console:session-gen:"+id)
		return string(v)
	}

	step := edit(base, func(s []core.Staff) []core.Staff {
		s[0].PasswordHash = "h2" // a: new password
		s[1].Disabled = true     // b: disabled
		s[2].Name = "丙二"         // c: another edit
		return s[:3]             // d: removed
	})
	set(step)
	d.check(ctx)
	for id, want := range map[string]string{"a": "1", "b": "1", "c": "", "d": "1"} {
		if got := gen(id); got != want {
			t.Errorf("after the edit, generation of %s = %q, want %q", id, got, want)
		}
	}
	// Undone: b enabled, d back. Nothing ends again.
	set(base)
	d.check(ctx)
	d.check(ctx)
	for id, want := range map[string]string{"a": "2", "b": "1", "c": "", "d": "1"} {
		if got := gen(id); got != want {
			t.Errorf("after the undo, generation of %s = %q, want %q", id, got, want)
		}
	}
}
