package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/routing"
	"gridbot/store"
	"gridbot/store/embedded"
	valkeystore "gridbot/store/valkey"
	"gridbot/wechatsim"
)

// LedgerOptions configure the years-deep ledger benchmark: for each size
// and store, `gridbot fill` writes a history, `gridbot serve` runs on it,
// and what staff and residents do is timed through the real API.
type LedgerOptions struct {
	Setup SetupOptions
	Sizes []int    // cases per history
	Years int      // the history's span; 0 means 3
	Modes []string // "embedded", "valkey", "valkey-cluster" (three masters, the town under tag gb:ledger)
	Reps  int      // timings per figure, the median reported; 0 means 5
	// Staff, when above zero, adds issue 21's phase: that many staff
	// browse queues and figures for StaffFor while Residents walk the
	// intake (staffload.go).
	Staff, Residents int
	StaffFor         time.Duration
	// StaffSlots is the instances' console.staff_slots (0: the default,
	// one per CPU but one).
	StaffSlots int
	// PprofDir, when set, receives a CPU profile of each instance through
	// the staff phase and its goroutines half way through.
	PprofDir string
}

// LedgerColumn is one store at one size.
type LedgerColumn struct {
	Mode  string
	Cases int
	Fill  string // what fill said
	// Figures by name, in the order they were taken.
	Names   []string
	Figures map[string]string
}

func (c *LedgerColumn) set(name, value string) {
	if c.Figures == nil {
		c.Figures = map[string]string{}
	}
	if _, ok := c.Figures[name]; !ok {
		c.Names = append(c.Names, name)
	}
	c.Figures[name] = value
}

// LedgerReport is the benchmark's table.
type LedgerReport struct {
	Columns []*LedgerColumn
	Reps    int
}

