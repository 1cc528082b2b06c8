package files

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gridbot/objectstore/objecttest"
)

func TestBehaviour(t *testing.T) {
	s, err := Open(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	objecttest.Run(t, s, "t/", 1<<20)
}

// Files stay inside the folder, private to the process's user; a crash's
// temporary file is cleaned up at the next start, a fresh one (another
// process writing into a shared folder) is left alone.
func TestFilesStayInTheFolder(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "media"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutObject(context.Background(), "media/photo-1", []byte("jpeg")); err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
			if info, _ := d.Info(); info.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s is readable by others: %v", p, info.Mode())
			}
		}
		return nil
	})
	if len(files) != 1 || filepath.Dir(filepath.Dir(files[0])) != s.Dir() || filepath.Base(files[0]) != "media~photo-1" {
		t.Fatalf("files: %v", files)
	}
	shard := filepath.Dir(files[0])
	old, fresh := filepath.Join(shard, ".tmp-old"), filepath.Join(shard, ".tmp-fresh")
	os.WriteFile(old, []byte("half"), 0o600)
	os.WriteFile(fresh, []byte("half"), 0o600)
	os.Chtimes(old, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour))
	if _, err := Open(s.Dir(), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Error("a crash's temporary file was left")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a temporary file being written was removed")
	}
}
