// Package core holds gridbot's domain: the town and its grids, staff and
// categories, the case and its event log, the ledger that moves a case through
// its states, and the interfaces the stores and adapters implement.
//
// It imports nothing of the project and only the standard library, so every
// other package can depend on it and it can be read on its own.
package core
