package valkey

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store/valuecodec"
)

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
	alone, err := valuecodec.Case.Pack(plain)
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
	rawMarks, err := valuecodec.Marks.Pack(plainMarks)
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
