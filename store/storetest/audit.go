package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"gridbot/audit"
	"gridbot/core"
	"gridbot/store"
)

// testAuditChain: records come back in order, numbered from 1, each
// chained to the one before, and reading after a number pages.
func testAuditChain(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	trail := &audit.Trail{Store: s, Now: clock.Now}
	for i := range 5 {
		if err := trail.Record(ctx, core.AuditRecord{Actor: "lead1", Addr: "10.0.0.1", Action: core.AuditViewCase,
			Object: fmt.Sprintf("ST-%d", i), Detail: "含电话"}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.AuditRecords(ctx, 0, 100)
	if err != nil || len(recs) != 5 {
		t.Fatalf("records: %v %d", err, len(recs))
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.Object != fmt.Sprintf("ST-%d", i) || r.Hash != audit.Hash(r) {
			t.Fatalf("record %d: %+v", i, r)
		}
		if i > 0 && r.Prev != recs[i-1].Hash {
			t.Fatalf("record %d does not chain: %+v", i, r)
		}
	}
	page, err := s.AuditRecords(ctx, 3, 1)
	if err != nil || len(page) != 1 || page[0].Seq != 4 {
		t.Fatalf("page after 3: %v %+v", err, page)
	}
	rep, err := trail.Verify(ctx)
	if err != nil || !rep.OK() || rep.Records != 5 || rep.Head != recs[4].Hash {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	// A seal that numbers wrongly writes nothing.
	if _, err := s.AppendAudit(ctx, func(last core.AuditRecord) (core.AuditRecord, error) {
		r := audit.Seal(last, core.AuditRecord{Actor: "x", Action: core.AuditLogin})
		r.Seq = 1
		return r, nil
	}); err == nil {
		t.Fatal("a record numbered out of order was appended")
	}
	if recs, _ := s.AuditRecords(ctx, 0, 100); len(recs) != 5 {
		t.Fatalf("%d records after a refused append", len(recs))
	}
}

// testAuditConcurrent: appends at once from many goroutines lose nothing
// and leave one unbroken chain.
func testAuditConcurrent(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	trail := &audit.Trail{Store: s, Now: clock.Now}
	var wg sync.WaitGroup
	const n = 40
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := trail.Record(ctx, core.AuditRecord{Actor: fmt.Sprint("s", i), Action: core.AuditLogin}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rep, err := trail.Verify(ctx)
	if err != nil || !rep.OK() || rep.Records != n {
		t.Fatalf("verify after %d appends at once: %v %+v", n, err, rep)
	}
}

// testAuditTrim: a trim removes the old records only, the anchor keeps
// the chain checkable, and appends go on from the last record.
func testAuditTrim(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	trail := &audit.Trail{Store: s, Now: clock.Now}
	for range 3 {
		if err := trail.Record(ctx, core.AuditRecord{Actor: "old", Action: core.AuditLogin}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(200 * 24 * time.Hour)
	for range 2 {
		if err := trail.Record(ctx, core.AuditRecord{Actor: "new", Action: core.AuditLogin}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := trail.Trim(ctx, time.Hour) // raised to core.AuditKeepMin
	if err != nil || n != 3 {
		t.Fatalf("trim: %d %v", n, err)
	}
	if n, err := trail.Trim(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("second trim: %d %v", n, err)
	}
	anchor, err := s.AuditAnchor(ctx)
	if err != nil || anchor.Seq != 3 {
		t.Fatalf("anchor: %v %+v", err, anchor)
	}
	if err := trail.Record(ctx, core.AuditRecord{Actor: "newer", Action: core.AuditLogin}); err != nil {
		t.Fatal(err)
	}
	rep, err := trail.Verify(ctx)
	if err != nil || !rep.OK() || rep.Records != 3 || rep.First != 4 || rep.Last != 6 {
		t.Fatalf("verify after trim: %v %+v", err, rep)
	}
}
