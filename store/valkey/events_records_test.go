package valkey

import (
	"strconv"
	"testing"
)

// The constants the write script reads are those Go reads.
func TestSeqConstantsInLua(t *testing.T) {
	for _, tt := range []struct {
		lua  string
		want int
	}{{seqBucketLua, seqBucket}, {seqRecordLua, seqRecordLen}, {seqRecordsLua, seqBucket * seqRecordLen}} {
		if tt.lua != strconv.Itoa(tt.want) {
			t.Errorf("Lua reads %s, Go %d", tt.lua, tt.want)
		}
	}
	// 128 records and the longest head fit the allocator's 1 KiB class
	// with the string's header and terminator.
	if n := seqBucket*seqRecordLen + maxSeqHead + 4; n > 1024 {
		t.Errorf("a records string takes %d bytes, more than 1 KiB", n)
	}
}

// A number of the store's prefix has a reference that reads back to it;
// any other has none, and its events go to the hash.
func TestCaseRef(t *testing.T) {
	s := &Store{casePrefix: "KP"}
	for _, tt := range []struct {
		number string
		ref    bool
	}{
		{"KP202612030001", true},
		{"KP197001020001", true},
		{"KP202612039999", true},
		{"KP2026120316777215", true}, // the largest count three bytes hold
		{"KP2026120316777216", false},
		{"KP20261203001", false}, // fewer than four digits: not what FormatCaseNumber writes
		{"KP2026120300012", false},
		{"ST202612030001", false}, // another prefix
		{"KP202613030001", false}, // no such day
		{"KP196912310001", false}, // before 1970
		{"KP218001010001", false}, // past two bytes of days
		{"KP", false},
		{"", false},
	} {
		ref := s.caseRef(tt.number)
		if (ref != "") != tt.ref {
			t.Errorf("caseRef(%q) = %q, want a reference: %v", tt.number, ref, tt.ref)
			continue
		}
		if ref == "" {
			continue
		}
		raw := s.seqHead() + string(make([]byte, seqBucket*seqRecordLen))
		rec := []byte(raw)
		at := len(s.seqHead()) + 5*seqRecordLen
		copy(rec[at:], ref+"\x01\x02")
		got, err := seqRecords(string(rec), 3, 0, nil)
		if err != nil || len(got) != 1 {
			t.Fatalf("records of %q: %+v, %v", tt.number, got, err)
		}
		if r := got[0]; r.number != tt.number || r.pos != 0x0102 || r.seq != 3*seqBucket+5 {
			t.Errorf("record of %q reads %+v", tt.number, r)
		}
	}
	if head := (&Store{casePrefix: string(make([]byte, maxSeqHead))}).seqHead(); head != "" {
		t.Errorf("a prefix too long for a head has head %q", head)
	}
	if _, err := seqRecords("\x09KP", 0, 0, nil); err == nil {
		t.Error("a head longer than its string reads")
	}
}
