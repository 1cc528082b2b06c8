package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"gridbot/internal/valkeytest"
)

// BenchmarkValkeyConfirmToConsole measures, on two instances sharing one
// Valkey, the time from a resident's 确认 sent to instance A until the case's
// submitted event arrives on a console connected to instance B. It reports
// the median and the 99th percentile.
//
//	go test -run '^$' -bench ConfirmToConsole -benchtime 200x ./cmd/gridbot
func BenchmarkValkeyConfirmToConsole(b *testing.B) {
	addr, prefix := valkeytest.Addr(b), valkeytest.Prefix(b)
	a := boot(b, rigOptions{valkey: addr, prefix: prefix})
	other := boot(b, rigOptions{valkey: addr, prefix: prefix, peer: a})
	feed := other.login("town-admin").feed()
	ctx := context.Background()
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		openid := fmt.Sprintf("oresident-bench-%d", i)
		for _, text := range []string{"报事", "2", "路灯坏了", "10", "1", "跳过"} {
			if _, err := a.sim.SendText(ctx, openid, text); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		reply, err := a.sim.SendText(ctx, openid, "确认")
		if err != nil {
			b.Fatal(err)
		}
		m := caseNumber.FindStringSubmatch(reply)
		if m == nil {
			b.Fatalf("no case number in %q", reply)
		}
		waitEvent(b, feed, m[1], "submitted")
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
