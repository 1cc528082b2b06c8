package core

import (
	"sort"
	"time"
)

// GridWorkRow counts the grid's own work in one unit (grid, village,
// department or month): cases found by the grid itself (主动发现) beside
// all cases. Like the rates, it is a pure function of cases and events, so
// the page and its download agree.
type GridWorkRow struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	Cases int    `json:"cases"`
	// Found counts the cases the grid found and reported itself.
	Found int `json:"found"`
	// CallbacksDue counts the callback visits (回访) recorded or past
	// their date; CallbacksOnTime those recorded by their date.
	CallbacksDue    int `json:"callbacks_due"`
	CallbacksOnTime int `json:"callbacks_on_time"`
	// Supervised counts the cases a town leader instructed on (督办).
	Supervised int `json:"supervised"`
	// Mediated counts the disputes whose mediation ended, Settled those
	// settled (化解).
	Mediated int `json:"mediated"`
	Settled  int `json:"settled"`
}

// SettleRate renders the mediation rate (化解率).
func (r GridWorkRow) SettleRate() string { return Percent(r.Settled, r.Mediated) }

func (r *GridWorkRow) add(o GridWorkRow) {
	r.Cases += o.Cases
	r.Found += o.Found
	r.CallbacksDue += o.CallbacksDue
	r.CallbacksOnTime += o.CallbacksOnTime
	r.Supervised += o.Supervised
	r.Mediated += o.Mediated
	r.Settled += o.Settled
}

// CallbackRate renders the share of callbacks done in time.
func (r GridWorkRow) CallbackRate() string { return Percent(r.CallbacksOnTime, r.CallbacksDue) }

// FoundRate renders the share of cases found by the grid.
func (r GridWorkRow) FoundRate() string { return Percent(r.Found, r.Cases) }

// GridWork computes the grid's own work grouped by by, as things stand at
// now, in key order (months newest first) with a total row keyed "total".
func GridWork(town *Town, cases []Case, events []Event, by Grouping, now time.Time) []GridWorkRow {
	rows := map[string]*GridWorkRow{}
	total := &GridWorkRow{Key: "total", Name: "合计"}
	byCase := make(map[string][]Event, len(cases))
	for _, e := range events {
		switch e.Kind {
		case EventCallbackDue, EventCalledBack:
			byCase[e.Case] = append(byCase[e.Case], e)
		}
	}
	for i := range cases {
		c := &cases[i]
		line := GridWorkRow{Cases: 1}
		if c.Found() {
			line.Found = 1
		}
		line.CallbacksDue, line.CallbacksOnTime = callbacksOf(byCase[c.Number], now)
		if c.Supervised() {
			line.Supervised = 1
		}
		if m := c.Mediation; m != nil && m.Result != "" {
			line.Mediated = 1
			if m.Result == MediationSettled {
				line.Settled = 1
			}
		}
		tallyRows(rows, unitsOf(town, c, by), line, func(key string) GridWorkRow {
			return GridWorkRow{Key: key, Name: unitName(town, by, key)}
		})
		total.add(line)
	}
	return sortedWithTotal(rows, *total, by, func(r GridWorkRow) string { return r.Key })
}

// callbacksOf counts a case's callbacks that are due (recorded, or past
// their date at now) and those recorded by their date, from its callback
// events.
func callbacksOf(evs []Event, now time.Time) (due, onTime int) {
	sort.Slice(evs, func(a, b int) bool { return evs[a].Seq < evs[b].Seq })
	var waiting *Event
	for i := range evs {
		e := &evs[i]
		switch e.Kind {
		case EventCallbackDue:
			waiting = e
		case EventCalledBack:
			if waiting == nil {
				continue
			}
			waiting = nil
			due++
			if e.Data[DataOnTime] == "true" {
				onTime++
			}
		}
	}
	if waiting != nil {
		if t, err := time.Parse(time.RFC3339, waiting.Data[DataDue]); err == nil && now.After(t) {
			due++
		}
	}
	return due, onTime
}

