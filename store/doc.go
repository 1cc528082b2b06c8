// Package store names what a gridbot store is: the case ledger, the outbox
// that feeds the router, and the short-lived keys. Its subpackages are the
// implementations (embedded: one bbolt file; valkey: shared by many
// instances) and storetest, the behaviour suite every implementation passes.
package store

import "gridbot/core"

// Store is everything a deployment's store provides.
type Store interface {
	core.CaseStore
	core.Ephemeral
	core.Counter
	core.Records
	core.RecordPager
	core.AuditStore
	core.VisitStore
	Close() error
}
