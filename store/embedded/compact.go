package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrInUse is returned by CompactFile when another process (gridbot serve)
// holds the store file.
var ErrInUse = errors.New("the store file is in use: stop gridbot first")

// compactTxSize bounds what one transaction of a compaction copies, so a
// file of gigabytes is copied in steps rather than held in one commit.
const compactTxSize = 64 << 20

// Compacted says what a compaction did.
type Compacted struct {
	Before, After int64 // the file's size, bytes
	Took          time.Duration
}

// CompactFile rewrites the store file at path with every page filled, and
// puts the copy in its place. A ledger's pages fill to half or a little
// more as its cases gain events (a page splits when one of its cases
// grows); the cases closed long ago no longer change, so a compacted file
// stays near its packed size (docs/benchmarks.md). The file must not be
// open elsewhere (ErrInUse); the copy is checked to open as a store before
// it replaces the file, and a compaction that fails leaves the file as it
// was.
func CompactFile(ctx context.Context, path string) (Compacted, error) {
	start := time.Now()
	info, err := os.Stat(path)
	if err != nil {
		return Compacted{}, fmt.Errorf("compact: %w", err)
	}
	// Opened for writing so the lock is exclusive: no serve may start on
	// the file while it is copied.
	src, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return Compacted{}, fmt.Errorf("compact %s: %w", path, ErrInUse)
	}
	if err != nil {
		return Compacted{}, fmt.Errorf("compact %s: %w", path, err)
	}
	defer src.Close()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".compact")
	defer os.Remove(tmp)
	if err := compactInto(ctx, src, tmp); err != nil {
		return Compacted{}, fmt.Errorf("compact %s: %w", path, err)
	}
	check, err := Open(tmp, Options{CasePrefix: "CHECK", Timeout: time.Second})
	if err != nil {
		return Compacted{}, fmt.Errorf("compact %s: the copy does not open: %w", path, err)
	}
	if err := check.Close(); err != nil {
		return Compacted{}, fmt.Errorf("compact %s: %w", path, err)
	}
	after, err := os.Stat(tmp)
	if err != nil {
		return Compacted{}, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := os.Chmod(tmp, info.Mode().Perm()); err != nil {
		return Compacted{}, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return Compacted{}, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return Compacted{}, fmt.Errorf("compact %s: %w", path, err)
	}
	return Compacted{Before: info.Size(), After: after.Size(), Took: time.Since(start)}, nil
}

// compactInto copies src into a new file at path, pages packed full, and
// syncs it once at the end.
func compactInto(ctx context.Context, src *bolt.DB, path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err // a copy left by a compaction that was killed
	}
	dst, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		return err
	}
	// bolt.Compact cannot be stopped part way: a compaction asked to stop
	// (ctx) is abandoned when the copy returns.
	err = bolt.Compact(dst, src, compactTxSize)
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
