package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Options configures Run.
type Options struct {
	Setup SetupOptions
	// Phase is how long each throughput phase runs.
	Phase time.Duration
	// Workers is the number of residents sending at once.
	Workers int
	// ConfirmRate is new cases a second in the 确认 → console phase, for
	// ConfirmFor.
	ConfirmRate int
	ConfirmFor  time.Duration
	// Consoles is the number of websockets held open on one instance, and
	// FanoutCases the cases filed while they are.
	Consoles    int
	FanoutCases int
	// Modes to run: "embedded", "valkey".
	Modes []string
	// PprofDir, when set, receives CPU profiles of the dialog phases and a
	// heap profile with the consoles connected.
	PprofDir string
}

// Measure is one phase's figures for one system.
type Measure struct {
	Msgs    int64
	Cases   int64
	Wall    time.Duration
	Latency Summary
	Confirm Summary
	CPU     time.Duration // of the system's processes over the phase
	// GenCPU is the load generator's own CPU over the phase: the same
	// tool reads the baseline's answers and gridbot's, so a difference
	// here is what the answers cost to read (a menu against an echo).
	GenCPU   time.Duration
	RSS      int64 // the largest of its processes at the end
	Errors   string
	ErrCount int
	// Server is what the Valkey server did over the phase (zero without
	// one): the counts behind "round trips per step".
	Server ServerCounts
}

// Rate is messages a second.
func (m Measure) Rate() float64 { return float64(m.Msgs) / m.Wall.Seconds() }

// GenCPUPerMsg is the load generator's CPU time per message.
func (m Measure) GenCPUPerMsg() time.Duration {
	if m.Msgs == 0 {
		return 0
	}
	return m.GenCPU / time.Duration(m.Msgs)
}

// CPUPerMsg is CPU time per message.
func (m Measure) CPUPerMsg() time.Duration {
	if m.Msgs == 0 {
		return 0
	}
	return m.CPU / time.Duration(m.Msgs)
}

// Report is everything Run measured.
type Report struct {
	Started    time.Time
	Options    Options
	Idle       map[string][2]Measure // mode → {gridbot, baseline}
	Dialogs    map[string]Measure    // "embedded", "valkey"
	BaselinePl Measure               // baseline, plain, measured beside the dialog phases
	Confirm    map[string]ConfirmResult
	Fanout     *FanoutResult
	Rest       RestResult
	// Drain is how long after a dialog phase the last of its cases reached
	// the grid leader (the router's backlog); -1 when not within a minute.
	Drain       map[string]time.Duration
	Notes       []string
	Unfinished  []string
	CPUs        int
	ProfileDirs string
}

// ConfirmResult is the 确认 → console phase.
type ConfirmResult struct {
	Rate     float64 // cases a second achieved
	Cases    int
	Missing  int // confirmed but never seen on the console
	Latency  Summary
	Errors   string
	Consoles string
}

// FanoutResult is the many-consoles phase.
type FanoutResult struct {
	Open, Wanted int
	PerConnBytes int64
	RSSBefore    int64
	RSSAfter     int64
	Cases        int
	Deliveries   int // (case, client) pairs that arrived
	Expected     int
	Latency      Summary
	Closed       map[int]int
	DialErrors   string
	DialTime     time.Duration
	CPU          time.Duration
}

// RestResult is memory at rest and start-up time.
type RestResult struct {
	DemoRSS, BaselineRSS     int64
	DemoReady, BaselineReady time.Duration
	ServeReady               time.Duration
}