// gridWork copies the grid's own work on c into its marks.
func (m *FigureMarks) gridWork(c *Case) {
	m.Version = MarksVersion
	m.Origin, m.Supervised = FigureOrigin(c), c.Supervised()
	m.Mediation = ""
	if c.Mediation != nil {
		m.Mediation = c.Mediation.Result
	}
	m.CallbackDue = time.Time{}
	if c.Callback != nil {
		m.CallbackDue = c.Callback.Due
	}
}

// contributeGridWork sets the grid's own counters of what the case adds.
func (m *FigureMarks) contributeGridWork(own *FigureCounts) {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	own[FigSupervised] = b(m.Supervised)
	own[FigMediated], own[FigSettled] = b(m.Mediation != ""), b(m.Mediation == MediationSettled)
	own[FigCallbacksDue], own[FigCallbacksOnTime] = m.CallbacksDone, m.CallbacksOnTime
}

// Remark brings marks of an older layout (Version < MarksVersion) to this
// one: the grid's own work is taken from the case and its whole log, the
// rest kept as counted, and the deltas are what that adds to the counters.
// ok is false when the marks are current.
func (r FigureRule) Remark(old *FigureMarks, c *Case, evs []Event) (FigureMarks, FigureDeltas, bool) {
	if old == nil || old.Version >= MarksVersion {
		return FigureMarks{}, nil, false
	}
	m := *old
	m.CallbacksDone, m.CallbacksOnTime = 0, 0
	for _, e := range evs {
		if e.Kind == EventCalledBack {
			m.CallbacksDone++
			if e.Data[DataOnTime] == "true" {
				m.CallbacksOnTime++
			}
		}
	}
	m.gridWork(c)
	m.boardFacts(c)
	deltas := FigureDeltas{}
	m.contribute(deltas, 1)
	old.contribute(deltas, -1)
	for k, v := range deltas {
		if v == (FigureCounts{}) {
			delete(deltas, k)
		}
	}
	return m, deltas, true
}

// GridWorkOf computes the grid's own work from a tally, as GridWork does
// from the cases and their events: the counters, plus the callbacks
// waiting past their date at now.
func GridWorkOf(town *Town, t FigureTally, scope FigureScope, by Grouping, now time.Time) []GridWorkRow {
	rows := map[string]*GridWorkRow{}
	total := &GridWorkRow{Key: "total", Name: "合计"}
	newRow := func(key string) GridWorkRow { return GridWorkRow{Key: key, Name: unitName(town, by, key)} }
	for cell, v := range t.Cells {
		if cell.Month == "" {
			continue // a category's cell
		}
		line := GridWorkRow{Cases: v[FigCases], Found: v[FigFound], CallbacksDue: v[FigCallbacksDue],
			CallbacksOnTime: v[FigCallbacksOnTime], Supervised: v[FigSupervised], Mediated: v[FigMediated], Settled: v[FigSettled]}
		if line == (GridWorkRow{}) {
			continue
		}
		tallyRows(rows, scope.keysOf(cell, by, cell.Month), line, newRow)
		if scope.base(cell) {
			total.add(line)
		}
	}
	for i := range t.Callbacks {
		m := &t.Callbacks[i]
		if m.CallbackDue.IsZero() || !now.After(m.CallbackDue) || !scope.seesMarks(m) {
			continue
		}
		line := GridWorkRow{CallbacksDue: 1}
		tallyRows(rows, scope.marksKeys(m, by), line, newRow)
		total.add(line)
	}
	return sortedWithTotal(rows, *total, by, func(r GridWorkRow) string { return r.Key })
}

// CallbackWaiting is what GridWorkOf reads of a case with a callback
// waiting (FigureTally.Callbacks): its number, month, village, grid,
// departments and the callback's date, nothing else. ok is false when
// none waits. Stores keep it apart from the case, in the write that
// changes the case, so that a figures page reads these few fields and not
// every such case (thousands in a city's ledger).
func (m *FigureMarks) CallbackWaiting() (w FigureMarks, ok bool) {
	if m.CallbackDue.IsZero() {
		return FigureMarks{}, false
	}
	return FigureMarks{Number: m.Number, Month: m.Month, Village: m.Village, Grid: m.Grid,
		Departments: m.Departments, CallbackDue: m.CallbackDue}, true
}
