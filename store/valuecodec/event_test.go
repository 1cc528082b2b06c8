package valuecodec

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
		tail, err := EventTail(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeEntry(ev.Case, "[7"+tail)
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
		packed, err := Event.Pack([]byte(tail))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := DecodeEntry(ev.Case, "[7"+string(packed)); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("compressed entry of [7%s\n got  %+v, %v\n want %+v", tail, got, err, want)
		}
		// An entry of the layout before reads as it did.
		old, err := DecodeEntry("ignored", string(raw))
		if err != nil || !reflect.DeepEqual(old, want) {
			t.Errorf("old entry %s: %+v, %v", raw, old, err)
		}
	}
}

// Bad entries are errors, not events.
func TestLogEntryRejectsGarbage(t *testing.T) {
	for _, raw := range []string{"", "[", "[1,2]", `[1,"k","a","x"]`, `[1,"k","a",1,"notamap"]`, `{"seq":"x"}`} {
		if ev, err := DecodeEntry("ST1", raw); err == nil {
			t.Errorf("%q decoded to %+v", raw, ev)
		}
	}
}
