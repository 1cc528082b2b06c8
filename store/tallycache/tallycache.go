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
// changes the version the next reader sees. Readers share the kept tally
// as core.CaseStore.Figures allows (copying ten thousand open cases'
// marks for each page was half the staff's CPU). A ledger taken back in
// time under a running instance (a Valkey snapshot restored, a failover
// that lost writes) can bring a version back with other contents: the
// kept tally is then shown until the next write moves the version. The
// zero Cache is empty and ready.
package tallycache

import (
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
	return c.tally, true
}

// Put keeps t, read at version.
func (c *Cache[V]) Put(version V, t core.FigureTally) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kept, c.version, c.tally = true, version, t
}
