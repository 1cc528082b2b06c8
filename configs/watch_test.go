package configs

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTownWatcherReloads(t *testing.T) {
	dir := t.TempDir()
	townPath, catPath := filepath.Join(dir, "town.yaml"), filepath.Join(dir, "categories.yaml")
	town, _ := os.ReadFile("town.yaml")
	cats, _ := os.ReadFile("categories.yaml")
	write := func(p string, b []byte) {
		t.Helper()
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		// Make the change visible even where the clock is coarse.
		later := time.Now().Add(time.Duration(len(b)) * time.Millisecond)
		os.Chtimes(p, later, later)
	}
	write(townPath, town)
	write(catPath, cats)
	w, err := WatchTown(townPath, catPath, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := w.Reload(); changed || err != nil {
		t.Fatalf("reload without a change: %v %v", changed, err)
	}
	before := w.Town()
	if got := before.Grid("L10").LeaderA; got != "gl-L10-a" {
		t.Fatalf("L10 post A = %s", got)
	}

	// A new leader on post A of L10.
	moved := strings.Replace(string(town), "leader_a: gl-L10-a", "leader_a: gl-L11-a", 1)
	write(townPath, []byte(moved))
	if changed, err := w.Reload(); !changed || err != nil {
		t.Fatalf("reload after an edit: %v %v", changed, err)
	}
	if got := w.Town().Grid("L10").LeaderA; got != "gl-L11-a" {
		t.Fatalf("after reload L10 post A = %s", got)
	}

	// An invalid edit is refused and changes nothing.
	good := w.Town()
	write(townPath, []byte(strings.Replace(moved, "leader_b: gl-L10-b", "leader_b: nobody", 1)))
	if changed, err := w.Reload(); changed || err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Fatalf("invalid edit: changed=%v err=%v", changed, err)
	}
	if w.Town() != good {
		t.Fatal("an invalid edit replaced the town")
	}
	// It is reported once, not on every look.
	if changed, err := w.Reload(); changed || err != nil {
		t.Fatalf("second look at the same bad edit: %v %v", changed, err)
	}
	// The edit is mended and a category's deadline changes.
	write(townPath, []byte(moved+"\n"))
	write(catPath, []byte(strings.Replace(string(cats), "deadline_hours: 48", "deadline_hours: 12", 1)))
	if changed, err := w.Reload(); !changed || err != nil {
		t.Fatalf("category edit: %v %v", changed, err)
	}
	if got := w.Town().Category("env").DeadlineHours; got != 12 {
		t.Fatalf("env deadline after reload: %d hours", got)
	}
}

func TestWatchTownRefusesABadStart(t *testing.T) {
	if _, err := WatchTown("nowhere.yaml", "categories.yaml", slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Fatal("a missing directory file was accepted")
	}
}