// Markdown writes the table: one row per figure, one column per store and
// size.
func (r *LedgerReport) Markdown(w io.Writer) {
	if len(r.Columns) == 0 {
		return
	}
	var names []string
	for _, c := range r.Columns {
		for _, n := range c.Names {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	fmt.Fprintf(w, "| what (median of %d) |", r.Reps)
	for _, c := range r.Columns {
		fmt.Fprintf(w, " %s, %s cases |", c.Mode, thousands(c.Cases))
	}
	fmt.Fprint(w, "\n|---|")
	for range r.Columns {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, n := range names {
		fmt.Fprintf(w, "| %s |", n)
		for _, c := range r.Columns {
			v := c.Figures[n]
			if v == "" {
				v = "—"
			}
			fmt.Fprintf(w, " %s |", v)
		}
		fmt.Fprintln(w)
	}
	for _, c := range r.Columns {
		fmt.Fprintf(w, "\n%s, %s: %s", c.Mode, thousands(c.Cases), strings.TrimSpace(c.Fill))
	}
	fmt.Fprintln(w)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Ledger runs the benchmark.
func Ledger(ctx context.Context, o LedgerOptions) (*LedgerReport, error) {
	if o.Years <= 0 {
		o.Years = 3
	}
	if o.Reps <= 0 {
		o.Reps = 5
	}
	s, err := NewSetup(ctx, o.Setup)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	rep := &LedgerReport{Reps: o.Reps}
	var vk *Valkey
	var cluster *ValkeyCluster
	for _, n := range o.Sizes {
		for _, mode := range o.Modes {
			col := &LedgerColumn{Mode: mode, Cases: n}
			rep.Columns = append(rep.Columns, col)
			name := fmt.Sprintf("ledger-%s-%d", mode, n)
			inst := InstanceOptions{JoinRadiusM: 300}
			if o.StaffSlots > 0 {
				inst.Extra = fmt.Sprintf("console:\n  staff_slots: %d\n", o.StaffSlots)
			}
			var server memoryMeter
			switch mode {
			case "valkey":
				if vk == nil {
					if vk, err = s.Valkey(ctx); err != nil {
						return rep, err
					}
				}
				inst.Valkey, inst.Prefix, server = vk.Addr, fmt.Sprintf("gl%d:", n), vk
			case "valkey-cluster":
				if cluster == nil {
					if cluster, err = s.ValkeyCluster(ctx); err != nil {
						return rep, err
					}
				}
				// A town of a city, under a hash tag of its own.
				inst.Valkey, inst.Prefix, inst.Tag, server = cluster.Addr(), fmt.Sprintf("gl%d:", n), "gb:ledger", cluster
			case "embedded":
			default:
				return rep, fmt.Errorf("-modes: %q is not embedded, valkey or valkey-cluster", mode)
			}
			if err := ledgerColumn(ctx, s, server, name, inst, o, col); err != nil {
				return rep, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return rep, nil
}

// ledgerColumn fills one store, serves it and takes its figures.
func ledgerColumn(ctx context.Context, s *Setup, vk memoryMeter, name string, inst InstanceOptions, o LedgerOptions, col *LedgerColumn) error {
	in, err := s.GridbotConfig(name, inst)
	if err != nil {
		return err
	}
	dbPath := filepath.Join(s.Dir, name, "gridbot.db")
	if err := fillOnce(ctx, s, vk, name, in, inst, o, col, dbPath); err != nil {
		return err
	}

	if err := in.Start(ctx, name); err != nil {
		return err
	}
	col.set("start-up (to /readyz)", in.Ready.Round(time.Millisecond).String())
	// The first sweep runs at start; let it and the start settle.
	time.Sleep(5 * time.Second)
	if u, err := in.Usage(); err == nil {
		col.set("memory at rest (anonymous / RSS)", mib(u.Anon)+" / "+mib(u.RSS))
	}
	if err := timeAPI(ctx, s, in, o.Reps, col); err != nil {
		in.Stop(10 * time.Second)
		return err
	}
	timeResident(ctx, s, in, o.Reps, col)
	if o.Staff > 0 {
		if err := timeUnderStaffLoad(ctx, s, in, o.Staff, max(1, o.Residents), o.StaffFor, o.PprofDir, col); err != nil {
			in.Stop(10 * time.Second)
			return err
		}
	}
	if err := in.Stop(20 * time.Second); err != nil {
		return err
	}
	return timeSweep(ctx, s, inst, dbPath, o.Reps, col)
}

// filledFile, in a column's folder of a kept run (SetupOptions.Dir), holds
// what its fill said and measured: a later run finds the ledger filled.
const filledFile = "filled.json"

// fillOnce fills the column's store, or, in a kept run's folder where that
// was done before, takes the fill's figures from then.
func fillOnce(ctx context.Context, s *Setup, vk memoryMeter, name string, in *Instance, inst InstanceOptions, o LedgerOptions, col *LedgerColumn, dbPath string) error {
	const fillName, storageName = "fill (gridbot fill)", "storage per case with its events"
	marker := filepath.Join(s.Dir, name, filledFile)
	if raw, err := os.ReadFile(marker); err == nil && s.opt.Dir != "" {
		var kept struct{ Fill, Took, Storage string }
		if err := json.Unmarshal(raw, &kept); err != nil {
			return fmt.Errorf("%s: %w", marker, err)
		}
		fmt.Fprintf(s.opt.Log, "%s: filled before (%s)\n", name, kept.Fill)
		col.Fill = kept.Fill
		col.set(fillName, kept.Took)
		col.set(storageName, kept.Storage)
		return nil
	}
	var memBefore int64
	if vk != nil && inst.Valkey != "" {
		memBefore, _ = vk.usedMemory()
	}
	fmt.Fprintf(s.opt.Log, "%s: filling %d cases over %d years …\n", name, col.Cases, o.Years)
	began := time.Now()
	out, err := in.Command(ctx, "fill", "-cases", strconv.Itoa(col.Cases), "-years", strconv.Itoa(o.Years))
	if err != nil {
		return err
	}
	col.Fill = lastLine(out)
	took := time.Since(began).Round(time.Second).String()
	col.set(fillName, took)
	storage := ""
	if inst.Valkey == "" {
		if fi, err := os.Stat(dbPath); err == nil {
			storage = fmt.Sprintf("%.1f KB (file %s)", float64(fi.Size())/float64(col.Cases)/1000, mib(fi.Size()))
		}
	} else if after, err := vk.usedMemory(); err == nil {
		storage = fmt.Sprintf("%.1f KB (Valkey used_memory +%s)", float64(after-memBefore)/float64(col.Cases)/1000, mib(after-memBefore))
	}
	col.set(storageName, storage)
	if s.opt.Dir == "" {
		return nil
	}
	raw, err := json.Marshal(map[string]string{"Fill": col.Fill, "Took": took, "Storage": storage})
	if err != nil {
		return err
	}
	return os.WriteFile(marker, raw, 0o600)
}

// median times get o.Reps times and records the median (and the worst).
func median(reps int, col *LedgerColumn, name string, get func() error) {
	var took []time.Duration
	for range reps {
		start := time.Now()
		if err := get(); err != nil {
			col.set(name, "fails: "+shorten(err.Error()))
			return
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	col.set(name, fmt.Sprintf("%s (max %s)", roundDur(took[len(took)/2]), roundDur(took[len(took)-1])))
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

func roundDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Microsecond).String()
}

// timeAPI times the console, the figures, /metrics and Open311.
func timeAPI(ctx context.Context, s *Setup, in *Instance, reps int, col *LedgerColumn) error {
	admin, err := Login(ctx, in.Base, "town-admin", s.Password)
	if err != nil {
		return err
	}
	leader, err := Login(ctx, in.Base, "gl-L10-a", s.Password)
	if err != nil {
		return err
	}
	var closed struct {
		Cases []struct {
			Number string `json:"number"`
		} `json:"cases"`
	}
	// A case from the middle of the first page of closed cases to open and
	// search for; when the list fails (the figure below says so), the
	// first case of a day a year ago.
	number := "ST" + time.Now().AddDate(-1, 0, 0).Format("20060102") + "0001"
	place := "祠堂前"
	if code, err := APIGet(ctx, in.Base, admin, "/api/cases?state=closed", &closed); err == nil && code == 200 && len(closed.Cases) > 0 {
		number = closed.Cases[len(closed.Cases)/2].Number
	}
	var page struct {
		Case struct {
			Location *struct {
				Label string `json:"label"`
			} `json:"location"`
		} `json:"case"`
	}
	if code, err := APIGet(ctx, in.Base, admin, "/api/cases/"+number, &page); err == nil && code == 200 &&
		page.Case.Location != nil && page.Case.Location.Label != "" {
		place = page.Case.Location.Label
	}
	q := func(text string) string { return url.QueryEscape(text) }
	get := func(cookie *http.Cookie, path string) func() error {
		return func() error {
			code, err := APIGet(ctx, in.Base, cookie, path, nil)
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("HTTP %d", code)
			}
			return err
		}
	}
	month := time.Now().Format("2006-01")
	lastYear := time.Now().AddDate(-1, 0, 0).Format("2006-01")
	for _, t := range []struct {
		name   string
		cookie *http.Cookie
		path   string
	}{
		{"console list, first page, no filter", admin, "/api/cases"},
		{"console list, open cases", admin, "/api/cases?state=open"},
		{"console list, one grid", admin, "/api/cases?grid=L10"},
		{"console list, one category", admin, "/api/cases?category=env"},
		{"console list, overdue", admin, "/api/cases?overdue=1"},
		{"console list, text search (q=路灯)", admin, "/api/cases?q=" + url.QueryEscape("路灯")},
		{"console list, text search, rare words (q=残疾人补贴)", admin, "/api/cases?q=" + q("残疾人补贴")},
		{"console list, one character (q=灯)", admin, "/api/cases?q=" + q("灯")},
		{"console list, text search among open cases (q=路灯&state=open)", admin, "/api/cases?state=open&q=" + q("路灯")},
		{"console list, text search, next page (q=路灯&before=<a recent closed case>)", admin, "/api/cases?q=" + q("路灯") + "&before=" + number},
		{"console list, address search (the place label of the case opened below)", admin, "/api/cases?q=" + q(place)},
		{"console list, phone search, whole (q=17000000001)", admin, "/api/cases?q=17000000001"},
		{"console list, phone search, last four (q=0001)", admin, "/api/cases?q=0001"},
		{"console list, next page (before=<a recent closed case>)", admin, "/api/cases?before=" + number},
		{"console list, case number search", admin, "/api/cases?q=" + number},
		{"console list, a grid leader's open queue", leader, "/api/cases?state=open"},
		{"case page with its household file", admin, "/api/cases/" + number},
		{"figures: 三率 by grid", admin, "/api/figures/rates?by=grid"},
		{"figures: 三率 by village", admin, "/api/figures/rates?by=village"},
		{"figures: 三率 by department", admin, "/api/figures/rates?by=department"},
		{"figures: 三率 by month", admin, "/api/figures/rates?by=month"},
		{"monthly ledger by grid, this month", admin, "/api/figures/ledger?by=grid&month=" + month},
		{"monthly ledger by village, a year ago", admin, "/api/figures/ledger?by=village&month=" + lastYear},
		{"board", admin, "/api/figures/board"},
	} {
		median(reps, col, t.name, get(t.cookie, t.path))
	}
	median(reps, col, "/metrics scrape", plainGet(ctx, in.Base+"/metrics"))
	median(reps, col, "Open311 requests.json (90 days)", open311Get(ctx, in.Base+"/open311/v2/requests.json", in.Open311Key))
	return nil
}

func plainGet(ctx context.Context, u string) func() error {
	return func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		return do(req)
	}
}

// open311Get times a GET of Open311 with its API key in the form body,
// where the server takes it (never in the URL).
func open311Get(ctx context.Context, u, key string) func() error {
	return func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, strings.NewReader(url.Values{"api_key": {key}}.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(req)
	}
}

// do sends req and wants a 200, its body read to the end.
func do(req *http.Request) error {
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// timeResident times a resident's intake steps, the location step (the
// 附议 lookup) among them, through signed callbacks; each resident ends
// with 取消 so that nothing is filed.
func timeResident(ctx context.Context, s *Setup, in *Instance, reps int, col *LedgerColumn) {
	ep := NewEndpoint("resident", in.Callback(), s.Account, false, LoadClient(4), MsgIDs())
	steps := []struct {
		name string
		msg  wechatsim.OutgoingMessage
	}{
		{"resident: 报事", wechatsim.OutgoingMessage{MsgType: "text", Content: "报事"}},
		{"resident: category", wechatsim.OutgoingMessage{MsgType: "text", Content: "2"}},
		{"resident: description", wechatsim.OutgoingMessage{MsgType: "text", Content: "村口路灯不亮了"}},
		{"resident: location (附议 lookup)", wechatsim.OutgoingMessage{MsgType: "location", Lat: 22.355, Lng: 112.545, Scale: 15, Label: "石桥村口"}},
		{"resident: 取消", wechatsim.OutgoingMessage{MsgType: "text", Content: "取消"}},
	}
	took := make([][]time.Duration, len(steps))
	failed := make([]string, len(steps))
	for r := range reps {
		openid := fmt.Sprintf("oledger-bench-%d-%d", time.Now().UnixNano(), r)
		for i, st := range steps {
			m := st.msg
			m.MsgID = ep.ids.Add(1)
			start := time.Now()
			res, err := ep.Sim.Post(ctx, openid, m)
			d := time.Since(start)
			switch {
			case err != nil:
				failed[i] = shorten(err.Error())
			case res.Status != http.StatusOK || res.Reply == "" || strings.Contains(res.Reply, "系统繁忙"):
				failed[i] = shorten(fmt.Sprintf("HTTP %d %q", res.Status, res.Reply))
			default:
				took[i] = append(took[i], d)
			}
		}
	}
	for i, st := range steps {
		if failed[i] != "" {
			col.set(st.name, "fails: "+failed[i])
			continue
		}
		slices.Sort(took[i])
		col.set(st.name, fmt.Sprintf("%s (max %s)", roundDur(took[i][len(took[i])/2]), roundDur(took[i][len(took[i])-1])))
	}
}

// timeSweep opens the store as serve does and times the router's
// supervision sweep (routing.Sweeper.Sweep) on it, serve stopped.
func timeSweep(ctx context.Context, s *Setup, inst InstanceOptions, dbPath string, reps int, col *LedgerColumn) error {
	town, err := configs.LoadTown(s.town, filepath.Join(s.opt.Repo, "configs", "categories.yaml"))
	if err != nil {
		return err
	}
	var st store.Store
	if inst.Valkey != "" {
		st, err = valkeystore.Open(ctx, valkeystore.Options{Addr: strings.Split(inst.Valkey, ","), Prefix: inst.Prefix, Tag: inst.Tag, CasePrefix: town.CasePrefix, Figures: core.FigureRule{Town: town}})
	} else {
		st, err = embedded.Open(dbPath, embedded.Options{CasePrefix: town.CasePrefix, Figures: core.FigureRule{Town: town}})
	}
	if err != nil {
		return err
	}
	defer st.Close()
	sw := &routing.Sweeper{Ledger: &core.Ledger{Store: st, Town: town}, Log: slog.New(slog.DiscardHandler)}
	median(reps, col, "supervision sweep (routing.Sweeper.Sweep)", func() error {
		_, err := sw.Sweep(ctx)
		return err
	})
	return nil
}

// memoryMeter is the Valkey server or cluster a column's store is on: its
// used_memory, for the storage per case.
type memoryMeter interface{ usedMemory() (int64, error) }

// usedMemory reads used_memory from the server's INFO memory.
func (v *Valkey) usedMemory() (int64, error) {
	conn, err := net.DialTimeout("tcp", v.Addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("INFO memory\r\n")); err != nil {
		return 0, err
	}
	r := bufio.NewReader(conn)
	head, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	var n int
	if _, err := fmt.Sscanf(head, "$%d", &n); err != nil {
		return 0, fmt.Errorf("INFO memory: %q", head)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("INFO memory: no used_memory")
}
