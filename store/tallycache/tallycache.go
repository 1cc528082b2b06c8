// Package tallycache keeps the last figures tally a store read
// (core.CaseStore.Figures), labelled with the version of the ledger it was
// read at: the embedded file's transaction, a counter every Valkey write
// bumps. Every figures page and the board read the tally, and an office
// at work asks for them again and again between two writes; reading and
// parsing the counters and every open case's marks each time was most of
// the staff's CPU at a million cases (docs/benchmarks.md).
//
// A store reads its version first and the tally after, in that order: a
// tally is then at least as new as its label, and any write after it
// changes the version the next reader sees. The zero Cache is empty and
// ready.
package tallycache

import (
	"maps"
	"slices"
	"sync"

	"gridbot/core"
)

// Cache holds one tally and the version it was read at.
type Cache[V comparable] struct {
	mu      sync.Mutex
	kept    bool
	version V
	tally   core.FigureTally
}

// Get returns the tally kept for version, if it is the one kept.
func (c *Cache[V]) Get(version V) (core.FigureTally, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.kept || c.version != version {
		return core.FigureTally{}, false
	}
	return share(c.tally), true
}

// Put keeps t, read at version, and returns it for the caller to hand out.
func (c *Cache[V]) Put(version V, t core.FigureTally) core.FigureTally {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kept, c.version, c.tally = true, version, t
	return share(t)
}

// share is what a reader gets of a kept tally: cells and marks of its
// own, copied (a few megabytes at ten thousand open cases, well under a
// millisecond); the slices inside each marks are shared, which core only
// reads, as the stores' caches of decoded marks share them.
func share(t core.FigureTally) core.FigureTally {
	return core.FigureTally{Cells: maps.Clone(t.Cells), Live: slices.Clone(t.Live), Callbacks: slices.Clone(t.Callbacks)}
}