// Run runs the whole benchmark, bounded by its options, and returns the
// report. Processes it started are stopped before it returns.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Workers <= 0 {
		o.Workers = 32
	}
	if o.Phase <= 0 {
		o.Phase = 8 * time.Second
	}
	log := o.Setup.Log
	if log == nil {
		log = io.Discard
		o.Setup.Log = log
	}
	rep := &Report{Started: time.Now(), Options: o, Idle: map[string][2]Measure{}, Dialogs: map[string]Measure{},
		Confirm: map[string]ConfirmResult{}}
	s, err := NewSetup(ctx, o.Setup)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	client := LoadClient(o.Workers)
	ids := MsgIDs()
	runID := randomHex(3)

	// Memory at rest and start-up: the demo with the sample town, and the
	// baseline, before anything else runs.
	base, err := s.Baseline(ctx)
	if err != nil {
		return nil, err
	}
	rep.Rest.BaselineReady = base.Ready
	demo, err := s.Demo(ctx)
	if err != nil {
		return nil, err
	}
	rep.Rest.DemoReady = demo.Ready
	time.Sleep(2 * time.Second)
	if u, err := demo.Usage(); err == nil {
		rep.Rest.DemoRSS = u.RSS
	}
	if u, err := base.Usage(); err == nil {
		rep.Rest.BaselineRSS = u.RSS
	}
	demo.Stop(10 * time.Second)
	fmt.Fprintf(log, "at rest: demo %s RSS, ready in %s; baseline %s, ready in %s\n",
		mib(rep.Rest.DemoRSS), rep.Rest.DemoReady.Round(time.Millisecond), mib(rep.Rest.BaselineRSS), rep.Rest.BaselineReady.Round(time.Millisecond))

	basePlain := NewEndpoint("baseline", "http://"+base.Addr+"/wechat", s.Account, false, client, ids)
	baseSafe := NewEndpoint("baseline-safe", "http://"+base.Addr+"/wechat", s.Account, true, client, ids)

	measure := func(procs []*Process, run func() *Tally) Measure {
		before := usages(procs)
		genBefore, _ := ReadUsage(os.Getpid())
		start := time.Now()
		t := run()
		m := Measure{Wall: time.Since(start), Msgs: t.Messages.Load(), Cases: t.Cases.Load(),
			Latency: t.Latency.Summary(), Confirm: t.Confirm.Summary(), Errors: t.Errors.String(), ErrCount: t.Errors.Total()}
		genAfter, _ := ReadUsage(os.Getpid())
		m.GenCPU = genAfter.CPU - genBefore.CPU
		after := usages(procs)
		for i := range procs {
			m.CPU += after[i].CPU - before[i].CPU
			m.RSS = max(m.RSS, after[i].RSS)
		}
		return m
	}
	idle := func(ep *Endpoint, procs []*Process, want string) Measure {
		Idle(ctx, []*Endpoint{ep}, o.Workers, time.Second, runID+"w", "你好", want) // warm up
		return measure(procs, func() *Tally { return Idle(ctx, []*Endpoint{ep}, o.Workers, o.Phase, runID, "你好", want) })
	}

	if slices.Contains(o.Modes, "embedded") {
		// Each phase on a fresh instance, so none inherits another's
		// backlog or heap.
		fresh := func(name string, safe bool) (*Instance, *Endpoint, error) {
			g, err := s.Gridbot(ctx, name, InstanceOptions{Safe: safe})
			if err != nil {
				return nil, nil, err
			}
			rep.Rest.ServeReady = max(rep.Rest.ServeReady, g.Ready)
			return g, NewEndpoint("gridbot-"+name, g.Callback(), s.Account, safe, client, ids), nil
		}
		for _, safe := range []bool{false, true} {
			mode := map[bool]string{false: "plain", true: "safe"}[safe]
			g, ep, err := fresh("idle-"+mode, safe)
			if err != nil {
				return nil, err
			}
			bep := map[bool]*Endpoint{false: basePlain, true: baseSafe}[safe]
			b := idle(bep, []*Process{base}, "你好")
			stopProf := profile(ctx, o.PprofDir, g, "cpu-idle-"+mode+".pprof", o.Phase)
			gm := idle(ep, []*Process{g.Process}, "报事")
			stopProf()
			rep.Idle[mode] = [2]Measure{gm, b}
			fmt.Fprintf(log, "idle %s: gridbot %.0f msg/s (%s), baseline %.0f msg/s (%s)\n", mode, gm.Rate(), gm.Latency, b.Rate(), b.Latency)
			g.Stop(10 * time.Second)
		}
		// Dialogs on the embedded store, with the baseline measured right
		// before, in the same conditions.
		g, ep, err := fresh("dialogs", false)
		if err != nil {
			return nil, err
		}
		rep.BaselinePl = idle(basePlain, []*Process{base}, "你好")
		pushed := len(s.API.Pushes(""))
		stopProf := profile(ctx, o.PprofDir, g, "cpu-session-embedded.pprof", o.Phase)
		sm := measure([]*Process{g.Process}, func() *Tally {
			return Dialogs(ctx, []*Endpoint{ep}, o.Workers, o.Phase, runID+"es", SessionScript, nil)
		})
		stopProf()
		rep.Dialogs["session-embedded"] = sm
		fmt.Fprintf(log, "session steps embedded: %.0f steps/s (%s); errors: %s\n", sm.Rate(), sm.Latency, sm.Errors)
		stopProf = profile(ctx, o.PprofDir, g, "cpu-dialogs-embedded.pprof", o.Phase)
		dm := measure([]*Process{g.Process}, func() *Tally {
			return Dialogs(ctx, []*Endpoint{ep}, o.Workers, o.Phase, runID+"e", IntakeScript, nil)
		})
		stopProf()
		rep.Dialogs["embedded"] = dm
		fmt.Fprintf(log, "dialogs embedded: %.0f steps/s, %d cases (%s); errors: %s\n", dm.Rate(), dm.Cases, dm.Latency, dm.Errors)
		rep.Drain = map[string]time.Duration{"embedded": drain(ctx, s, pushed, int(dm.Cases))}
		fmt.Fprintf(log, "the leader had every push %s after the load stopped\n", rep.Drain["embedded"])
		g.Stop(10 * time.Second)

		g, ep, err = fresh("confirm", false)
		if err != nil {
			return nil, err
		}
		rep.Confirm["embedded"] = confirmToConsole(ctx, s, []*Endpoint{ep}, g.Base, o, runID+"ce", client)
		fmt.Fprintf(log, "确认 → console, embedded: %s\n", rep.Confirm["embedded"].Latency)
		g.Stop(10 * time.Second)
	}
	if o.Consoles > 0 && (slices.Contains(o.Modes, "embedded") || slices.Contains(o.Modes, "consoles")) {
		g, err := s.Gridbot(ctx, "consoles", InstanceOptions{})
		if err != nil {
			return nil, err
		}
		rep.Rest.ServeReady = max(rep.Rest.ServeReady, g.Ready)
		ep := NewEndpoint("gridbot-consoles", g.Callback(), s.Account, false, client, ids)
		rep.Fanout = fanout(ctx, s, g, ep, o, runID+"fo")
		fmt.Fprintf(log, "%d consoles: %s, %d B per connection\n", rep.Fanout.Open, rep.Fanout.Latency, rep.Fanout.PerConnBytes)
		g.Stop(10 * time.Second)
	}
	if slices.Contains(o.Modes, "valkey") {
		v, err := s.Valkey(ctx)
		if err != nil {
			return nil, err
		}
		prefix := "gl" + runID + ":"
		a, err := s.Gridbot(ctx, "valkey-a", InstanceOptions{Valkey: v.Addr, Prefix: prefix})
		if err != nil {
			return nil, err
		}
		b, err := s.Gridbot(ctx, "valkey-b", InstanceOptions{Valkey: v.Addr, Prefix: prefix})
		if err != nil {
			return nil, err
		}
		eps := []*Endpoint{NewEndpoint("gridbot-valkey-a", a.Callback(), s.Account, false, client, ids),
			NewEndpoint("gridbot-valkey-b", b.Callback(), s.Account, false, client, ids)}
		procs := []*Process{a.Process, b.Process, v.Process}
		Idle(ctx, eps, o.Workers, time.Second, runID+"vw", "你好", "报事")
		bm := idle(basePlain, []*Process{base}, "你好")
		pushedV := len(s.API.Pushes(""))
		stopProf := profile(ctx, o.PprofDir, a, "cpu-session-valkey-a.pprof", o.Phase)
		sm := withCounts(v, func() Measure {
			return measure(procs, func() *Tally { return Dialogs(ctx, eps, o.Workers, o.Phase, runID+"vs", SessionScript, nil) })
		})
		stopProf()
		rep.Dialogs["session-valkey"] = sm
		rep.Dialogs["session-valkey-baseline"] = bm
		fmt.Fprintf(log, "session steps valkey ×2: %.0f steps/s (%s); errors: %s\n", sm.Rate(), sm.Latency, sm.Errors)
		stopProf = profile(ctx, o.PprofDir, a, "cpu-dialogs-valkey-a.pprof", o.Phase)
		dm := withCounts(v, func() Measure {
			return measure(procs, func() *Tally { return Dialogs(ctx, eps, o.Workers, o.Phase, runID+"v", IntakeScript, nil) })
		})
		stopProf()
		rep.Dialogs["valkey"] = dm
		if rep.Drain == nil {
			rep.Drain = map[string]time.Duration{}
		}
		rep.Drain["valkey"] = drain(ctx, s, pushedV, int(dm.Cases))
		if rep.BaselinePl.Msgs == 0 {
			rep.BaselinePl = bm
		} else {
			rep.Notes = append(rep.Notes, fmt.Sprintf("baseline plain measured again before the Valkey dialogs: %.0f msg/s (before the embedded dialogs: %.0f)", bm.Rate(), rep.BaselinePl.Rate()))
		}
		rep.Dialogs["valkey-baseline"] = bm
		fmt.Fprintf(log, "dialogs valkey ×2: %.0f steps/s, %d cases (%s); errors: %s\n", dm.Rate(), dm.Cases, dm.Latency, dm.Errors)
		// Filed on A, watched on B's console.
		rep.Confirm["valkey"] = confirmToConsole(ctx, s, eps[:1], b.Base, o, runID+"cv", client)
		fmt.Fprintf(log, "确认 on A → console on B: %s\n", rep.Confirm["valkey"].Latency)
	}
	rep.ProfileDirs = o.PprofDir
	return rep, nil
}

