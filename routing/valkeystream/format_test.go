package valkeystream

import (
	"strings"
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
	if got := TaggedStreamKey("p:", "gb:chikan", "case.events"); got != "p:{gb:chikan}:stream:case.events" {
		t.Fatal(got)
	}
}

func TestCheckTag(t *testing.T) {
	for _, tt := range []struct {
		tag string
		ok  bool
	}{
		{"gb", true}, {"gb:chikan", true}, {"gb:town-2_b.x", true}, {strings.Repeat("a", 64), true},
		{"", false}, {"gb}", false}, {"{gb", false}, {"gb:赤坎", false}, {"gb chikan", false}, {"gb\n", false},
		{strings.Repeat("a", 65), false},
	} {
		if err := CheckTag(tt.tag); (err == nil) != tt.ok {
			t.Errorf("CheckTag(%q) = %v, want ok %v", tt.tag, err, tt.ok)
		}
	}
}
