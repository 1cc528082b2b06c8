package bot

import (
	"encoding/json"
	"testing"
	"time"
)

// The window's state is written by hand on every message; it must read
// back as encoding/json wrote it.
func TestWindowStateEncoding(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	for _, st := range []windowState{
		{},
		{Last: time.Date(2026, 11, 25, 7, 3, 0, 123456789, cst), Sent: 3},
		{Last: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Sent: 5},
		{Last: time.Date(1999, 12, 31, 23, 59, 59, 1000, time.Local), Sent: 0},
	} {
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.encode(); string(got) != string(want) {
			t.Errorf("encode = %s, json.Marshal = %s", got, want)
		}
		var back windowState
		if err := json.Unmarshal(st.encode(), &back); err != nil || !back.Last.Equal(st.Last) || back.Sent != st.Sent {
			t.Errorf("read back %+v (%v), want %+v", back, err, st)
		}
	}
}
