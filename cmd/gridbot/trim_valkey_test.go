package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	"gridbot/internal/valkeytest"
	"gridbot/routing"
	"gridbot/routing/valkeystream"
)

// On Valkey the stream of case events stays as long as what the groups
// have not yet handled (issue 21): after cases are filed and routed, the
// running service trims it, and every case still reached its leader.
func TestValkeyStreamTrimmed(t *testing.T) {
	addr, prefix := valkeytest.Addr(t), valkeytest.Prefix(t)
	a := boot(t, rigOptions{valkey: addr, prefix: prefix, environ: []string{"GRIDBOT_VALKEY_TRIM_EVERY=100ms"}})
	client, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	key := valkeystream.StreamKey(prefix, routing.TopicCaseEvents)
	xlen := func() int64 {
		n, err := client.Do(context.Background(), client.B().Xlen().Key(key).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	const cases = 4
	var numbers []string
	for i := range cases {
		numbers = append(numbers, a.fileByLocation(fmt.Sprintf("oresident-trim-%d", i)))
	}
	for _, n := range numbers {
		a.waitPush("osample-L10-a", n)
	}
	// Every event was handled by every group: the stream empties but for
	// what a partly trimmed node holds (at most 100 entries, here fewer
	// than were written).
	var events int64
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := xlen()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream still holds %d entries 10 s after the last push", n)
		}
		events = max(events, n)
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the stream held up to %d entries and was trimmed to none", events)
}
