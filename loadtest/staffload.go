package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gridbot/wechatsim"
)

// timeUnderStaffLoad is issue 21's "the public first": staff staff members
// browse the queues and the figures without pause for d, while residents
// residents walk through the intake (报事 … location … 取消) without pause;
// it reports the residents' steps (p50, p99, worst, 系统繁忙 and failures)
// and the staff pages (p50, p99, refusals).
func timeUnderStaffLoad(ctx context.Context, s *Setup, in *Instance, staff, residents int, d time.Duration, pprofDir string, col *LedgerColumn) error {
	admin, err := Login(ctx, in.Base, "town-admin", s.Password)
	if err != nil {
		return err
	}
	leader, err := Login(ctx, in.Base, "gl-L10-a", s.Password)
	if err != nil {
		return err
	}
	month := time.Now().Format("2006-01")
	pages := []struct {
		cookie *http.Cookie
		path   string
	}{
		{admin, "/api/cases"},
		{leader, "/api/cases?state=open"},
		{admin, "/api/cases?state=open"},
		{admin, "/api/figures/rates?by=grid"},
		{admin, "/api/figures/board"},
		{admin, "/api/cases?grid=L10"},
		{admin, "/api/figures/ledger?by=grid&month=" + month},
	}
	stopProf := profile(ctx, pprofDir, in, fmt.Sprintf("cpu-staffload-%s-%d.pprof", col.Mode, col.Cases), d)
	defer stopProf()
	if pprofDir != "" {
		name := filepath.Join(pprofDir, fmt.Sprintf("goroutines-staffload-%s-%d.txt", col.Mode, col.Cases))
		time.AfterFunc(d/2, func() { in.fetchAdmin(ctx, "/debug/pprof/goroutine?debug=1", name) })
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu                       sync.Mutex
		staffTook, residentTook  []time.Duration
		staffRefused, staffFails atomic.Int64
		busy, residentFails      atomic.Int64
		firstFailure             atomic.Value
	)
	var wg sync.WaitGroup
	for i := range staff {
		wg.Go(func() {
			client := &http.Client{Timeout: 30 * time.Second}
			for n := i; ctx.Err() == nil; n++ {
				p := pages[n%len(pages)]
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, in.Base+p.path, nil)
				req.AddCookie(p.cookie)
				start := time.Now()
				resp, err := client.Do(req)
				took := time.Since(start)
				if err != nil {
					if ctx.Err() == nil {
						staffFails.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					mu.Lock()
					staffTook = append(staffTook, took)
					mu.Unlock()
				case http.StatusServiceUnavailable, http.StatusTooManyRequests:
					staffRefused.Add(1)
				default:
					staffFails.Add(1)
				}
			}
		})
	}
	steps := []wechatsim.OutgoingMessage{
		{MsgType: "text", Content: "报事"},
		{MsgType: "text", Content: "2"},
		{MsgType: "text", Content: "村口路灯不亮了"},
		{MsgType: "location", Lat: 22.355, Lng: 112.545, Scale: 15, Label: "石桥村口"},
		{MsgType: "text", Content: "取消"},
	}
	ep := NewEndpoint("resident", in.Callback(), s.Account, false, LoadClient(residents), MsgIDs())
	for r := range residents {
		wg.Go(func() {
			for round := 0; ctx.Err() == nil; round++ {
				openid := fmt.Sprintf("ostaffload-%d-%d-%d", time.Now().UnixNano(), r, round)
				for _, m := range steps {
					m.MsgID = ep.ids.Add(1)
					start := time.Now()
					res, err := ep.Sim.Post(context.WithoutCancel(ctx), openid, m)
					took := time.Since(start)
					switch {
					case err != nil:
						residentFails.Add(1)
						firstFailure.CompareAndSwap(nil, shorten(err.Error()))
					case strings.Contains(res.Reply, "系统繁忙"):
						busy.Add(1)
					case res.Status != http.StatusOK || res.Reply == "":
						residentFails.Add(1)
						firstFailure.CompareAndSwap(nil, shorten(fmt.Sprintf("HTTP %d %q", res.Status, res.Reply)))
					default:
						mu.Lock()
						residentTook = append(residentTook, took)
						mu.Unlock()
					}
					if ctx.Err() != nil {
						return
					}
				}
			}
		})
	}
	wg.Wait()
	q := func(ds []time.Duration, p float64) string {
		if len(ds) == 0 {
			return "—"
		}
		return roundDur(ds[min(len(ds)-1, int(float64(len(ds))*p))])
	}
	slices.Sort(residentTook)
	slices.Sort(staffTook)
	name := fmt.Sprintf("%d staff browsing, %d residents walking the intake, %s:", staff, residents, d)
	col.set(name+" residents' steps p50 / p99 / max", fmt.Sprintf("%s / %s / %s (%d steps)", q(residentTook, 0.5), q(residentTook, 0.99),
		q(residentTook, 1), len(residentTook)))
	failure := ""
	if f, ok := firstFailure.Load().(string); ok {
		failure = " — " + f
	}
	col.set(name+" residents answered 系统繁忙 / failed", fmt.Sprintf("%d / %d%s", busy.Load(), residentFails.Load(), failure))
	col.set(name+" staff pages p50 / p99", fmt.Sprintf("%s / %s (%d pages; %d refused busy, %d failed)", q(staffTook, 0.5), q(staffTook, 0.99),
		len(staffTook), staffRefused.Load(), staffFails.Load()))
	return nil
}
