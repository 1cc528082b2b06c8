// Package files keeps objects as files in a folder (by default media/
// beside the embedded store's file): the embedded deployment's object store.
// Each object is one file, written whole to a temporary file, synced and
// renamed into place, so a reader or a crash never sees half of one; files
// are spread over 256 sub-folders by a hash of their key so that no folder
// grows to millions of entries.
package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gridbot/core"
)

// Store is a folder of objects. It implements core.ObjectStore.
type Store struct {
	dir      string
	maxBytes int
}

// staleTemp is how old a temporary file must be before Open removes it: one
// left by a crash, not one another process is writing (a shared folder).
const staleTemp = time.Hour

// Open makes dir (mode 0700) if needed and returns a store in it that
// refuses objects over maxBytes (0: core.DefaultMaxMediaBytes).
func Open(dir string, maxBytes int) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("open object folder: no folder: %w", core.ErrInvalid)
	}
	if maxBytes <= 0 {
		maxBytes = core.DefaultMaxMediaBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open object folder: %w", err)
	}
	s := &Store{dir: dir, maxBytes: maxBytes}
	s.removeStaleTemps()
	return s, nil
}

// Dir is the store's folder.
func (s *Store) Dir() string { return s.dir }

// path is where key's file lives: a sub-folder named by the first byte of
// the key's SHA-256, and a name that is the key with "/" written "~" (a
// character keys cannot hold, so two keys never share a name).
func (s *Store) path(key string) (string, error) {
	if !core.ValidObjectKey(key) {
		return "", fmt.Errorf("object key %q: %w", key, core.ErrInvalid)
	}
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(s.dir, hex.EncodeToString(sum[:1]), strings.ReplaceAll(key, "/", "~")), nil
}

// PutObject implements core.ObjectStore.
func (s *Store) PutObject(ctx context.Context, key string, data []byte) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if len(data) > s.maxBytes {
		return fmt.Errorf("object %s of %d bytes, over %d: %w", key, len(data), s.maxBytes, core.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	done = true
	return syncDir(dir)
}

// Object implements core.ObjectStore.
func (s *Store) Object(ctx context.Context, key string) ([]byte, bool, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, false, err
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read object: %w", err)
	}
	defer f.Close()
	// A file grown past the bound behind our back is not read whole.
	data, err := io.ReadAll(io.LimitReader(f, int64(s.maxBytes)+1))
	if err != nil {
		return nil, false, fmt.Errorf("read object: %w", err)
	}
	if len(data) > s.maxBytes {
		return nil, false, fmt.Errorf("object %s is over %d bytes", key, s.maxBytes)
	}
	return data, true, nil
}

// DeleteObject implements core.ObjectStore.
func (s *Store) DeleteObject(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("delete object: %w", err)
	}
	return syncDir(filepath.Dir(p))
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder: %w", err)
	}
	return nil
}

// removeStaleTemps removes temporary files a crash left behind.
func (s *Store) removeStaleTemps() {
	shards, _ := os.ReadDir(s.dir)
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		entries, _ := os.ReadDir(filepath.Join(s.dir, sh.Name()))
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".tmp-") {
				continue
			}
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
				os.Remove(filepath.Join(s.dir, sh.Name(), e.Name()))
			}
		}
	}
}
