package embedded

import (
	"container/heap"
	"context"
	"encoding/binary"
	"slices"
	"strconv"
	"sync"
	"time"
)

// MemoryKeys is a core.Ephemeral in memory: a map with expiry. It is the
// embedded store's ephemeral half, kept out of bbolt because an fsync per
// resident message would cap the bot at a few thousand messages a second
// (the store saves it to the file on Close and reads it back on Open, so a
// clean restart keeps open dialogs, as far as Options.SaveKeysWithin
// allows). Its zero value is ready, which makes it
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

// live returns the entries that have not expired, for saving, those that
// expire last first: if saving runs out of time, what is dropped is what
// would have expired soonest anyway.
func (k *MemoryKeys) live() []*memoryEntry {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.expire(k.clock())
	out := make([]*memoryEntry, 0, len(k.m))
	for _, e := range k.m {
		// Copies: the writes that go on after Close begins must not race
		// with the encoding.
		out = append(out, &memoryEntry{Value: e.Value, Expires: e.Expires, key: e.key})
	}
	slices.SortFunc(out, func(a, b *memoryEntry) int { return b.Expires.Compare(a.Expires) })
	return out
}

// The saved keys are written in chunks of about keyChunkSize bytes, each
// a run of entries (uvarint key length, key, uvarint value length, value,
// varint expiry in Unix nanoseconds), under an 8-byte big-endian chunk
// number. One bbolt entry per key cost a quadratic amount of work in one
// transaction (bbolt splits a node only at commit, so every random insert
// moved the whole growing node): 200,000 sessions took two minutes to save,
// past any stop timeout. A few large sequential values take well under a
// second.
const keyChunkSize = 1 << 20

// appendSavedKey encodes e onto buf.
func appendSavedKey(buf []byte, e *memoryEntry) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(e.key)))
	buf = append(buf, e.key...)
	buf = binary.AppendUvarint(buf, uint64(len(e.Value)))
	buf = append(buf, e.Value...)
	return binary.AppendVarint(buf, e.Expires.UnixNano())
}

// readSavedKeys decodes a chunk, calling fn for each entry; a malformed
// chunk ends early (the keys are disposable: a dialog starts over).
func readSavedKeys(chunk []byte, fn func(key string, value []byte, expires time.Time)) {
	for len(chunk) > 0 {
		n, w := binary.Uvarint(chunk)
		if w <= 0 || uint64(len(chunk)-w) < n {
			return
		}
		key := string(chunk[w : w+int(n)])
		chunk = chunk[w+int(n):]
		n, w = binary.Uvarint(chunk)
		if w <= 0 || uint64(len(chunk)-w) < n {
			return
		}
		value := append([]byte(nil), chunk[w:w+int(n)]...)
		chunk = chunk[w+int(n):]
		ns, w := binary.Varint(chunk)
		if w <= 0 {
			return
		}
		chunk = chunk[w:]
		fn(key, value, time.Unix(0, ns))
	}
}

// load puts back a saved key, unless it has expired since.
func (k *MemoryKeys) load(key string, value []byte, expires time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.clock().Before(expires) {
		k.put(key, value, expires)
	}
}

// Incr implements core.Counter under the same lock as every other key, so
// concurrent counts never lose one. A count is stored as decimal text, as
// the Valkey store keeps it, so Get reads the same on both.
func (k *MemoryKeys) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.clock()
	var n int64
	expires := now.Add(ttl)
	if e, ok := k.m[key]; ok && now.Before(e.Expires) {
		n, _ = strconv.ParseInt(string(e.Value), 10, 64)
		expires = e.Expires
	}
	n++
	k.put(key, []byte(strconv.FormatInt(n, 10)), expires)
	return n, nil
}

// Incr implements core.Counter.
func (s *Store) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	return s.keys.Incr(ctx, key, ttl)
}
