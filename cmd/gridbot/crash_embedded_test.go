package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Residents confirm a burst of cases and the process is killed (SIGKILL)
// in the middle of it, on the embedded store. After a restart on the same
// file every case is routed: none is left submitted, though residents were
// told it was filed (issue 13 #6: up to 69 of 400 stayed submitted when the
// outbox was cleared as soon as the in-process transport took an event).
func TestEmbeddedKilledDuringABurstLeavesNoCaseUnrouted(t *testing.T) {
	if testing.Short() {
		t.Skip("400 residents and a restart")
	}
	const residents = 400
	dir := t.TempDir()
	a, proc := bootProcess(t, rigOptions{dataDir: dir})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	openid := func(i int) string { return fmt.Sprintf("oresident-burst-%03d", i) }

	// Every resident gets to the summary, a few dozen at a time.
	work := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range work {
				for _, text := range []string{"报事", "2", "路灯坏了", "10", "1", "跳过"} {
					if _, err := a.sim.SendText(ctx, openid(i), text); err != nil {
						t.Errorf("resident %d, %q: %v", i, text, err)
						return
					}
				}
			}
		})
	}
	for i := range residents {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// All confirm at once; the process dies when a quarter have their
	// case number.
	var confirmed atomic.Int64
	var mu sync.Mutex
	var numbers []string
	killAt := make(chan struct{})
	var once sync.Once
	start := make(chan struct{})
	for i := range residents {
		wg.Go(func() {
			<-start
			reply, err := a.sim.SendText(ctx, openid(i), "确认")
			if err != nil {
				return // the process died first
			}
			if m := caseNumber.FindStringSubmatch(reply); m != nil {
				mu.Lock()
				numbers = append(numbers, m[1])
				mu.Unlock()
				if confirmed.Add(1) == residents/4 {
					once.Do(func() { close(killAt) })
				}
			}
		})
	}
	close(start)
	select {
	case <-killAt:
	case <-time.After(30 * time.Second):
		t.Fatal("a quarter of the residents never got their case number")
	}
	proc.Process.Kill()
	proc.Wait()
	wg.Wait()
	killed := time.Now()

	b := boot(t, rigOptions{dataDir: dir, peer: a})
	admin := b.login("town-admin")
	var list struct {
		Cases []struct {
			Number string `json:"number"`
			State  string `json:"state"`
		} `json:"cases"`
	}
	// The sweep routes a case left submitted only after a minute: what is
	// routed sooner was routed from the outbox.
	deadline := time.Now().Add(20 * time.Second)
	for {
		admin.get("/api/cases?state=submitted", &list)
		if len(list.Cases) == 0 {
			break
		}
		if time.Now().After(deadline) {
			var left []string
			for _, c := range list.Cases {
				left = append(left, c.Number)
			}
			t.Fatalf("%d cases still submitted %s after the restart: %s", len(left),
				time.Since(killed).Round(time.Second), strings.Join(left, " "))
		}
		time.Sleep(100 * time.Millisecond)
	}
	admin.get("/api/cases?limit=500", &list) // all 400 in one page
	states := map[string]string{}
	for _, c := range list.Cases {
		states[c.Number] = c.State
	}
	for _, n := range numbers {
		if states[n] != "assigned" {
			t.Errorf("confirmed case %s is %q after the restart", n, states[n])
		}
	}
	// Every case the store holds reaches the leader.
	for n := range states {
		b.waitPush("osample-L10-a", n)
	}
	t.Logf("%d cases filed, %d confirmed to residents before the kill; all routed %s after it, %d pushes to the leader",
		len(states), len(numbers), time.Since(killed).Round(time.Millisecond), len(b.api.Pushes("osample-L10-a")))
}
