package valkey

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"gridbot/core"
)

// An event read back from the compact log entry is what a JSON round trip
// of it gives, in every zone and with any text.
func TestLogEntryRoundTrip(t *testing.T) {
	china := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 12, 3, 15, 19, 9, 123456789, china)
	for _, ev := range []core.Event{
		{Kind: core.EventSubmitted, Actor: core.ActorResident, At: at},
		{Kind: core.EventAssigned, Actor: "system", At: at.UTC(), Data: map[string]string{core.DataAssignee: "gl-L01-a", core.DataPost: "A"}},
		{Kind: core.EventResolved, Actor: "gl-L01-b", At: at, Text: "已处理 \"引号\"\n换行\x00\x1f\u2028"},
		{Kind: core.EventResolved, Actor: "", At: at, Text: "only text"},
		{Kind: core.EventDelivered, Actor: "system", At: time.Date(2025, 1, 1, 0, 0, 0, 0, time.Local)},
		{Kind: core.EventDelivered, Actor: "system"}, // the zero time
		{Kind: core.EventDelivered, Actor: "system", At: time.Date(2300, 1, 1, 0, 0, 0, 1, china)},
		{Kind: core.EventDelivered, Actor: "system", At: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), Data: map[string]string{}},
	} {
		ev.Case, ev.Seq = "ST202612030001", 7
		tail, err := logTail(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeLogEntry(ev.Case, "[7"+tail)
		if err != nil {
			t.Fatalf("%s: %v", tail, err)
		}
		raw, _ := json.Marshal(ev)
		var want core.Event
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("entry [7%s\n got  %+v\n want %+v", tail, got, want)
		}
		packed, err := eventCodec.pack([]byte(tail))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decodeLogEntry(ev.Case, "[7"+string(packed)); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("compressed entry of [7%s\n got  %+v, %v\n want %+v", tail, got, err, want)
		}
		// An entry of the layout before reads as it did.
		old, err := decodeLogEntry("ignored", string(raw))
		if err != nil || !reflect.DeepEqual(old, want) {
			t.Errorf("old entry %s: %+v, %v", raw, old, err)
		}
	}
}

// Bad entries are errors, not events.
func TestLogEntryRejectsGarbage(t *testing.T) {
	for _, raw := range []string{"", "[", "[1,2]", `[1,"k","a","x"]`, `[1,"k","a",1,"notamap"]`, `{"seq":"x"}`} {
		if ev, err := decodeLogEntry("ST1", raw); err == nil {
			t.Errorf("%q decoded to %+v", raw, ev)
		}
	}
}

// A case and its marks read back as they were written, compressed to less
// than their JSON; plain JSON and the layouts before (a case alone, marks
// in a key of their own) read too, and a value with a tag this store does
// not know is an error, not an empty case.
func TestCaseAndMarksEncoding(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 6, 41, 312306477, time.FixedZone("", 8*3600))
	c := core.Case{Number: "ST202612030001", State: core.StateAssigned, Category: "road", Text: "路灯不亮",
		Location: &core.Location{Point: core.Point{Lat: 22.3, Lng: 112.5}, Label: "石桥村口"}, Village: "v01", Grid: "L01",
		Resident: "o1", Assignee: "gl-L01-a", Post: "A", Deadline: at, CreatedAt: at, UpdatedAt: at, Version: 3}
	m := core.FigureMarks{Number: c.Number, Month: "2026-12", Village: "v01", Grid: "L01", State: core.StateAssigned, Deadline: at}
	raw, err := encodeCase(&c, &m)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(c)
	plainMarks, _ := json.Marshal(m)
	if len(raw) >= (len(plain)+len(plainMarks))/2 {
		t.Errorf("case and marks stored in %d bytes, their JSON is %d", len(raw), len(plain)+len(plainMarks))
	}
	alone, err := caseCodec.pack(plain)
	if err != nil {
		t.Fatal(err)
	}
	for _, stored := range []struct {
		raw       []byte
		withMarks bool
	}{{raw, true}, {plain, false}, {alone, false}} {
		var got core.Case
		gotMarks, err := decodeCase(stored.raw, &got)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := json.Marshal(got); string(again) != string(plain) {
			t.Errorf("case read back as %s, want %s", again, plain)
		}
		if stored.withMarks != (gotMarks != nil) || (gotMarks != nil && !reflect.DeepEqual(*gotMarks, m)) {
			t.Errorf("marks read back as %+v, want %v", gotMarks, stored.withMarks)
		}
		if only, err := marksOf(stored.raw); err != nil || (only != nil) != stored.withMarks {
			t.Errorf("marksOf: %+v, %v", only, err)
		}
	}
	rawMarks, err := marksCodec.pack(plainMarks)
	if err != nil {
		t.Fatal(err)
	}
	var gotMarks core.FigureMarks
	if err := decodeMarks(rawMarks, &gotMarks); err != nil || !reflect.DeepEqual(gotMarks, m) {
		t.Errorf("marks of their own read back as %+v, %v", gotMarks, err)
	}
	for _, bad := range [][]byte{append([]byte{0x7f}, raw[1:]...), raw[:len(raw)/2], rawMarks} {
		var got core.Case
		if _, err := decodeCase(bad, &got); err == nil {
			t.Errorf("%q decoded to %+v", bad, got)
		}
	}
}
