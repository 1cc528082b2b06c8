package valkey_test

import (
	"context"
	"fmt"
	"testing"

	"gridbot/internal/valkeytest"
	"gridbot/store"
	"gridbot/store/storetest"
)

// A ledger written before the staff and village indexes gets them when a
// store opens it.
func TestReachIndexBuiltWhenOpened(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	openStore := func() store.Store { return open(t, prefix, nil) }
	dropIndex := func() {
		s := open(t, prefix, nil)
		var keys []string
		for _, pattern := range []string{"{gb}:who:*", "{gb}:vgrids:*", "{gb}:reached"} {
			found, err := s.Client().Do(ctx, s.Client().B().Keys().Pattern(prefix+pattern).Build()).AsStrSlice()
			if err != nil || len(found) == 0 {
				t.Fatalf("%s: %d keys, %v", pattern, len(found), err)
			}
			keys = append(keys, found...)
		}
		if err := s.Client().Do(ctx, s.Client().B().Del().Key(keys...).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	storetest.ReachIndexBuiltWhenOpened(t, openStore, dropIndex)
}

// go test -run '^$' -bench BenchmarkReach ./store/valkey/
func BenchmarkReach(b *testing.B) {
	for _, n := range []int{5000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			storetest.BenchReach(b, open(b, valkeytest.Prefix(b), nil), n)
		})
	}
}
