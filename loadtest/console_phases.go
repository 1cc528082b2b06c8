package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"
)

// walkToSummary takes residents through the intake up to (not including)
// 确认, workers at a time. It returns those that got there.
func walkToSummary(ctx context.Context, eps []*Endpoint, openids []string, workers int, tally *Tally) []string {
	script := IntakeScript("")
	var mu sync.Mutex
	var ready []string
	next := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for openid := range next {
				ok := true
				for i, st := range script[:len(script)-1] {
					if st.Text == "" && !st.Location {
						st.Text = "路灯不亮 " + openid
					}
					if _, ok = send(ctx, eps[i%len(eps)], openid, st, 0, tally); !ok {
						break
					}
				}
				if ok {
					mu.Lock()
					ready = append(ready, openid)
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range openids {
		next <- id
	}
	close(next)
	wg.Wait()
	return ready
}

// paced sends 确认 for each resident at rate a second (open loop: a slow
// answer does not slow the schedule) and returns when each was sent at and
// the case number it filed.
func paced(ctx context.Context, ep *Endpoint, openids []string, rate int, tally *Tally) map[string]time.Time {
	sent := map[string]time.Time{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for _, openid := range openids {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			at := time.Now()
			reply, ok := send(ctx, ep, openid, Step{Text: "确认", Want: "编号："}, 0, tally)
			if !ok {
				return
			}
			if m := CaseNumber.FindStringSubmatch(reply); m != nil {
				mu.Lock()
				sent[m[1]] = at
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return sent
}

// confirmToConsole measures, at o.ConfirmRate new cases a second, the time
// from the resident's 确认 to the case's submitted event on a console
// connected to consoleBase.
func confirmToConsole(ctx context.Context, s *Setup, eps []*Endpoint, consoleBase string, o Options, runID string, _ *http.Client) ConfirmResult {
	var res ConfirmResult
	rate, d := o.ConfirmRate, o.ConfirmFor
	if rate <= 0 || d <= 0 {
		return res
	}
	cookie, err := Login(ctx, consoleBase, "town-admin", s.Password)
	if err != nil {
		res.Errors = err.Error()
		return res
	}
	rec := &Receipts{}
	feed, err := DialFeed(ctx, consoleBase, cookie, rec, true)
	if err != nil {
		res.Errors = err.Error()
		return res
	}
	defer feed.Conn.Close()
	n := rate * int(d/time.Second)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("oload-%s-c%d", runID, i)
	}
	tally := &Tally{}
	ready := walkToSummary(ctx, eps, ids, o.Workers, tally)
	start := time.Now()
	sent := paced(ctx, eps[0], ready, rate, tally)
	res.Rate = float64(len(sent)) / time.Since(start).Seconds()
	res.Cases = len(sent)
	lat := &Latencies{}
	deadline := time.Now().Add(10 * time.Second)
	for number, at := range sent {
		for {
			if ts := rec.Times(number, "submitted"); len(ts) > 0 {
				lat.Add(ts[0].Sub(at))
				break
			}
			if time.Now().After(deadline) {
				res.Missing++
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	res.Latency = lat.Summary()
	res.Errors = tally.Errors.String()
	return res
}

// fanout holds o.Consoles websockets open on one instance, measures the
// memory they cost, files o.FanoutCases cases and measures how long each
// case's submitted event takes to reach every one of them.
func fanout(ctx context.Context, s *Setup, g *Instance, ep *Endpoint, o Options, runID string) *FanoutResult {
	res := &FanoutResult{Wanted: o.Consoles}
	cookie, err := Login(ctx, g.Base, "town-admin", s.Password)
	if err != nil {
		res.DialErrors = err.Error()
		return res
	}
	runtimeSettle := func() int64 {
		time.Sleep(1500 * time.Millisecond)
		u, _ := g.Usage()
		return u.RSS
	}
	res.RSSBefore = runtimeSettle()
	rec := &Receipts{}
	feeds := make([]*Feed, o.Consoles)
	dialErrs := &Errors{}
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	for range 64 {
		wg.Go(func() {
			for i := range next {
				f, err := DialFeed(ctx, g.Base, cookie, rec, true)
				if err != nil {
					dialErrs.Add("dial", err.Error())
					continue
				}
				feeds[i] = f
			}
		})
	}
	for i := range feeds {
		next <- i
	}
	close(next)
	wg.Wait()
	res.DialTime = time.Since(start)
	defer func() {
		var cw sync.WaitGroup
		for _, f := range feeds {
			if f != nil {
				cw.Go(func() { f.Conn.Close() })
			}
		}
		cw.Wait()
	}()
	for _, f := range feeds {
		if f != nil {
			res.Open++
		}
	}
	res.DialErrors = dialErrs.String()
	res.RSSAfter = runtimeSettle()
	if res.Open > 0 {
		res.PerConnBytes = (res.RSSAfter - res.RSSBefore) / int64(res.Open)
	}
	if o.PprofDir != "" {
		g.fetchAdmin(ctx, "/debug/pprof/heap", filepath.Join(o.PprofDir, "heap-consoles.pprof"))
	}
	ids := make([]string, o.FanoutCases)
	for i := range ids {
		ids[i] = fmt.Sprintf("oload-%s-f%d", runID, i)
	}
	tally := &Tally{}
	ready := walkToSummary(ctx, []*Endpoint{ep}, ids, 8, tally)
	before, _ := g.Usage()
	stopProf := profile(ctx, o.PprofDir, g, "cpu-consoles.pprof", time.Duration(len(ids))*time.Second/2+3*time.Second)
	sent := paced(ctx, ep, ready, 2, tally)
	time.Sleep(3 * time.Second)
	after, _ := g.Usage()
	stopProf()
	res.CPU = after.CPU - before.CPU
	lat := &Latencies{}
	for number, at := range sent {
		for _, t := range rec.Times(number, "submitted") {
			lat.Add(t.Sub(at))
		}
	}
	res.Cases = len(sent)
	res.Expected = len(sent) * res.Open
	res.Latency = lat.Summary()
	res.Deliveries = res.Latency.N
	res.Closed = rec.Closed()
	return res
}
