package ledgerfill_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/ledgerfill"
	"gridbot/store/embedded"
)

// A fill writes, through the ledger, cases in every category with the
// states and events a real ledger has, dated within the years asked for.
// sampleTown is the project's sample town and categories.
func sampleTown(t *testing.T) *core.Town {
	t.Helper()
	town, err := configs.LoadTown("../configs/town.yaml", "../configs/categories.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return town
}

// openStore opens an embedded store of the test's own for a fill of town,
// with opt's extras; it is closed with the test.
func openStore(t *testing.T, town *core.Town, opt embedded.Options) *embedded.Store {
	t.Helper()
	opt.CasePrefix, opt.NoSync = town.CasePrefix, true
	st, err := embedded.Open(filepath.Join(t.TempDir(), "fill.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestFillWritesARealisticHistory(t *testing.T) {
	town := sampleTown(t)
	st := openStore(t, town, embedded.Options{})
	ctx := context.Background()
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, town.Zone())
	const n = 600
	stats, err := ledgerfill.Fill(ctx, &core.Ledger{Store: st, Town: town},
		ledgerfill.Options{Cases: n, Years: 2, End: end, Seed: 7, Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Cases != n || stats.Events < 6*n || stats.Open == 0 || stats.Open > n/5 {
		t.Fatalf("stats %+v: want %d cases, about ten events each, a few open", stats, n)
	}
	cases, err := st.Cases(ctx, core.CaseQuery{Limit: 10 * n})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != n {
		t.Fatalf("%d cases stored, want %d", len(cases), n)
	}
	states, categories, grids := map[core.State]int{}, map[string]bool{}, map[string]bool{}
	first, last := end, end.AddDate(-2, 0, 0)
	joined := 0
	origins := map[string]int{}
	for _, c := range cases {
		states[c.State]++
		categories[c.Category], grids[c.Grid] = true, true
		first, last = minTime(first, c.CreatedAt), maxTime(last, c.CreatedAt)
		if c.CreatedAt.Before(end.AddDate(-2, 0, 0)) || c.CreatedAt.After(end) {
			t.Errorf("%s filed %s, outside the two years to %s", c.Number, c.CreatedAt, end)
		}
		if c.State == core.StateClosed && c.CreatedAt.After(end.Add(-21*24*time.Hour)) == false && c.Resident == "" && !c.Found() {
			t.Errorf("%s has no resident", c.Number)
		}
		origins[core.FigureOrigin(&c)]++
		joined += len(c.Joined)
	}
	if len(categories) != len(town.Categories) {
		t.Errorf("%d categories used, want all %d", len(categories), len(town.Categories))
	}
	if len(grids) < len(town.Grids)*3/4 {
		t.Errorf("%d grids used of %d", len(grids), len(town.Grids))
	}
	if states[core.StateClosed] < n/2 || states[core.StateClosed] == n {
		t.Errorf("states %v: want mostly closed, some still open", states)
	}
	if joined == 0 {
		t.Error("nobody joined a case (附议)")
	}
	// Mostly residents in WeChat; some found on patrol, some filed at the desk.
	if origins[core.OriginOfResident] < n/2 || origins[core.OriginOfPatrol] < n/20 || origins[core.OriginOfProxy] < n/40 {
		t.Errorf("origins %v", origins)
	}
	if last.Sub(first) < 600*24*time.Hour {
		t.Errorf("cases filed from %s to %s: not spread over the years", first, last)
	}
	kinds := map[core.EventKind]int{}
	evs, err := st.EventsSince(ctx, 0, 100*n)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != stats.Events {
		t.Errorf("%d events stored, the fill counted %d", len(evs), stats.Events)
	}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	for _, k := range []core.EventKind{core.EventSubmitted, core.EventAssigned, core.EventAccepted, core.EventReplied,
		core.EventWhistled, core.EventSigned, core.EventResolved, core.EventRated, core.EventReopened,
		core.EventClosed, core.EventWarned, core.EventEscalated, core.EventTransferred, core.EventDelivered,
		core.EventUndeliverable, core.EventJoined, core.EventCallbackDue, core.EventCalledBack} {
		if kinds[k] == 0 {
			t.Errorf("no %s event in the history (%v)", k, kinds)
		}
	}
	// The villages make most of their callbacks (回访); a few wait, the
	// newest and the forgotten.
	waiting := 0
	for _, c := range cases {
		if c.Callback != nil {
			waiting++
		}
	}
	if kinds[core.EventCalledBack] < kinds[core.EventCallbackDue]*3/4 || waiting > kinds[core.EventCallbackDue]/5 {
		t.Errorf("%d callbacks made of %d due, %d waiting: want most made", kinds[core.EventCalledBack], kinds[core.EventCallbackDue], waiting)
	}
	// Figures computed from it read like a town's: most answered in time.
	rows := core.Rates(town, core.Rules{}, cases, evs, core.ByGrid, end)
	total := rows[len(rows)-1]
	if total.Cases != n || total.Rated == 0 || total.ResolutionOnTime*10 < total.ResolutionDue*6 {
		t.Errorf("figures %+v: want every case counted, most resolved on time", total)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// A fill completes whatever the seed, and on a town whose grid has the
// same leader on post A and post B (the sweep's handover then changes
// nothing): these once failed with "rate settled X, not Y" and "accept by
// \"\"".
func TestFillCompletesOnEverySeed(t *testing.T) {
	town := sampleTown(t)
	for i := range town.Grids {
		if i%2 == 0 {
			town.Grids[i].LeaderB = town.Grids[i].LeaderA
		}
	}
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, town.Zone())
	for seed := uint64(1); seed <= 4; seed++ {
		st, err := embedded.Open(filepath.Join(t.TempDir(), "fill.db"), embedded.Options{CasePrefix: town.CasePrefix, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		// Few cases a year over a short span packs each resident's cases
		// into the open tail, where one can wait for a rating.
		_, err = ledgerfill.Fill(context.Background(), &core.Ledger{Store: st, Town: town},
			ledgerfill.Options{Cases: 200, Years: 1, End: end, Seed: seed, Workers: 4})
		st.Close()
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// The figures kept as counters in the store's writes agree with the
// figures computed from the whole history, for every grouping and month.
func TestFiguresKeptAgreeWithHistory(t *testing.T) {
	town := sampleTown(t)
	st := openStore(t, town, embedded.Options{Figures: core.FigureRule{Town: town}})
	ctx := context.Background()
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, town.Zone())
	const n = 800
	if _, err := ledgerfill.Fill(ctx, &core.Ledger{Store: st, Town: town},
		ledgerfill.Options{Cases: n, Years: 1, End: end, Seed: 3, Workers: 4}); err != nil {
		t.Fatal(err)
	}
	cases, err := st.Cases(ctx, core.CaseQuery{Limit: 10 * n})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := st.EventsSince(ctx, 0, 100*n)
	if err != nil {
		t.Fatal(err)
	}
	tally, err := st.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The fill's last steps run a little past its end; the figures are
	// read after every event, as a ledger is read.
	last := end
	for _, e := range evs {
		last = maxTime(last, e.At)
	}
	for _, now := range []time.Time{last.Add(time.Second), last.Add(36 * time.Hour), last.Add(40 * 24 * time.Hour)} {
		for _, by := range []core.Grouping{core.ByGrid, core.ByVillage, core.ByDepartment, core.ByMonth} {
			want := core.Rates(town, core.Rules{}, cases, evs, by, now)
			got := core.RatesOf(town, core.Rules{}, tally, core.FigureScope{}, by, now)
			compareRows(t, "rates by "+string(by), got, want)
			compareRows(t, "grid's own work by "+string(by), core.GridWorkOf(town, tally, core.FigureScope{}, by, now),
				core.GridWork(town, cases, evs, by, now))
			for _, month := range []string{"2026-11", "2026-12", "2026-10", "2026-06", "2025-12"} {
				want, _ := core.MonthlyLedger(town, cases, evs, month, by, now)
				got, _ := core.MonthlyLedgerOf(town, tally, core.FigureScope{}, month, by, now)
				compareRows(t, "ledger "+month+" by "+string(by), got, want)
			}
		}
	}
	// What a village and a department see: their own cases' figures.
	dept := ""
	for _, c := range cases {
		if len(c.Departments) > 0 {
			dept = c.Departments[0].Department
		}
	}
	for _, scope := range []core.FigureScope{{Village: town.Grids[0].Village}, {Department: dept}} {
		var mine []core.Case
		for _, c := range cases {
			if (scope.Village == "" || c.Village == scope.Village) && (scope.Department == "" || c.Assist(scope.Department) != nil) {
				mine = append(mine, c)
			}
		}
		for _, by := range []core.Grouping{core.ByGrid, core.ByMonth} {
			want := core.Rates(town, core.Rules{}, mine, evs, by, last.Add(time.Hour))
			got := core.RatesOf(town, core.Rules{}, tally, scope, by, last.Add(time.Hour))
			compareRows(t, fmt.Sprintf("rates by %s for %+v", by, scope), got, want)
			compareRows(t, fmt.Sprintf("grid's own work by %s for %+v", by, scope),
				core.GridWorkOf(town, tally, scope, by, last.Add(time.Hour)), core.GridWork(town, mine, evs, by, last.Add(time.Hour)))
			wantL, _ := core.MonthlyLedger(town, mine, evs, "2026-09", by, last.Add(time.Hour))
			gotL, _ := core.MonthlyLedgerOf(town, tally, scope, "2026-09", by, last.Add(time.Hour))
			compareRows(t, fmt.Sprintf("ledger by %s for %+v", by, scope), gotL, wantL)
		}
	}
}

func compareRows[R comparable](t *testing.T, what string, got, want []R) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d\n got %+v\nwant %+v", what, len(got), len(want), got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: row %d\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

// The sweep lists exactly the cases Supervise changes: none it would
// change is left out (a warning or escalation never skipped), and none it
// lists is left unchanged, at several moments over a filled ledger's open
// cases.
func TestSweepListsWhatIsDue(t *testing.T) {
	town := sampleTown(t)
	st := openStore(t, town, embedded.Options{})
	ctx := context.Background()
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, town.Zone())
	if _, err := ledgerfill.Fill(ctx, &core.Ledger{Store: st, Town: town},
		ledgerfill.Options{Cases: 1000, Years: 1, End: end, Seed: 5, Workers: 4}); err != nil {
		t.Fatal(err)
	}
	now := end
	l := &core.Ledger{Store: st, Town: town, Now: func() time.Time { return now }}
	for _, step := range []time.Duration{time.Hour, 20 * time.Hour, 3 * 24 * time.Hour, 10 * 24 * time.Hour} {
		now = now.Add(step)
		listed, err := l.CasesToSweep(ctx, 100000)
		if err != nil {
			t.Fatal(err)
		}
		due := map[string]bool{}
		for _, c := range listed {
			due[c.Number] = c.State != core.StateSubmitted
		}
		open, err := st.Cases(ctx, core.CaseQuery{States: core.SweptStates, Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		changed := 0
		for _, c := range open {
			_, _, err := l.Supervise(ctx, c.Number)
			switch {
			case errors.Is(err, core.ErrNoChange):
				if due[c.Number] {
					t.Errorf("at %s: %s listed, but Supervise changed nothing", now, c.Number)
				}
			case err != nil:
				t.Fatal(err)
			default:
				changed++
				if _, ok := due[c.Number]; !ok {
					t.Errorf("at %s: Supervise changed %s (%s), which the sweep did not list", now, c.Number, c.State)
				}
			}
		}
		t.Logf("at +%s: %d open, %d listed, %d changed", now.Sub(end), len(open), len(listed), changed)
		if changed == 0 && step > time.Hour {
			t.Errorf("at %s nothing was due: the test tests nothing", now)
		}
	}
}

// TestFillGoesOnFrom: a fill stopped part way goes on with From: it
// writes the cases from there, the same ones a whole fill writes there
// (the later filing times), and says where a stopped fill goes on.
func TestFillGoesOnFrom(t *testing.T) {
	town := sampleTown(t)
	ctx := context.Background()
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, town.Zone())
	const n, from = 80, 50
	filed := func(opt ledgerfill.Options) ([]time.Time, ledgerfill.Stats) {
		st := openStore(t, town, embedded.Options{})
		opt.Cases, opt.Years, opt.End, opt.Seed, opt.Workers = n, 1, end, 3, 4
		stats, err := ledgerfill.Fill(ctx, &core.Ledger{Store: st, Town: town}, opt)
		if err != nil {
			t.Fatal(err)
		}
		cases, err := st.Cases(ctx, core.CaseQuery{Limit: 10 * n})
		if err != nil {
			t.Fatal(err)
		}
		var at []time.Time
		for _, c := range cases {
			at = append(at, c.CreatedAt)
		}
		slices.SortFunc(at, time.Time.Compare)
		return at, stats
	}
	whole, stats := filed(ledgerfill.Options{})
	if len(whole) != n || stats.Next != n {
		t.Fatalf("a whole fill: %d cases, next %d; want %d and %d", len(whole), stats.Next, n, n)
	}
	rest, stats := filed(ledgerfill.Options{From: from})
	if stats.Cases != n-from || stats.Next != n || !slices.EqualFunc(rest, whole[from:], time.Time.Equal) {
		t.Fatalf("from %d: %d cases filed %v…, next %d; want the whole fill's last %d, filed %v…",
			from, stats.Cases, rest[:1], stats.Next, n-from, whole[from])
	}

	// Stopped: every case before Next is written.
	st := openStore(t, town, embedded.Options{})
	stopped, stop := context.WithCancel(ctx)
	defer stop()
	const many = 400 // enough residents left to rate a case when it stops
	counted := &stopAfter{Store: st, after: 2500, stop: stop}
	stats, err := ledgerfill.Fill(stopped, &core.Ledger{Store: counted, Town: town},
		ledgerfill.Options{Cases: many, Years: 1, End: end, Seed: 3, Workers: 4})
	if err == nil || stats.Next == 0 || stats.Next >= many || stats.Cases < stats.Next {
		t.Fatalf("stopped: %v, %+v; want an error and a place to go on from", err, stats)
	}
	if _, err := ledgerfill.Fill(ctx, &core.Ledger{Store: st, Town: town},
		ledgerfill.Options{Cases: many, Years: 1, End: end, Seed: 3, Workers: 4, From: many}); err == nil {
		t.Fatal("a fill from its end: no error")
	}
	// Going on into the same ledger: the residents of the run that stopped,
	// some still to rate a case, are not taken again.
	again, err := ledgerfill.Fill(ctx, &core.Ledger{Store: st, Town: town},
		ledgerfill.Options{Cases: many, Years: 1, End: end, Seed: 3, Workers: 4, From: stats.Next})
	if err != nil || again.Next != many {
		t.Fatalf("going on from %d: %v, %+v", stats.Next, err, again)
	}
	all, err := st.Cases(ctx, core.CaseQuery{Limit: 10 * many})
	if err != nil || len(all) < many {
		t.Fatalf("after going on: %d cases, %v; want at least %d", len(all), err, many)
	}
}

// stopAfter cancels a fill after that many writes.
type stopAfter struct {
	*embedded.Store
	after, writes int
	mu            sync.Mutex
	stop          func()
}

func (s *stopAfter) UpdateCase(ctx context.Context, number string, fn func(*core.Case) ([]core.Event, error)) (core.Case, []core.Event, error) {
	s.mu.Lock()
	if s.writes++; s.writes == s.after {
		s.stop()
	}
	s.mu.Unlock()
	return s.Store.UpdateCase(ctx, number, fn)
}
