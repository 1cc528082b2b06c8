package embedded

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// errClosed answers writes after Close.
var errClosed = errors.New("store closed")

// maxGroup bounds the writes one transaction carries.
const maxGroup = 256

// groupCommit runs the store's writes on one goroutine and commits every
// write waiting at that moment in one bbolt transaction: one fsync for a
// group instead of one each. bbolt serialises writers anyway, so under load
// the writes queued behind a commit used to wait one fsync apiece; now they
// share the next. Alone, a write costs what it did (no delay is added to
// gather a group, unlike bolt.DB.Batch's 10 ms).
//
// Semantics are Update's: each write sees the effects of the ones before it,
// and returns only once it is durable. A write that fails is taken out of
// its group, whose transaction is rolled back and retried without it; the
// failed write then runs alone for its own error, so a write's failure never
// affects another, and each function may run more than once (as with
// bolt.DB.Batch, it must only set what it returns).
type groupCommit struct {
	db    *bolt.DB
	calls chan *writeCall
	stop  chan struct{}
	done  chan struct{}
	// mu guards closed: no write is queued once close has begun, so the
	// loop's last drain sees every queued write.
	mu     sync.RWMutex
	closed bool
}

type writeCall struct {
	fn  func(*bolt.Tx) error
	err chan error
}

func newGroupCommit(db *bolt.DB) *groupCommit {
	g := &groupCommit{db: db, calls: make(chan *writeCall, maxGroup), stop: make(chan struct{}), done: make(chan struct{})}
	go g.loop()
	return g
}

// update runs fn in a write transaction, possibly shared with others, and
// returns once it is committed.
func (g *groupCommit) update(fn func(*bolt.Tx) error) error {
	c := &writeCall{fn: recovered(fn), err: make(chan error, 1)}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return errClosed
	}
	g.calls <- c
	g.mu.RUnlock()
	return <-c.err
}

func (g *groupCommit) loop() {
	defer close(g.done)
	for {
		select {
		case c := <-g.calls:
			g.commit(g.gather(c))
		case <-g.stop:
			// Writes that made it into the queue are still done.
			for {
				select {
				case c := <-g.calls:
					g.commit(g.gather(c))
				default:
					return
				}
			}
		}
	}
}

// gather takes first and whatever else is waiting, up to maxGroup.
func (g *groupCommit) gather(first *writeCall) []*writeCall {
	group := []*writeCall{first}
	for len(group) < maxGroup {
		select {
		case c := <-g.calls:
			group = append(group, c)
		default:
			return group
		}
	}
	return group
}

func (g *groupCommit) commit(group []*writeCall) {
	for len(group) > 0 {
		if len(group) == 1 {
			group[0].err <- g.db.Update(filled(group[0].fn))
			return
		}
		failed := -1
		err := g.db.Update(func(tx *bolt.Tx) error {
			setFill(tx)
			for i, c := range group {
				if err := c.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			// Committed, or the commit itself failed: the same for all.
			for _, c := range group {
				c.err <- err
			}
			return
		}
		// Take the failed write out; it runs alone at the end, after the
		// rest, for its own answer.
		bad := group[failed]
		group = append(group[:failed:failed], group[failed+1:]...)
		defer func() { bad.err <- g.db.Update(filled(bad.fn)) }()
	}
}

// close stops taking writes, finishes those queued and waits.
func (g *groupCommit) close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.stop)
	}
	g.mu.Unlock()
	<-g.done
}

// filled runs fn with the buckets' fill set (pages.go).
func filled(fn func(*bolt.Tx) error) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		setFill(tx)
		return fn(tx)
	}
}

// recovered turns a panic in fn into its error: the writer goroutine must
// outlive a bad write, and the caller gets the failure as before.
func recovered(fn func(*bolt.Tx) error) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("store write panicked: %v", p)
			}
		}()
		return fn(tx)
	}
}
