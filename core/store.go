package core

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// CaseQuery selects cases. Zero fields do not filter.
type CaseQuery struct {
	Resident string
	States   []State
	Grids    []string // any of these grids
	// Department selects the cases whistled to that department.
	Department string
	// Category selects one category's cases; with Places (any of these
	// places, places.go) and only open states asked for, stores read the
	// index of open cases by category and place instead of walking.
	Category string
	Places   []string
	// Search, when not empty, keeps the cases it matches as someone who
	// may read their personal data would (CaseSearch.Match; Keep then
	// decides what the searcher may see): stores read their word index
	// (SearchIndex) for the cases carrying the search's terms instead of
	// walking.
	Search CaseSearch
	// Within, when not empty, keeps only the cases in at least one of its
	// scopes (Town.Reach: what a staff member may see): stores merge the
	// scopes' indexes newest first instead of walking every case.
	Within []CaseScope
	// Before, when set, lists only the cases numbered below it: the page
	// after the one that ended with it.
	Before string
	// Keep, when set, is a further filter the store applies as it walks,
	// so that Limit counts only the cases kept: a page of a filtered list
	// reads until the page is full, not the whole ledger.
	Keep  func(*Case) bool
	Limit int // 0 means the store's default
}

// Match reports whether c passes the query's filters (Limit aside). Stores
// use it so that every implementation filters alike; a store may narrow the
// candidates with an index first.
func (q CaseQuery) Match(c *Case) bool {
	return (len(q.States) == 0 || slices.Contains(q.States, c.State)) &&
		(len(q.Grids) == 0 || slices.Contains(q.Grids, c.Grid)) &&
		(q.Resident == "" || c.Resident == q.Resident) &&
		(q.Department == "" || c.Assist(q.Department) != nil) &&
		(q.Category == "" || c.Category == q.Category) &&
		(len(q.Places) == 0 || inPlaces(c, q.Places)) &&
		(q.Search.Empty() || q.Search.Match(c, true)) &&
		(len(q.Within) == 0 || slices.ContainsFunc(q.Within, func(sc CaseScope) bool { return sc.Match(c) })) &&
		(q.Before == "" || c.Number < q.Before) &&
		(q.Keep == nil || q.Keep(c))
}

// CaseStore keeps cases and their event logs. Every write that changes a case
// appends its events and hands them to the router in the same atomic write,
// so nothing acknowledged is lost between "saved" and "announced".
type CaseStore interface {
	// CreateCase numbers c (by the day c.CreatedAt reads in its own
	// location, the town's zone), stores it with first, and announces first.
	// It returns the stored case and event (with Number and Seq set). If
	// c.SubmitKey is set and the resident already has a case filed with
	// it, CreateCase writes nothing and returns that case and a zero Event.
	CreateCase(ctx context.Context, c Case, first Event) (Case, Event, error)
	// Case returns the case with number, or ErrNotFound.
	Case(ctx context.Context, number string) (Case, error)
	// Cases lists the cases that match q, newest first. Stores walk an
	// index kept in the same write as the case: the resident's cases, the
	// cases not closed (when q asks only for such states), one grid's, or
	// else every case.
	Cases(ctx context.Context, q CaseQuery) ([]Case, error)
	// CountCases counts the cases in each state (every state present, zero
	// or not) from counters kept in each write: its cost does not grow
	// with the ledger.
	CountCases(ctx context.Context) (map[State]int, error)
	// Events returns the case's log in order.
	Events(ctx context.Context, number string) ([]Event, error)
	// UpdateCase reads the case, lets change edit it and return the events
	// that record the edit, and writes both atomically. If change returns an
	// error nothing is written and the error is returned (ErrNoChange is how
	// an idempotent step says "already done").
	UpdateCase(ctx context.Context, number string, change func(*Case) ([]Event, error)) (Case, []Event, error)
	// UpdateCases is UpdateCase for several cases (numbers, distinct; see
	// CheckCaseNumbers) in one atomic write: change edits them, in the
	// order of numbers, and returns each one's events; every case must
	// have some (else ErrNoChange). Either all are written or none: a step
	// that changes two cases, such as merging, can never be left half
	// done by a crash.
	UpdateCases(ctx context.Context, numbers []string, change func([]*Case) ([][]Event, error)) ([]Case, [][]Event, error)
	// EventsSince returns up to limit events of any case with a sequence
	// number above seq, in order: what a reconnecting console missed.
	EventsSince(ctx context.Context, seq uint64, limit int) ([]Event, error)
	// Figures returns the figures' counters, kept in the same write as
	// each event by FigureRule.Mark, and the marks of the cases not
	// closed: what RatesOf and MonthlyLedgerOf read, at a cost that grows
	// with the cells and the open cases, not the ledger. The tally may be
	// shared with other readers until a write: read it, never change it.
	Figures(ctx context.Context) (FigureTally, error)
	// RetentionIndex lists the closed cases still holding personal data,
	// oldest first (retention_rule.go).
	RetentionIndex
}

// MaxCasesPerWrite bounds the cases one UpdateCases writes.
const MaxCasesPerWrite = 8

// CheckCaseNumbers checks the numbers UpdateCases is given: at least one,
// at most MaxCasesPerWrite, none empty and none twice (ErrInvalid).
func CheckCaseNumbers(numbers []string) error {
	if len(numbers) == 0 || len(numbers) > MaxCasesPerWrite {
		return fmt.Errorf("%d cases in one write: %w", len(numbers), ErrInvalid)
	}
	for i, n := range numbers {
		if n == "" || slices.Contains(numbers[:i], n) {
			return fmt.Errorf("case %q in one write: %w", n, ErrInvalid)
		}
	}
	return nil
}

// Records keeps small durable records that are not cases, in namespaces:
// staff bindings and leave, registered households, staff accounts made on
// the console. Unlike Ephemeral, a record survives a crash and never expires.
type Records interface {
	// Record returns the value and true, or false when there is none.
	Record(ctx context.Context, ns, key string) ([]byte, bool, error)
	// PutRecord stores value under ns/key.
	PutRecord(ctx context.Context, ns, key string, value []byte) error
	// DeleteRecord removes ns/key; a missing record is not an error.
	DeleteRecord(ctx context.Context, ns, key string) error
	// RecordsIn returns every record of a namespace. It is for small
	// namespaces, and may be asked on every message: stores may keep the
	// answer, so the map is to read, not to modify.
	RecordsIn(ctx context.Context, ns string) (map[string][]byte, error)
}

// Outbox is the embedded store's side of "announce atomically": events wait
// here until the router's handlers have finished them.
type Outbox interface {
	// PendingEvents returns up to limit events still in the outbox, oldest
	// first.
	PendingEvents(ctx context.Context, limit int) ([]Event, error)
	// PendingEventsAfter is PendingEvents from the first event numbered
	// above seq: the relay reads past what it has published and not yet
	// seen finished.
	PendingEventsAfter(ctx context.Context, seq uint64, limit int) ([]Event, error)
	// AckEvents removes finished events from the outbox.
	AckEvents(ctx context.Context, seqs ...uint64) error
	// OutboxReady is signalled after a write adds to the outbox.
	OutboxReady() <-chan struct{}
}

// Ephemeral keeps small values that expire: dialog sessions, dedupe marks,
// console logins. Writes here need not survive a crash of an embedded
// instance; they must be cheap, as they happen on every message.
type Ephemeral interface {
	// Get returns the value and true, or false if it is missing or expired.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores value under key for ttl.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetNX stores value only if key is absent, and reports whether it did.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}
