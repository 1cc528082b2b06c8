package core

import (
	"reflect"
	"testing"
	"time"
)

func figuresTown(t *testing.T) *Town {
	t.Helper()
	town, err := NewTown(Town{
		Name: "测试镇", CasePrefix: "ST",
		Villages:    []Village{{ID: "v1", Name: "东村"}, {ID: "v2", Name: "西村"}},
		Departments: []Department{{ID: "cj", Name: "城建办"}},
		Staff: []Staff{
			{ID: "l1", Name: "甲", Role: RoleGridLeader},
			{ID: "l2", Name: "乙", Role: RoleGridLeader},
		},
		Grids: []Grid{
			{ID: "g1", Name: "一格", Kind: GridLarge, Village: "v1", LeaderA: "l1", LeaderB: "l2"},
			{ID: "g2", Name: "二格", Kind: GridLarge, Village: "v2", LeaderA: "l2", LeaderB: "l1"},
		},
		Categories: []Category{{Code: "road", Name: "道路", DeadlineHours: 48, AcceptMinutes: 60}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return town
}

// figureCases is a small month of work. November 2026, China time:
//
//	A g1: assigned, accepted after 30 min, resolved in time, rated 5, closed 11-03
//	B g1: assigned, accepted after 2 h (late), resolved late, rated 2 → reopened 11-10, still open
//	C g2: assigned, never accepted, deadline passed, whistled to cj, red warning
//	D g2: filed 10-30 (last month), resolved 10-31, closed 11-01 unrated
//	E g2: filed 12-01 (next month): counts nowhere in November
func figureCases() ([]Case, []Event) {
	cst := time.FixedZone("CST", 8*3600)
	d := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, cst) }
	oct := func(day, hour int) time.Time { return time.Date(2026, 10, day, hour, 0, 0, 0, cst) }
	cases := []Case{
		{Number: "A", Grid: "g1", Village: "v1", Category: "road", State: StateClosed, Rating: 5,
			CreatedAt: d(1, 9), Deadline: d(3, 9)},
		{Number: "B", Grid: "g1", Village: "v1", Category: "road", State: StateReopened, Rating: 2,
			CreatedAt: d(2, 9), Deadline: d(12, 9)},
		{Number: "C", Grid: "g2", Village: "v2", Category: "road", State: StateAssigned, Warning: WarningRed,
			CreatedAt: d(5, 9), Deadline: d(7, 9), Departments: []Assist{{Department: "cj", State: AssistCalled, Lead: true}}},
		{Number: "D", Grid: "g2", Village: "v2", Category: "road", State: StateClosed,
			CreatedAt: oct(30, 9), Deadline: time.Date(2026, 11, 1, 9, 0, 0, 0, cst)},
		{Number: "E", Grid: "g2", Village: "v2", Category: "road", State: StateAssigned,
			CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, cst), Deadline: time.Date(2026, 12, 3, 9, 0, 0, 0, cst)},
	}
	seq := uint64(0)
	ev := func(c string, k EventKind, actor string, at time.Time) Event {
		seq++
		return Event{Seq: seq, Case: c, Kind: k, Actor: actor, At: at}
	}
	events := []Event{
		ev("A", EventAssigned, ActorSystem, d(1, 9)),
		ev("A", EventAccepted, "l1", d(1, 9).Add(30*time.Minute)),
		ev("A", EventResolved, "l1", d(2, 9)),
		ev("A", EventRated, ActorResident, d(3, 8)),
		ev("A", EventClosed, ActorSystem, d(3, 8)),
		ev("B", EventAssigned, ActorSystem, d(2, 9)),
		ev("B", EventReplied, "l1", d(2, 11)),
		ev("B", EventResolved, "l1", d(5, 9)),
		ev("B", EventRated, ActorResident, d(10, 9)),
		ev("B", EventReopened, ActorSystem, d(10, 9)),
		ev("C", EventAssigned, ActorSystem, d(5, 9)),
		ev("C", EventWhistled, "l2", d(5, 10)),
		ev("D", EventAssigned, ActorSystem, oct(30, 9)),
		ev("D", EventAccepted, "l2", oct(30, 9).Add(10*time.Minute)),
		ev("D", EventResolved, "l2", oct(31, 9)),
		ev("D", EventClosed, ActorSystem, d(1, 8)),
		ev("E", EventAssigned, ActorSystem, time.Date(2026, 12, 1, 9, 0, 0, 0, cst)),
	}
	return cases, events
}

