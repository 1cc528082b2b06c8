package embedded

import (
	"container/heap"
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

	mu sync.Mutex
	m  map[string]*memoryEntry
	// byExpiry orders the entries by expiry, so that each write drops what
	// has expired at the cost of a heap step: a sweep of the whole map
	// (two minutes of dedupe marks under load) cost more the busier the
	// bot was.
	byExpiry expiryHeap
}

type memoryEntry struct {
	Value   []byte    `json:"v"`
	Expires time.Time `json:"e"`
	key     string
	at      int // index in byExpiry
}

// expiryHeap is a container/heap of entries, soonest expiry first.
type expiryHeap []*memoryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].Expires.Before(h[j].Expires) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].at, h[j].at = i, j
}
func (h *expiryHeap) Push(x any) {
	e := x.(*memoryEntry)
	e.at = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

func (k *MemoryKeys) clock() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

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
	k.put(key, value, k.clock().Add(ttl))
	return nil
}

func (k *MemoryKeys) SetNX(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.clock()
	if e, ok := k.m[key]; ok && now.Before(e.Expires) {
		return false, nil
	}
	k.put(key, value, now.Add(ttl))
	return true, nil
}

func (k *MemoryKeys) Delete(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.m[key]; ok {
		heap.Remove(&k.byExpiry, e.at)
		delete(k.m, key)
	}
	return nil
}

// put stores a copy of value until expires, then drops what has expired;
// the caller holds mu.
func (k *MemoryKeys) put(key string, value []byte, expires time.Time) {
	if k.m == nil {
		k.m = make(map[string]*memoryEntry)
	}
	if e, ok := k.m[key]; ok {
		e.Value, e.Expires = append(e.Value[:0:0], value...), expires
		heap.Fix(&k.byExpiry, e.at)
	} else {
		e := &memoryEntry{Value: append([]byte(nil), value...), Expires: expires, key: key}
		k.m[key] = e
		heap.Push(&k.byExpiry, e)
	}
	k.expire(k.clock())
}

// expire drops the entries expired at now; the caller holds mu.
func (k *MemoryKeys) expire(now time.Time) {
	for len(k.byExpiry) > 0 && !now.Before(k.byExpiry[0].Expires) {
		e := heap.Pop(&k.byExpiry).(*memoryEntry)
		delete(k.m, e.key)
	}
}

// live returns the entries that have not expired, for saving.
func (k *MemoryKeys) live() map[string]memoryEntry {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.expire(k.clock())
	out := make(map[string]memoryEntry, len(k.m))
	for key, e := range k.m {
		out[key] = memoryEntry{Value: e.Value, Expires: e.Expires}
	}
	return out
}

// load puts back what live returned, dropping what has expired since.
func (k *MemoryKeys) load(entries map[string]memoryEntry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.clock()
	for key, e := range entries {
		if now.Before(e.Expires) {
			k.put(key, e.Value, e.Expires)
		}
	}
}
