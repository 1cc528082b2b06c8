package embedded

import (
	"context"
	"sync"
	"time"
)

// MemoryKeys is a core.Ephemeral in memory: a map with expiry. It is the
// embedded store's ephemeral half, kept out of bbolt because an fsync per
// resident message would cap the bot at a few thousand messages a second
// (the store saves it to the file on Close and reads it back on Open, so a
// clean restart keeps open dialogs). Its zero value is ready, which makes it
// the stand-in other packages' tests use.
type MemoryKeys struct {
	// Now is the clock that expires keys; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	m      map[string]memoryEntry
	writes int
	swept  time.Time
}

type memoryEntry struct {
	Value   []byte    `json:"v"`
	Expires time.Time `json:"e"`
}

func (k *MemoryKeys) clock() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// sweepEvery bounds how much expired data can pile up between sweeps.
const sweepEvery = 4096

func (k *MemoryKeys) Get(_ context.Context, key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.m[key]
	if !ok || !k.clock().Before(e.Expires) {
		return nil, false, nil
	}
	return append([]byte(nil), e.Value...), true, nil
}

func (k *MemoryKeys) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.put(key, value, ttl)
	return nil
}

func (k *MemoryKeys) SetNX(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.m[key]; ok && k.clock().Before(e.Expires) {
		return false, nil
	}
	k.put(key, value, ttl)
	return true, nil
}

func (k *MemoryKeys) Delete(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
	return nil
}

// put stores a copy of value; the caller holds mu.
func (k *MemoryKeys) put(key string, value []byte, ttl time.Duration) {
	now := k.clock()
	if k.m == nil {
		k.m = make(map[string]memoryEntry)
	}
	k.m[key] = memoryEntry{Value: append([]byte(nil), value...), Expires: now.Add(ttl)}
	k.writes++
	if k.writes >= sweepEvery || now.Sub(k.swept) > time.Minute {
		k.sweep(now)
	}
}

func (k *MemoryKeys) sweep(now time.Time) {
	for key, e := range k.m {
		if !now.Before(e.Expires) {
			delete(k.m, key)
		}
	}
	k.writes, k.swept = 0, now
}

// live returns the entries that have not expired, for saving.
func (k *MemoryKeys) live() map[string]memoryEntry {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sweep(k.clock())
	out := make(map[string]memoryEntry, len(k.m))
	for key, e := range k.m {
		out[key] = e
	}
	return out
}
