package valkey

import (
	"hash/maphash"
	"sync"

	"gridbot/core"
)

// Every figures page reads the marks of every case not closed (about a
// thousand at 100,000 cases; the callbacks waiting are a hash of their
// own, figures_gridwork.go), each expanded from its case's compressed value and parsed: with 20 staff on
// the figures that was half the server's CPU at 10,000 cases, taken from
// the residents. The values seldom change between two pages, so the marks
// parsed last are kept by case number with a hash of the value they came
// from, and a value read again unchanged is not expanded again.
//
// What one read uses replaces what the read before kept (marksRead), so
// the cache holds the cases of one figures page, no more. The marks handed
// out share their slices with the cache: core reads them and never
// changes them.

type marksCache struct {
	seed maphash.Seed
	mu   sync.Mutex
	last map[string]cachedMarks // never changed once published
}

type cachedMarks struct {
	sum   uint64
	marks *core.FigureMarks
}

func newMarksCache() *marksCache { return &marksCache{seed: maphash.MakeSeed()} }

// marksRead is one figures page's use of the cache.
type marksRead struct {
	c    *marksCache
	last map[string]cachedMarks
	next map[string]cachedMarks
}

func (c *marksCache) read() *marksRead {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &marksRead{c: c, last: c.last, next: make(map[string]cachedMarks, len(c.last))}
}

// of returns the marks stored in raw, the value of case number's key, as
// marksOf does (nil when they are in a key of their own).
func (r *marksRead) of(number string, raw []byte) (*core.FigureMarks, error) {
	sum := maphash.Bytes(r.c.seed, raw)
	if got, ok := r.last[number]; ok && got.sum == sum {
		r.next[number] = got
		return got.marks, nil
	}
	m, err := marksOf(raw)
	if err != nil || m == nil {
		return m, err
	}
	r.next[number] = cachedMarks{sum: sum, marks: m}
	return m, nil
}

// done keeps what this read used for the next.
func (r *marksRead) done() {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.c.last = r.next
}
