package embedded

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
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