func TestMonthlyLedger(t *testing.T) {
	town := figuresTown(t)
	cases, events := figureCases()
	later := time.Date(2027, 1, 15, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		name  string
		month string
		by    Grouping
		now   time.Time
		want  []LedgerRow
	}{
		{"november by grid", "2026-11", ByGrid, later, []LedgerRow{
			{Key: "g1", Name: "东村 · 一格", Opened: 2, Closed: 1, Open: 1, Overdue: 1, Reopened: 1},
			{Key: "g2", Name: "西村 · 二格", Opened: 1, Closed: 1, Open: 1, Overdue: 1},
			{Key: "total", Name: "合计", Opened: 3, Closed: 2, Open: 2, Overdue: 2, Reopened: 1},
		}},
		{"november by village", "2026-11", ByVillage, later, []LedgerRow{
			{Key: "v1", Name: "东村", Opened: 2, Closed: 1, Open: 1, Overdue: 1, Reopened: 1},
			{Key: "v2", Name: "西村", Opened: 1, Closed: 1, Open: 1, Overdue: 1},
			{Key: "total", Name: "合计", Opened: 3, Closed: 2, Open: 2, Overdue: 2, Reopened: 1},
		}},
		{"november, one row: B (deadline 11-12) and C overdue at its end", "2026-11", ByMonth, later, []LedgerRow{
			{Key: "2026-11", Name: "2026年11月", Opened: 3, Closed: 2, Open: 2, Overdue: 2, Reopened: 1},
			{Key: "total", Name: "合计", Opened: 3, Closed: 2, Open: 2, Overdue: 2, Reopened: 1},
		}},
		{"october: D open at the end, resolved so not overdue", "2026-10", ByMonth, later, []LedgerRow{
			{Key: "2026-10", Name: "2026年10月", Opened: 1, Open: 1},
			{Key: "total", Name: "合计", Opened: 1, Open: 1},
		}},
		{"november seen on the 6th: B resolved, C not yet due, nothing reopened yet", "2026-11", ByMonth,
			time.Date(2026, 11, 6, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)), []LedgerRow{
				{Key: "2026-11", Name: "2026年11月", Opened: 3, Closed: 2, Open: 2},
				{Key: "total", Name: "合计", Opened: 3, Closed: 2, Open: 2},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := MonthlyLedger(town, cases, events, tt.month, tt.by, tt.now)
			if !ok {
				t.Fatal("month refused")
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d rows %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
	if _, ok := MonthlyLedger(town, cases, events, "2026-13", ByGrid, later); ok {
		t.Error("month 2026-13 accepted")
	}
}

func TestRates(t *testing.T) {
	town := figuresTown(t)
	cases, events := figureCases()
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		by   Grouping
		want []RateRow
	}{
		// E (December) is in the future of now, but still a case: it has
		// not been decided, so it counts in Cases only.
		{ByGrid, []RateRow{
			{Key: "g1", Name: "东村 · 一格", Cases: 2, ResponseDue: 2, ResponseOnTime: 1, ResolutionDue: 2, ResolutionOnTime: 1, Rated: 2, Satisfied: 1},
			{Key: "g2", Name: "西村 · 二格", Cases: 3, ResponseDue: 2, ResponseOnTime: 1, ResolutionDue: 2, ResolutionOnTime: 1},
			{Key: "total", Name: "合计", Cases: 5, ResponseDue: 4, ResponseOnTime: 2, ResolutionDue: 4, ResolutionOnTime: 2, Rated: 2, Satisfied: 1},
		}},
		{ByDepartment, []RateRow{
			{Key: "cj", Name: "城建办", Cases: 1, ResponseDue: 1, ResolutionDue: 1},
			{Key: "total", Name: "合计", Cases: 5, ResponseDue: 4, ResponseOnTime: 2, ResolutionDue: 4, ResolutionOnTime: 2, Rated: 2, Satisfied: 1},
		}},
		{ByMonth, []RateRow{
			{Key: "2026-12", Name: "2026年12月", Cases: 1},
			{Key: "2026-11", Name: "2026年11月", Cases: 3, ResponseDue: 3, ResponseOnTime: 1, ResolutionDue: 3, ResolutionOnTime: 1, Rated: 2, Satisfied: 1},
			{Key: "2026-10", Name: "2026年10月", Cases: 1, ResponseDue: 1, ResponseOnTime: 1, ResolutionDue: 1, ResolutionOnTime: 1},
			{Key: "total", Name: "合计", Cases: 5, ResponseDue: 4, ResponseOnTime: 2, ResolutionDue: 4, ResolutionOnTime: 2, Rated: 2, Satisfied: 1},
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.by), func(t *testing.T) {
			got := Rates(town, Rules{}, cases, events, tt.by, now)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestPercent(t *testing.T) {
	for _, tt := range []struct {
		part, whole int
		want        string
	}{{1, 2, "50.0%"}, {2, 3, "66.7%"}, {0, 0, "—"}, {3, 3, "100.0%"}} {
		if got := Percent(tt.part, tt.whole); got != tt.want {
			t.Errorf("Percent(%d, %d) = %q, want %q", tt.part, tt.whole, got, tt.want)
		}
	}
}

func TestBoard(t *testing.T) {
	town := figuresTown(t)
	cases, _ := figureCases()
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	got := Board(town, cases, now)
	want := []struct {
		kind                       Grouping
		key                        string
		open, yellow, red, overdue int
		cases                      int
	}{
		{ByGrid, "g1", 1, 0, 0, 1, 1}, // B: reopened, deadline 11-12 passed
		{ByGrid, "g2", 2, 0, 1, 1, 1}, // C red and overdue; E not yet due
		{ByDepartment, "cj", 1, 0, 1, 1, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("board %+v", got)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.kind || g.Key != w.key || g.Open != w.open || g.Yellow != w.yellow || g.Red != w.red ||
			g.Overdue != w.overdue || len(g.Cases) != w.cases {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
	}
}

// TestBoardOfMarks checks the board from the marks a store keeps against
// the board from the cases themselves, for every scope: the same rows,
// with a stopped clock and a returned whistle counted alike.
func TestBoardOfMarks(t *testing.T) {
	town := figuresTown(t)
	cases, events := figureCases()
	cst := time.FixedZone("CST", 8*3600)
	cases = append(cases,
		Case{Number: "F", Grid: "g1", Village: "v1", Category: "road", State: StateInProgress, Paused: true,
			Warning: WarningYellow, CreatedAt: time.Date(2026, 11, 3, 9, 0, 0, 0, cst), Deadline: time.Date(2026, 11, 5, 9, 0, 0, 0, cst)},
		Case{Number: "G", Grid: "g2", Village: "v2", Category: "road", State: StateAssigned,
			CreatedAt: time.Date(2026, 11, 4, 9, 0, 0, 0, cst), Deadline: time.Date(2026, 11, 6, 9, 0, 0, 0, cst),
			Departments: []Assist{{Department: "cj", State: AssistReturned}, {Department: "zj", State: AssistCalled}}},
		Case{Number: "H", Grid: "g1", Village: "v1", Category: "road", State: StateResolved,
			CreatedAt: time.Date(2026, 11, 4, 9, 0, 0, 0, cst), Deadline: time.Date(2026, 11, 6, 9, 0, 0, 0, cst)})
	rule := FigureRule{Town: town}
	var tally FigureTally
	for i := range cases {
		var evs []Event
		for _, e := range events {
			if e.Case == cases[i].Number {
				evs = append(evs, e)
			}
		}
		m, _ := rule.Mark(nil, &cases[i], evs)
		if m.State != StateClosed {
			tally.Live = append(tally.Live, m)
		}
	}
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, cst)
	for _, tt := range []struct {
		name  string
		scope FigureScope
		sees  func(*Case) bool
	}{
		{"town", FigureScope{}, func(*Case) bool { return true }},
		{"village v2", FigureScope{Village: "v2"}, func(c *Case) bool { return c.Village == "v2" }},
		{"grid g1", FigureScope{Grids: []string{"g1"}}, func(c *Case) bool { return c.Grid == "g1" }},
		{"department cj", FigureScope{Department: "cj"}, func(c *Case) bool { return c.Assist("cj") != nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var seen []Case
			for _, c := range cases {
				if tt.sees(&c) {
					seen = append(seen, c)
				}
			}
			want, got := Board(town, seen, now), BoardOf(town, tally, tt.scope, now)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("board of marks\n%+v\nwant (of cases)\n%+v", got, want)
			}
			if len(want) == 0 {
				t.Error("nothing on the board: the test shows nothing")
			}
		})
	}
	// What the added cases check: F's clock is stopped (yellow, not
	// overdue); G was returned by cj, so cj's row does not count it.
	for _, r := range Board(town, cases, now) {
		if r.Kind == ByDepartment && r.Key == "cj" && r.Open != 1 {
			t.Errorf("cj counts %d open cases, want 1 (G was returned)", r.Open)
		}
		if r.Kind == ByGrid && r.Key == "g1" && (r.Open != 2 || r.Yellow != 1 || r.Overdue != 1) {
			t.Errorf("g1 %+v, want 2 open, 1 yellow, 1 overdue (F is paused)", r)
		}
	}
}

// TestRemarkLeavesTheOldMarks: bringing marks up to this layout reads the
// case's departments into slices of the new marks' own, so the old marks
// — what the counters take back, and maybe a store's cache — stay as
// they were.
func TestRemarkLeavesTheOldMarks(t *testing.T) {
	old := FigureMarks{Number: "A", Month: "2026-11", Grid: "g1", State: StateAssigned,
		Departments: []string{"cj"}, Version: MarksVersionBoard - 1}
	c := Case{Number: "A", Grid: "g1", State: StateAssigned, Warning: WarningRed,
		Departments: []Assist{{Department: "zj", State: AssistReturned}}}
	m, _, ok := FigureRule{}.Remark(&old, &c, nil)
	if !ok {
		t.Fatal("marks of the layout before not brought up")
	}
	if !reflect.DeepEqual(old.Departments, []string{"cj"}) {
		t.Errorf("the old marks' departments became %v", old.Departments)
	}
	if m.Version != MarksVersion || m.Warning != WarningRed || !reflect.DeepEqual(m.Departments, []string{"zj"}) ||
		!reflect.DeepEqual(m.Returned, []string{"zj"}) {
		t.Errorf("brought up: %+v", m)
	}
}
