package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gridbot/wechatsim"
)

// SoakOptions configures Soak.
type SoakOptions struct {
	Setup    SetupOptions
	Duration time.Duration // of the load; the checks come after
	Workers  int
	// Think is a resident's pause between messages; 0 means 30 ms, so
	// the soak is a busy day, not a flood the router cannot drain.
	Think time.Duration
	// Leader is the openid every case of the script goes to (grid L10,
	// post A in the sample town).
	Leader string
}

// SoakReport counts what the soak did and what it found.
type SoakReport struct {
	Duration   time.Duration
	Dialogs    int // dialogs that reached 确认
	Confirmed  int // cases a resident saw confirmed
	Unanswered int // 确认 without a clear answer (busy, a dead instance): may or may not exist, at most once
	Lost       int // confirmed, but not in the store or never pushed to the leader
	Duplicated int // one dialog filed twice, or a case pushed to the leader more than once
	Storms     int // messages posted three times at once across the instances
	Busy       int64
	// Resent counts steps sent again after their answer was lost (an
	// instance killed mid-answer) that met the dialog's next step: the
	// resident is told what is asked now, and this script cancels.
	Resent     int64
	Transport  int64
	Faults     []string
	Problems   []string
	StuckClose string // what happened to the console that never read
	Feed       int    // events the reading console received
}

// Markdown writes the soak's summary.
func (r *SoakReport) Markdown(w io.Writer) {
	fmt.Fprintf(w, "Soak of %s with faults injected.\n\n", r.Duration.Round(time.Second))
	fmt.Fprintln(w, "| what | count |\n|---|---|")
	fmt.Fprintf(w, "| dialogs that reached 确认 | %d |\n| cases residents saw confirmed | %d |\n", r.Dialogs, r.Confirmed)
	fmt.Fprintf(w, "| 确认 left without a clear answer (busy or a dead instance; each filed at most once) | %d |\n", r.Unanswered)
	fmt.Fprintf(w, "| messages posted 3 times at once across both instances | %d |\n", r.Storms)
	fmt.Fprintf(w, "| busy answers / transport failures seen by residents | %d / %d |\n", r.Busy, r.Transport)
	fmt.Fprintf(w, "| steps sent again after a lost answer that met the next step (the dialog goes on there) | %d |\n", r.Resent)
	fmt.Fprintf(w, "| events received by a console on instance B | %d |\n", r.Feed)
	fmt.Fprintf(w, "| **lost cases** | **%d** |\n| **duplicated cases** | **%d** |\n\n", r.Lost, r.Duplicated)
	fmt.Fprintln(w, "Faults:")
	for _, f := range r.Faults {
		fmt.Fprintln(w, "- "+f)
	}
	fmt.Fprintf(w, "- a console that never reads: %s\n", r.StuckClose)
	if len(r.Problems) > 0 {
		fmt.Fprintln(w, "\nProblems:")
		for _, p := range r.Problems {
			fmt.Fprintln(w, "- "+p)
		}
	}
}

// dialogRecord is one resident's intake in the soak.
type dialogRecord struct {
	token     string
	openid    string
	number    string // the case number the resident was told, if any
	unclear   bool   // 确认 was sent but its answer never came
	confirmed bool
}

// soakResident retries like a resident and WeChat together: a timeout or
// a dead instance is retried by "WeChat" with the same MsgId (on the other
// instance, as a load balancer would), up to 3 posts; a busy answer makes
// the resident send again (a new message) after a pause.
type soakResident struct {
	eps    []*Endpoint
	busy   *atomic.Int64
	trans  *atomic.Int64
	storm  func() bool
	storms *atomic.Int64
}