func usages(procs []*Process) []Usage {
	out := make([]Usage, len(procs))
	for i, p := range procs {
		out[i], _ = p.Usage()
	}
	return out
}

// profile fetches a CPU profile from an instance's admin listener while a
// phase of length d runs; the returned func waits for it.
func profile(ctx context.Context, dir string, in *Instance, name string, d time.Duration) func() {
	if dir == "" {
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		secs := max(1, int((d-time.Second)/time.Second))
		in.fetchAdmin(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), filepath.Join(dir, name))
	})
	return wg.Wait
}

// fetchAdmin saves what the instance's admin listener answers at path to
// file, with the instance's admin token.
func (in *Instance) fetchAdmin(ctx context.Context, path, file string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+in.Admin+path, nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+in.AdminToken)
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return
	}
	f, err := os.Create(file)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// drain waits (at most a minute) until cases more pushes than before have
// reached WeChat's API, and returns how long that took.
func drain(ctx context.Context, s *Setup, before, cases int) time.Duration {
	start := time.Now()
	for time.Since(start) < time.Minute && ctx.Err() == nil {
		if len(s.API.Pushes("")) >= before+cases {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return -1
}

// withCounts runs a measured phase and adds what the Valkey server did over
// it; a server that cannot be asked leaves the counts zero.
func withCounts(v *Valkey, run func() Measure) Measure {
	before, errBefore := v.Counts()
	m := run()
	after, errAfter := v.Counts()
	if errBefore == nil && errAfter == nil {
		m.Server = ServerCounts{Commands: after.Commands - before.Commands, Reads: after.Reads - before.Reads, Writes: after.Writes - before.Writes}
	}
	return m
}
