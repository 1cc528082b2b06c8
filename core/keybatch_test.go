package core

import (
	"context"
	"errors"
	"testing"
)

func TestReadAhead(t *testing.T) {
	ctx := context.Background()
	if _, ok := ReadAhead(ctx, "a"); ok {
		t.Fatal("found a key nothing read")
	}
	boom := errors.New("boom")
	ctx = WithReadAhead(ctx, KeyOp{Kind: KeyGet, Key: "a", Got: []byte("1"), OK: true})
	ctx = WithReadAhead(ctx, KeyOp{Kind: KeyGet, Key: "b", Err: boom})
	tests := []struct {
		key       string
		ok, found bool
		got       string
		err       error
	}{
		{key: "a", ok: true, found: true, got: "1"},
		{key: "b", ok: true, err: boom},
		{key: "c"},
	}
	for _, tt := range tests {
		op, ok := ReadAhead(ctx, tt.key)
		if ok != tt.ok || op.OK != tt.found || string(op.Got) != tt.got || !errors.Is(op.Err, tt.err) {
			t.Errorf("ReadAhead(%q) = %+v, %v", tt.key, op, ok)
		}
	}
}

func TestKeyWrites(t *testing.T) {
	op := KeyOp{Kind: KeySet, Key: "session:o", Value: []byte("s")}
	if DeferKeyWrite(context.Background(), op) {
		t.Fatal("a write deferred with nobody to run it")
	}
	ctx, w := WithKeyWrites(context.Background())
	if !DeferKeyWrite(ctx, op) {
		t.Fatal("write not deferred")
	}
	if got := w.Take(); len(got) != 1 || got[0].Key != op.Key {
		t.Fatalf("Take = %+v", got)
	}
	// After Take the owner has sent its batch: a late writer must write
	// for itself, or its write would be lost.
	if DeferKeyWrite(ctx, op) {
		t.Fatal("write deferred after Take")
	}
	if got := w.Take(); len(got) != 0 {
		t.Fatalf("second Take = %+v", got)
	}
}
