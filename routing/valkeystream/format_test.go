package valkeystream

import (
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
)

func TestEntryRoundTrip(t *testing.T) {
	msg := message.NewMessage("42", []byte(`{"seq":42}`))
	msg.Metadata.Set("kind", "submitted")
	fields, err := EntryFields(msg)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for i := 0; i < len(fields); i += 2 {
		m[fields[i]] = fields[i+1]
	}
	got, err := MessageFromFields(m)
	if err != nil || got.UUID != "42" || string(got.Payload) != `{"seq":42}` || got.Metadata.Get("kind") != "submitted" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, bad := range []map[string]string{{}, {FieldUUID: "1", FieldMetadata: "{"}} {
		if _, err := MessageFromFields(bad); err == nil {
			t.Errorf("MessageFromFields(%v) accepted", bad)
		}
	}
	if StreamKey("gb:", "case.events") != "gb:{gb}:stream:case.events" {
		t.Fatal(StreamKey("gb:", "case.events"))
	}
}
