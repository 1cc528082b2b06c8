// Package audit keeps gridbot's audit trail (安全审计): the records of who
// logged in, who read which resident's data, who exported, backed up or
// administered what, chained by SM3 hashes so that an edited or a deleted
// record is found by Verify (`gridbot audit verify`). The records live in
// the store (core.AuditStore, both stores); this package seals, checks,
// searches and trims them.
package audit

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"gridbot/core"
)

// Trail records and reads the audit trail. It implements core.Auditor.
type Trail struct {
	Store core.AuditStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log reports records that could not be written; nil logs nothing.
	Log *slog.Logger
}

func (t *Trail) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Record appends r to the trail, stamped with the time, numbered and
// chained to the record before.
func (t *Trail) Record(ctx context.Context, r core.AuditRecord) error {
	if r.At.IsZero() {
		r.At = t.now()
	}
	r.At = r.At.UTC().Truncate(time.Millisecond)
	if r.Outcome == "" {
		r.Outcome = core.AuditOK
	}
	_, err := t.Store.AppendAudit(ctx, func(last core.AuditRecord) (core.AuditRecord, error) {
		return Seal(last, r), nil
	})
	if err != nil {
		if t.Log != nil {
			t.Log.ErrorContext(ctx, "audit record not written", "action", r.Action, "actor", r.Actor, "err", err)
		}
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Seal numbers r after last and chains it: Prev is last's hash, Hash
// r's own.
func Seal(last, r core.AuditRecord) core.AuditRecord {
	r.Seq = last.Seq + 1
	r.Prev = last.Hash
	r.Hash = Hash(r)
	return r
}

// Hash is the SM3 hash of r's every field but Hash itself, each written
// with its length, so that no two records share an encoding.
func Hash(r core.AuditRecord) string {
	h := sm3.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(strconv.FormatUint(r.Seq, 10))
	field(r.At.UTC().Format(time.RFC3339Nano))
	field(r.Actor)
	field(r.Addr)
	field(string(r.Action))
	field(r.Object)
	field(string(r.Outcome))
	field(r.Detail)
	field(r.Prev)
	return hex.EncodeToString(h.Sum(nil))
}

// Break is where Verify found the chain broken.
type Break struct {
	Seq    uint64 // the record at fault, or the first after a gap
	Reason string
}

// Report is what Verify found.
type Report struct {
	Records uint64 // records checked
	First   uint64 // the first kept record's number (after the anchor)
	Last    uint64 // the last record's number
	Head    string // the last record's hash: write it down to detect a rewrite of the whole tail
	Breaks  []Break
}

// OK reports whether the chain is whole.
func (r Report) OK() bool { return len(r.Breaks) == 0 }

// verifyPage is how many records Verify reads at a time.
const verifyPage = 1000

// Verify walks the whole trail from the anchor and reports every record
// whose hash is not its content's (edited), whose Prev is not the hash of
// the record before (edited or inserted), and every gap in the numbers
// (deleted).
func (t *Trail) Verify(ctx context.Context) (Report, error) {
	prev, err := t.Store.AuditAnchor(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("audit anchor: %w", err)
	}
	if prev.Seq > 0 && prev.Hash != Hash(prev) {
		return Report{}, errors.New("audit anchor: its hash does not match its content")
	}
	rep := Report{First: prev.Seq + 1, Last: prev.Seq, Head: prev.Hash}
	after := prev.Seq
	for {
		recs, err := t.Store.AuditRecords(ctx, after, verifyPage)
		if err != nil {
			return rep, fmt.Errorf("audit records after %d: %w", after, err)
		}
		for _, r := range recs {
			rep.Records++
			switch {
			case r.Seq != prev.Seq+1:
				rep.Breaks = append(rep.Breaks, Break{Seq: r.Seq,
					Reason: fmt.Sprintf("records %d to %d are missing (deleted)", prev.Seq+1, r.Seq-1)})
			case r.Prev != prev.Hash:
				rep.Breaks = append(rep.Breaks, Break{Seq: r.Seq,
					Reason: fmt.Sprintf("does not chain to record %d (it or the one before was edited)", prev.Seq)})
			}
			if r.Hash != Hash(r) {
				rep.Breaks = append(rep.Breaks, Break{Seq: r.Seq, Reason: "its content does not match its hash (edited)"})
			}
			prev = r
		}
		if len(recs) < verifyPage {
			break
		}
		after = recs[len(recs)-1].Seq
	}
	rep.Last, rep.Head = prev.Seq, prev.Hash
	return rep, nil
}

// searchPage is how many records Search reads at a time.
const searchPage = 2000

// Search returns the records q matches, newest first, at most limit of
// them (limit ≤ 0: 500), and whether more matched.
func (t *Trail) Search(ctx context.Context, q core.AuditQuery, limit int) ([]core.AuditRecord, bool, error) {
	if limit <= 0 {
		limit = 500
	}
	// The trail is read in order and the newest kept; a ring of limit+1
	// holds the newest matches without keeping them all.
	var found []core.AuditRecord
	more := false
	anchor, err := t.Store.AuditAnchor(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("audit anchor: %w", err)
	}
	after := anchor.Seq
	for {
		recs, err := t.Store.AuditRecords(ctx, after, searchPage)
		if err != nil {
			return nil, false, fmt.Errorf("audit records: %w", err)
		}
		for _, r := range recs {
			if !q.Match(r) {
				continue
			}
			found = append(found, r)
			if len(found) > limit {
				found = found[1:]
				more = true
			}
		}
		if len(recs) < searchPage {
			break
		}
		after = recs[len(recs)-1].Seq
	}
	for i, j := 0, len(found)-1; i < j; i, j = i+1, j-1 {
		found[i], found[j] = found[j], found[i]
	}
	return found, more, nil
}

// Trim removes the records older than keep (at least core.AuditKeepMin:
// a shorter keep is raised to it), and reports how many went.
func (t *Trail) Trim(ctx context.Context, keep time.Duration) (int, error) {
	keep = max(keep, core.AuditKeepMin)
	n, err := t.Store.TrimAudit(ctx, t.now().Add(-keep))
	if err != nil {
		return n, fmt.Errorf("audit trim: %w", err)
	}
	return n, nil
}
