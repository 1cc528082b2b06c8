package valkey_test

import (
	"context"
	"testing"

	"gridbot/internal/valkeytest"
	"gridbot/store"
	"gridbot/store/storetest"
)

// A ledger written before the retention index gets it when a store opens
// it.
func TestRetentionIndexBuiltWhenOpened(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	openStore := func() store.Store { return open(t, prefix, nil) }
	dropIndex := func() {
		s := open(t, prefix, nil)
		keys, err := s.Client().Do(ctx, s.Client().B().Keys().Pattern(prefix+"{gb}:retain*").Build()).AsStrSlice()
		if err != nil || len(keys) < 10 {
			t.Fatalf("retention index keys: %d, %v", len(keys), err)
		}
		for _, k := range keys {
			if err := s.Client().Do(ctx, s.Client().B().Del().Key(k).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}
	}
	storetest.RetentionIndexBuiltWhenOpened(t, 300, openStore, dropIndex)
}

// A retention run on two instances at once erases exactly the expired
// cases.
func TestRetentionErasesExactlyTheExpired(t *testing.T) {
	prefix := valkeytest.Prefix(t)
	storetest.RetentionErasesExactlyTheExpired(t, 600, func() store.Store { return open(t, prefix, nil) })
}
