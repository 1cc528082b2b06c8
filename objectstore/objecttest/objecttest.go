// Package objecttest is the behaviour suite every core.ObjectStore passes.
package objecttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"gridbot/core"
)

// Run checks s against what core.ObjectStore promises. maxBytes is the
// store's bound on an object (0: none to check). Keys are made unique per
// run, so a shared bucket may be used.
func Run(t *testing.T, s core.ObjectStore, prefix string, maxBytes int) {
	ctx := context.Background()
	key := func(name string) string { return prefix + name }

	t.Run("put get replace delete", func(t *testing.T) {
		k := key("media/abc_DEF-123.x")
		if _, ok, err := s.Object(ctx, k); err != nil || ok {
			t.Fatalf("before put: ok %v err %v", ok, err)
		}
		first := []byte("\xff\xd8\xff first photo")
		if err := s.PutObject(ctx, k, first); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Object(ctx, k)
		if err != nil || !ok || !bytes.Equal(got, first) {
			t.Fatalf("get: %q %v %v", got, ok, err)
		}
		second := bytes.Repeat([]byte{7}, 100_000)
		if err := s.PutObject(ctx, k, second); err != nil {
			t.Fatal(err)
		}
		if got, ok, err = s.Object(ctx, k); err != nil || !ok || !bytes.Equal(got, second) {
			t.Fatalf("after replace: %d bytes %v %v", len(got), ok, err)
		}
		if err := s.DeleteObject(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.Object(ctx, k); err != nil || ok {
			t.Fatalf("after delete: ok %v err %v", ok, err)
		}
		if err := s.DeleteObject(ctx, k); err != nil {
			t.Fatalf("deleting a missing object: %v", err)
		}
	})

	t.Run("keys are distinct", func(t *testing.T) {
		// Keys that a careless encoding would fold together.
		keys := []string{key("a/b"), key("a_b"), key("a-b"), key("A/B"), key("a/b/c"), key("a.b")}
		for i, k := range keys {
			if err := s.PutObject(ctx, k, []byte(fmt.Sprint(i))); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
		}
		for i, k := range keys {
			got, ok, err := s.Object(ctx, k)
			if err != nil || !ok || string(got) != fmt.Sprint(i) {
				t.Fatalf("%s: %q %v %v", k, got, ok, err)
			}
			s.DeleteObject(ctx, k)
		}
	})

	t.Run("bad keys refused", func(t *testing.T) {
		for _, k := range []string{"", "../escape", key("a/../../b"), key("a//b"), "/abs", key("sp ace"), key("nul\x00"),
			key("新"), key("a/./b"), key(string(bytes.Repeat([]byte("k"), 300)))} {
			err := s.PutObject(ctx, k, []byte("x"))
			if !errors.Is(err, core.ErrInvalid) {
				t.Errorf("PutObject(%q): %v, want ErrInvalid", k, err)
			}
			if _, ok, err := s.Object(ctx, k); ok || (err != nil && !errors.Is(err, core.ErrInvalid)) {
				t.Errorf("Object(%q): ok %v err %v", k, ok, err)
			}
		}
	})

	if maxBytes > 0 {
		t.Run("size bounded", func(t *testing.T) {
			k := key("big")
			if err := s.PutObject(ctx, k, make([]byte, maxBytes+1)); !errors.Is(err, core.ErrInvalid) {
				t.Fatalf("an object over the bound: %v, want ErrInvalid", err)
			}
			if _, ok, _ := s.Object(ctx, k); ok {
				t.Fatal("the refused object is there")
			}
			if err := s.PutObject(ctx, k, make([]byte, maxBytes)); err != nil {
				t.Fatalf("an object at the bound: %v", err)
			}
			s.DeleteObject(ctx, k)
		})
	}

	t.Run("readers never see half an object", func(t *testing.T) {
		k := key("media/raced")
		a, b := bytes.Repeat([]byte{'a'}, 300_000), bytes.Repeat([]byte{'b'}, 200_000)
		if err := s.PutObject(ctx, k, a); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 2 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					data := a
					if i%2 == 1 {
						data = b
					}
					if err := s.PutObject(ctx, k, data); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		for range 30 {
			got, ok, err := s.Object(ctx, k)
			if err != nil || !ok || !(bytes.Equal(got, a) || bytes.Equal(got, b)) {
				t.Errorf("read %d bytes (ok %v, err %v): neither whole object", len(got), ok, err)
				break
			}
		}
		close(stop)
		wg.Wait()
		s.DeleteObject(ctx, k)
	})
}
