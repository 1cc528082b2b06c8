package routing

import (
	"testing"
	"time"

	"gridbot/core"
)

// A push's client_msg_id is the same for a retry of it, and differs from any
// other push: another recipient, another event, and another store's event
// that happens to have the same case number and sequence number.
func TestPushKey(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 0, 0, 123456789, time.UTC)
	ev := core.Event{Seq: 7, Case: "ST202611250001", At: at}
	key := pushKey(ev, "gl-L10-a")
	if again := pushKey(ev, "gl-L10-a"); again != key {
		t.Fatalf("a retry's key %s differs from %s", again, key)
	}
	if len(key) > 64 {
		t.Fatalf("key %q is longer than WeChat takes", key)
	}
	other := map[string]string{
		"recipient":   pushKey(ev, "gl-L10-b"),
		"event":       pushKey(core.Event{Seq: 8, Case: ev.Case, At: at}, "gl-L10-a"),
		"other store": pushKey(core.Event{Seq: 7, Case: ev.Case, At: at.Add(time.Nanosecond)}, "gl-L10-a"),
	}
	for what, k := range other {
		if k == key {
			t.Errorf("another %s, the same key %s", what, k)
		}
	}
}
