package configs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"gridbot/core"
)

// TownWatcher serves the town directory and category list in force and
// reloads them when their files change, so a new grid leader, a leader on
// leave, a new category or a changed deadline takes effect in every running
// instance within seconds (each instance watches its own copy of the files).
// An edit that does not load is refused with a log line naming the problem,
// and the last good town stays. It implements core.TownSource.
type TownWatcher struct {
	files   TownFiles
	log     *slog.Logger
	current atomic.Pointer[core.Town]
	// seen is the state of the files the current town was loaded from,
	// or of the last edit refused, so a bad edit is reported once.
	seen fileStamps
}

// fileStamps tells whether files changed, by size and modification time.
type fileStamps [3]struct {
	size int64
	mod  time.Time
}

// WatchTown loads the town from its files; it fails when they do not load.
func WatchTown(directory, categories string, log *slog.Logger) (*TownWatcher, error) {
	return WatchTownFiles(TownFiles{Directory: directory, Categories: categories}, log)
}

// WatchTownFiles loads the town from its files, the lexicon among them,
// and watches all three.
func WatchTownFiles(files TownFiles, log *slog.Logger) (*TownWatcher, error) {
	w := &TownWatcher{files: files, log: log}
	w.seen = w.stamp()
	t, err := LoadTownFiles(files)
	if err != nil {
		return nil, err
	}
	w.current.Store(t)
	return w, nil
}

// Town implements core.TownSource.
func (w *TownWatcher) Town() *core.Town { return w.current.Load() }

func (w *TownWatcher) stamp() fileStamps {
	var s fileStamps
	for i, p := range []string{w.files.Directory, w.files.Categories, w.files.Lexicon} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			s[i].size, s[i].mod = fi.Size(), fi.ModTime()
		}
	}
	return s
}

// Reload loads the files if they changed since the last look. It reports
// whether a new town took effect; an error means the edit was refused.
func (w *TownWatcher) Reload() (bool, error) {
	now := w.stamp()
	if now == w.seen {
		return false, nil
	}
	w.seen = now
	t, err := LoadTownFiles(w.files)
	if err != nil {
		return false, fmt.Errorf("town reload refused, keeping the last good configuration: %w", err)
	}
	w.current.Store(t)
	return true, nil
}

// Run looks at the files every interval until ctx is done.
func (w *TownWatcher) Run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		switch changed, err := w.Reload(); {
		case err != nil:
			w.log.Error("town configuration edit refused", "err", err)
		case changed:
			t := w.Town()
			w.log.Info("town configuration reloaded", "grids", len(t.Grids), "staff", len(t.Staff), "categories", len(t.Categories), "lexicon", len(t.Lexicon.Entries()))
		}
	}
}