// say delivers text (or the location) and returns the reply, or ok false
// when no clear answer came within the bounded tries.
//
// lost reports that an earlier try went unanswered (a dead instance, or a
// retry that found the first arrival's mark and had nothing to add), so
// the step may already have been taken and this answer be for the next.
func (r *soakResident) say(ctx context.Context, openid string, st Step, first int) (reply string, ok, lost bool) {
	for try := 0; try < 40 && ctx.Err() == nil; try++ {
		m := wechatsim.OutgoingMessage{MsgType: "text", Content: st.Text}
		if st.Location {
			m = wechatsim.OutgoingMessage{MsgType: "location", Lat: 22.355, Lng: 112.545, Scale: 15, Label: "石桥村口"}
		}
		m.MsgID = r.eps[0].ids.Add(1)
		m.CreateTime = time.Now().Unix()
		reply, answered := r.post(ctx, openid, m, first+try)
		if !answered || reply == "" {
			lost = true
			continue
		}
		if strings.Contains(reply, "系统繁忙") {
			r.busy.Add(1)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		return reply, true, lost
	}
	return "", false, lost
}

// post sends one message as WeChat does, with its retries: the same MsgId
// up to 3 times; sometimes all 3 at once across the instances (a storm).
func (r *soakResident) post(ctx context.Context, openid string, m wechatsim.OutgoingMessage, at int) (string, bool) {
	if r.storm() {
		r.storms.Add(1)
		var wg sync.WaitGroup
		replies := make([]string, 3)
		oks := make([]bool, 3)
		for i := range 3 {
			wg.Go(func() {
				res, err := r.eps[(at+i)%len(r.eps)].Sim.Post(ctx, openid, m)
				if err == nil && res.Status == http.StatusOK {
					replies[i], oks[i] = res.Reply, true
				}
			})
		}
		wg.Wait()
		// WeChat shows the resident the first usable answer.
		for i := range 3 {
			if oks[i] && replies[i] != "" {
				return replies[i], true
			}
		}
		r.trans.Add(1)
		return "", false
	}
	for i := range 3 {
		res, err := r.eps[(at+i)%len(r.eps)].Sim.Post(ctx, openid, m)
		if err == nil && res.Status == http.StatusOK {
			return res.Reply, true
		}
		r.trans.Add(1)
		if ctx.Err() != nil {
			break
		}
	}
	return "", false
}

// Soak runs residents filing cases on two instances sharing one Valkey for
// o.Duration while it injects faults: WeChat retry storms throughout, kill
// -9 of an instance (restarted), a restart of the Valkey server, the WeChat
// API failing (timeouts, -1, an expired token, 45015, 45047) and a console
// client that never reads. Then it checks that every case a resident saw
// confirmed exists once and reached its grid leader exactly once.
func Soak(ctx context.Context, o SoakOptions) (*SoakReport, error) {
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Think <= 0 {
		o.Think = 30 * time.Millisecond
	}
	if o.Leader == "" {
		o.Leader = "osample-L10-a"
	}
	log := o.Setup.Log
	if log == nil {
		log = io.Discard
	}
	rep := &SoakReport{Duration: o.Duration}
	s, err := NewSetup(ctx, o.Setup)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	v, err := s.Valkey(ctx)
	if err != nil {
		return nil, err
	}
	prefix := "soak" + randomHex(3) + ":"
	// claim_idle short, so work a killed instance held is taken over within
	// the run; above the sender's longest call with retries.
	inst := InstanceOptions{Valkey: v.Addr, Prefix: prefix, ClaimIdle: "15s"}
	a, err := s.Gridbot(ctx, "soak-a", inst)
	if err != nil {
		return nil, err
	}
	b, err := s.Gridbot(ctx, "soak-b", inst)
	if err != nil {
		return nil, err
	}
	client := LoadClient(o.Workers * 3)
	ids := MsgIDs()
	eps := []*Endpoint{NewEndpoint("a", a.Callback(), s.Account, false, client, ids), NewEndpoint("b", b.Callback(), s.Account, false, client, ids)}

	cookie, err := Login(ctx, b.Base, "town-admin", s.Password)
	if err != nil {
		return nil, err
	}
	rec := &Receipts{}
	feed, err := DialFeed(ctx, b.Base, cookie, rec, true)
	if err != nil {
		return nil, err
	}
	defer feed.Conn.Close()

	var busy, trans, storms, resent atomic.Int64
	var stormN atomic.Int64
	res := &soakResident{eps: eps, busy: &busy, trans: &trans, storms: &storms,
		storm: func() bool { return stormN.Add(1)%7 == 0 }}
	runID := randomHex(3)
	loadCtx, stopLoad := context.WithTimeout(ctx, o.Duration)
	defer stopLoad()
	var mu sync.Mutex
	var dialogs []*dialogRecord
	var wg sync.WaitGroup
	for w := range o.Workers {
		wg.Go(func() {
			for n := 0; loadCtx.Err() == nil; n++ {
				d := &dialogRecord{token: fmt.Sprintf("#%s-%d-%d#", runID, w, n), openid: fmt.Sprintf("osoak-%s-%d-%d", runID, w, n)}
				script := IntakeScript("路灯不亮 " + d.token)
				for i, st := range script {
					time.Sleep(o.Think)
					if st.Text == "确认" {
						mu.Lock()
						dialogs = append(dialogs, d)
						mu.Unlock()
						// The last step runs to its end even when the load
						// stops: a resident waiting for an answer.
						reply, ok, _ := res.say(context.WithoutCancel(loadCtx), d.openid, st, w+n+i)
						if m := CaseNumber.FindStringSubmatch(reply); ok && m != nil {
							d.number, d.confirmed = m[1], true
						} else {
							d.unclear = true
						}
						break
					}
					reply, ok, lost := res.say(loadCtx, d.openid, st, w+n+i)
					if !ok || !strings.Contains(reply, st.Want) {
						switch {
						case loadCtx.Err() != nil || !ok:
						case lost:
							// Its first answer died with an instance: the
							// resident, sending again, meets the next step.
							resent.Add(1)
						default:
							mu.Lock()
							rep.Problems = append(rep.Problems, fmt.Sprintf("dialog %s step %q answered %q", d.token, st.Text, reply))
							mu.Unlock()
						}
						res.say(loadCtx, d.openid, Step{Text: "取消"}, 0)
						break
					}
				}
			}
		})
	}

	// The faults, on a schedule through the load.
	fault := func(frac float64, what string, do func() error) {
		select {
		case <-loadCtx.Done():
			return
		case <-time.After(time.Duration(frac * float64(o.Duration))):
		}
		err := do()
		line := what
		if err != nil {
			line += ": " + err.Error()
			rep.Problems = append(rep.Problems, what+": "+err.Error())
		}
		fmt.Fprintln(log, "soak:", line)
		rep.Faults = append(rep.Faults, line)
	}
	var stuck *Feed
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		start := time.Now()
		at := func(frac float64) float64 {
			return max(0, frac-time.Since(start).Seconds()/o.Duration.Seconds())
		}
		fault(at(0.15), "a console client that never reads, connected to instance B", func() error {
			stuck, err = DialFeed(ctx, b.Base, cookie, nil, false)
			return err
		})
		fault(at(0.2), "kill -9 of instance A under load, restarted 2 s later", func() error {
			a.Kill()
			time.Sleep(2 * time.Second)
			return a.Start(ctx, "soak-a")
		})
		fault(at(0.45), "the Valkey server restarted under load", func() error { return v.Restart(ctx) })
		fault(at(0.65), "the WeChat API failing: -1 ×2, an expired token (40001), 45015, 45047, a 6 s stall", func() error {
			s.API.FailNext(o.Leader, "custom", -1)
			s.API.FailNext(o.Leader, "template", -1)
			s.API.FailNext(o.Leader, "template", -1)
			s.API.ExpireTokens()
			s.API.FailNext(o.Leader, "custom", 45015)
			s.API.FailNext(o.Leader, "custom", 45047)
			s.API.StallNext(o.Leader, 6*time.Second)
			return nil
		})
	}()
	wg.Wait()
	<-faultsDone
	rep.Busy, rep.Transport, rep.Storms, rep.Resent = busy.Load(), trans.Load(), int(storms.Load()), resent.Load()
	if stuck != nil {
		select {
		case <-stuck.Done():
		default:
		}
		stuck.Conn.Close()
	}

	// The checks: every dialog's token names at most one case, a confirmed
	// one exactly one; each case reached the leader exactly once.
	admin, err := Login(ctx, a.Base, "town-admin", s.Password)
	if err != nil {
		return nil, err
	}
	// Every case in the store, from the ledger's export (the list API stops
	// at 500; opening each case in turn took minutes), keyed by the dialog
	// token in its text.
	ledger, err := APIGetCSV(ctx, a.Base, admin, "/api/cases.csv")
	if err != nil {
		return nil, err
	}
	byToken := map[string][]string{}
	var numbers []string
	for _, rec := range ledger[min(1, len(ledger)):] { // after the header
		if len(rec) < 4 {
			return nil, fmt.Errorf("soak: ledger export row of %d columns", len(rec))
		}
		numbers = append(numbers, rec[0])
		if m := tokenPattern.FindString(rec[3]); m != "" {
			byToken[m] = append(byToken[m], rec[0])
		}
	}
	for _, d := range dialogs {
		rep.Dialogs++
		if d.confirmed {
			rep.Confirmed++
		}
		if d.unclear {
			rep.Unanswered++
		}
		got := byToken[d.token]
		switch {
		case len(got) > 1:
			rep.Duplicated++
			rep.Problems = append(rep.Problems, fmt.Sprintf("dialog %s filed %d cases: %v", d.token, len(got), got))
		case len(got) == 0 && d.confirmed:
			rep.Lost++
			rep.Problems = append(rep.Problems, fmt.Sprintf("case %s (%s) confirmed but not in the store", d.number, d.token))
		case len(got) == 1 && d.confirmed && got[0] != d.number:
			rep.Problems = append(rep.Problems, fmt.Sprintf("dialog %s confirmed as %s, stored as %s", d.token, d.number, got[0]))
		}
	}
	// Pushes settle: the stalled one, retries with backoff, and the work
	// the killed instance held (taken over after claim_idle).
	deadline := time.Now().Add(45 * time.Second)
	for {
		if missing, _ := leaderPushes(s.API.Pushes(o.Leader), numbers); len(missing) == 0 || time.Now().After(deadline) {
			time.Sleep(time.Second) // room for a wrong second push to show
			missing, dup := leaderPushes(s.API.Pushes(o.Leader), numbers)
			for _, n := range missing {
				rep.Lost++
				rep.Problems = append(rep.Problems, fmt.Sprintf("case %s never reached the leader", n))
			}
			for _, n := range dup {
				rep.Duplicated++
				rep.Problems = append(rep.Problems, fmt.Sprintf("case %s reached the leader more than once", n))
			}
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	rep.Feed = 0
	rec.mu.Lock()
	for _, kinds := range rec.at {
		for _, ts := range kinds {
			rep.Feed += len(ts)
		}
	}
	rec.mu.Unlock()
	rep.StuckClose = "connected"
	if stuck == nil {
		rep.StuckClose = "not connected"
	}
	if rep.Feed == 0 && len(numbers) > 0 {
		rep.Problems = append(rep.Problems, "the reading console on instance B received nothing")
	}
	return rep, nil
}

// leaderPushes returns the numbers with no push to the leader and those
// with more than one.
func leaderPushes(pushes []wechatsim.Push, numbers []string) (missing, dup []string) {
	count := map[string]int{}
	for _, p := range pushes {
		if m := CaseNumber.FindStringSubmatch(p.Text); m != nil {
			count[m[1]]++
		}
	}
	for _, n := range numbers {
		switch c := count[n]; {
		case c == 0:
			missing = append(missing, n)
		case c > 1:
			dup = append(dup, n)
		}
	}
	return missing, dup
}

// tokenPattern finds a soak dialog's token in a case's text.
var tokenPattern = regexp.MustCompile(`#[0-9a-f]+-\d+-\d+#`)
