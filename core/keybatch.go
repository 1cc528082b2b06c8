package core

import (
	"context"
	"sync"
	"time"
)

// KeyOpKind is what a KeyOp does.
type KeyOpKind uint8

// The operations of a KeyOp, each as its Ephemeral method.
const (
	KeyGet KeyOpKind = iota + 1
	KeySet
	KeySetNX
	KeyDelete
)

// KeyOp is one Ephemeral operation of a batch, with its result.
type KeyOp struct {
	Kind  KeyOpKind
	Key   string
	Value []byte        // KeySet, KeySetNX
	TTL   time.Duration // KeySet, KeySetNX

	// Set by the batch:
	Got []byte // KeyGet: the value
	OK  bool   // KeyGet: the key was there; KeySetNX: the value was stored
	Err error
}

// KeyBatcher is an Ephemeral that can send several operations in one round
// trip: what a remote store offers so that a message's reads and writes
// cost one wait instead of several. The operations are not atomic together;
// each behaves as its own method would.
type KeyBatcher interface {
	Batch(ctx context.Context, ops []KeyOp)
}

// BatchKeys runs ops on e, in one round trip when e is a KeyBatcher and one
// by one otherwise, setting each op's results.
func BatchKeys(ctx context.Context, e Ephemeral, ops []KeyOp) {
	if b, ok := e.(KeyBatcher); ok {
		b.Batch(ctx, ops)
		return
	}
	for i := range ops {
		op := &ops[i]
		switch op.Kind {
		case KeyGet:
			op.Got, op.OK, op.Err = e.Get(ctx, op.Key)
		case KeySet:
			op.Err = e.Set(ctx, op.Key, op.Value, op.TTL)
		case KeySetNX:
			op.OK, op.Err = e.SetNX(ctx, op.Key, op.Value, op.TTL)
		case KeyDelete:
			op.Err = e.Delete(ctx, op.Key)
		}
	}
}

// readAheadKey carries values read ahead to the code that needs them.
type readAheadKey struct{}

// readAhead is one key read ahead, and those read before it.
type readAhead struct {
	op   KeyOp
	next *readAhead
}

// WithReadAhead returns ctx carrying op (a KeyGet already run), so that the
// code answering the same request finds its result with ReadAhead instead of
// asking the store again.
func WithReadAhead(ctx context.Context, op KeyOp) context.Context {
	next, _ := ctx.Value(readAheadKey{}).(*readAhead)
	return context.WithValue(ctx, readAheadKey{}, &readAhead{op: op, next: next})
}

// ReadAhead returns the KeyGet of key carried in ctx (WithReadAhead), with
// its result; ok is false when key was not read ahead.
func ReadAhead(ctx context.Context, key string) (op KeyOp, ok bool) {
	for r, _ := ctx.Value(readAheadKey{}).(*readAhead); r != nil; r = r.next {
		if r.op.Key == key {
			return r.op, true
		}
	}
	return KeyOp{}, false
}

// KeyWrites collects the Ephemeral writes of one request that its owner
// sends later in one batch with its own (WithKeyWrites). It is safe for
// concurrent use; once taken it accepts no more.
type KeyWrites struct {
	mu    sync.Mutex
	ops   []KeyOp
	taken bool
}

type keyWritesKey struct{}

// WithKeyWrites returns ctx carrying a new KeyWrites: code that writes
// under ctx may leave its writes to the caller (DeferKeyWrite), which must
// then run them (Take) before it answers, and treat their failure as its own.
func WithKeyWrites(ctx context.Context) (context.Context, *KeyWrites) {
	w := &KeyWrites{}
	return context.WithValue(ctx, keyWritesKey{}, w), w
}

// DeferKeyWrite leaves op to the KeyWrites in ctx and reports whether it
// did; false means the caller must write it itself.
func DeferKeyWrite(ctx context.Context, op KeyOp) bool {
	w, _ := ctx.Value(keyWritesKey{}).(*KeyWrites)
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.taken {
		return false
	}
	w.ops = append(w.ops, op)
	return true
}

// Take returns the writes left so far; later ones are refused, so a
// responder still running after its caller gave up writes for itself.
func (w *KeyWrites) Take() []KeyOp {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.taken = true
	ops := w.ops
	w.ops = nil
	return ops
}
