package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// MemoryKeys against a plain map of what should be there, over random
// writes, overwrites, deletes and the passing of time: the same answers,
// and nothing expired is kept once something is written.
func TestMemoryKeysAgainstModel(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	k := &MemoryKeys{Now: func() time.Time { return now }}
	type want struct {
		value   string
		expires time.Time
	}
	model := map[string]want{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		key := fmt.Sprintf("k%d", rng.IntN(300))
		ttl := time.Duration(1+rng.IntN(120)) * time.Second
		value := fmt.Sprint(i)
		wrote := false
		switch op := rng.IntN(10); {
		case op < 4:
			k.Set(ctx, key, []byte(value), ttl)
			model[key] = want{value, now.Add(ttl)}
			wrote = true
		case op < 6:
			ok, _ := k.SetNX(ctx, key, []byte(value), ttl)
			m, exists := model[key]
			if fresh := !exists || !now.Before(m.expires); ok != fresh {
				t.Fatalf("step %d: SetNX %s = %v, want %v", i, key, ok, fresh)
			}
			if ok {
				model[key] = want{value, now.Add(ttl)}
			}
			wrote = ok
		case op < 7:
			k.Delete(ctx, key)
			delete(model, key)
		case op < 9:
			v, ok, _ := k.Get(ctx, key)
			m, exists := model[key]
			live := exists && now.Before(m.expires)
			if ok != live || (ok && string(v) != m.value) {
				t.Fatalf("step %d: Get %s = %q %v, want %q %v", i, key, v, ok, m.value, live)
			}
		default:
			now = now.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
		}
		if len(k.m) != len(k.byExpiry) {
			t.Fatalf("step %d: %d keys, %d in the expiry order", i, len(k.m), len(k.byExpiry))
		}
		for key, e := range k.m {
			if wrote && !now.Before(e.Expires) {
				t.Fatalf("step %d: expired key %s is kept after a write", i, key)
			}
		}
	}
}

// fillSessions sets n session keys of about 300 bytes in random order,
// the i-th living i seconds past an hour.
func fillSessions(t *testing.T, s *Store, n int) {
	t.Helper()
	ctx := context.Background()
	value := []byte(`{"flow":"report","step":"confirm","draft":{"category":"light","grid":"L10","text":"` +
		strings.Repeat("路灯", 40) + `"}}`)
	for i := range n {
		j := i * 7919 % n // 7919 is prime: a permutation when n is not its multiple
		if err := s.Set(ctx, fmt.Sprintf("session:o%027d", j), value, time.Hour+time.Duration(j)*time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

// Closing with 200,000 sessions ends well within a service manager's stop
// timeout (it took two minutes when each key was its own bbolt entry),
// and a reopen reads back what was saved: all of them on a machine not
// starved of CPU, else those that expire last.
func TestCloseSavesManyKeysQuickly(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 keys")
	}
	const n = 200000
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := Open(path, Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	fillSessions(t, s, n)
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if took > 10*time.Second {
		t.Errorf("closing with %d sessions took %s, past a 10 s stop timeout", n, took)
	}
	start = time.Now()
	s, err = Open(path, Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kept := len(s.keys.m)
	t.Logf("closing with %d sessions took %s and saved %d; opening read them back in %s",
		n, took.Round(time.Millisecond), kept, time.Since(start).Round(time.Millisecond))
	if kept < n/10 {
		t.Fatalf("only %d of %d keys saved", kept, n)
	}
	for j := n - kept; j < n; j++ {
		if _, ok := s.keys.m[fmt.Sprintf("session:o%027d", j)]; !ok {
			t.Fatalf("key %d of the last-expiring %d not kept", j, kept)
		}
	}
	v, ok, _ := s.Get(context.Background(), fmt.Sprintf("session:o%027d", n-1))
	if !ok || !strings.HasPrefix(string(v), `{"flow":"report"`) {
		t.Fatalf("a session after reopening: %q %v", v, ok)
	}
}

// Out of time, Close stops saving after the chunk under way and keeps the
// keys that expire last; what has expired is never saved.
func TestCloseSavesWithinItsTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := Open(path, Options{CasePrefix: "ST", SaveKeysWithin: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	const n = 12000 // about 3.6 MB: four chunks
	fillSessions(t, s, n)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kept := len(s.keys.m)
	if kept == 0 || kept >= n/2 {
		t.Fatalf("%d of %d keys kept with no time to save, want one chunk's worth", kept, n)
	}
	// The kept ones are those that expire last: j from n-kept to n-1.
	for j := n - kept; j < n; j++ {
		if _, ok := s.keys.m[fmt.Sprintf("session:o%027d", j)]; !ok {
			t.Fatalf("key %d of the last-expiring %d not kept", j, kept)
		}
	}
}

// Keys saved one bbolt entry each, by the version before chunks, are read
// back, and saved as chunks at the next Close.
func TestKeysSavedByTheOldFormatAreRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := Open(path, Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(memoryEntry{Value: []byte("dialog"), Expires: time.Now().Add(time.Hour)})
	gone, _ := json.Marshal(memoryEntry{Value: []byte("old"), Expires: time.Now().Add(-time.Hour)})
	s.writes.close()
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKeys)
		if err := b.Put([]byte("session:oold"), old); err != nil {
			return err
		}
		return b.Put([]byte("session:ogone"), gone)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.db.Close()
	for range 2 {
		s, err = Open(path, Options{CasePrefix: "ST"})
		if err != nil {
			t.Fatal(err)
		}
		v, ok, _ := s.Get(context.Background(), "session:oold")
		_, expired, _ := s.Get(context.Background(), "session:ogone")
		if string(v) != "dialog" || !ok || expired {
			t.Fatalf("old-format keys read back: %q %v, expired one %v", v, ok, expired)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
