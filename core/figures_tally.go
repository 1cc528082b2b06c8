package core

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is the pure rule of the figures kept as counters: what each
// write of a case adds to which counter, so that the three rates and the
// monthly ledger cost the number of counter cells and of cases not closed,
// never the whole history. The stores keep, in the same write as the case,
// the case's FigureMarks and the counters of every FigureCell
// (CaseStore.Figures); RatesOf and MonthlyLedgerOf read them.
//
// What a case adds is a function of its marks alone (contribution): a
// write computes the marks after it, and adds to the counters the
// difference between what the case adds after and before. A case that is
// reopened, whistled to another department or moved to another grid so
// moves its counts exactly. What depends on the time of reading (an accept
// time or a deadline running out) is never counted: it is read from the
// marks of the cases not closed (FigureTally.Live), which is what makes the
// cost grow with the open work and not with the years.
//
// Differences from computing the figures from the whole history (Rates,
// MonthlyLedger, kept for tests and as the definition): whether a response
// was in time is decided with the accept time in force when it happened,
// and "overdue at a month's end" with the deadline the case had then, not
// with today's (a ledger that is settled does not change afterwards).

// FigureCell is one cell of counters: the cases filed in one month (rates,
// opened) or the events of one month (closed, reopened, overdue at its
// end), of one village and grid, for the case as a whole (Department "")
// or for one department whistled to it. The cases filed by category are
// counted apart, in cells with no month and a Category (their FigCases
// alone), so that the cells of the months stay few: months × grids ×
// (departments + 1), a few thousand for a town's three years.
type FigureCell struct {
	Month      string // "2006-01" in the town's zone; "" in a category's cell
	Village    string
	Grid       string
	Category   string // only in a category's cell
	Department string
}

const cellSep = "\x1f"

// Key is the cell as stores keep it.
func (c FigureCell) Key() string {
	return c.Month + cellSep + c.Village + cellSep + c.Grid + cellSep + c.Category + cellSep + c.Department
}

// ParseFigureCell reads a cell's Key back.
func ParseFigureCell(key string) (FigureCell, bool) {
	p := strings.Split(key, cellSep)
	if len(p) != 5 {
		return FigureCell{}, false
	}
	return FigureCell{Month: p[0], Village: p[1], Grid: p[2], Category: p[3], Department: p[4]}, true
}

// The counters of a cell, by index in FigureCounts.
const (
	FigCases = iota
	FigResponseDue
	FigResponseOnTime
	FigResolutionDue
	FigResolutionOnTime
	FigRated
	FigSatisfied
	FigExtended
	FigOpened
	FigClosed
	FigReopened
	FigReopenedClosed // reopenings of a closed case: the monthly ledger's open count
	FigOverdueAtEnd
	// Where the cases filed came from (counted in the month filed, like
	// FigCases): filed by a resident in WeChat (群众上报), found by the
	// grid itself (主动发现, OriginPatrol), or filed by staff for a
	// resident who phoned or came in (代录, Case.Channel). Marks written
	// before the origin was kept are brought up to date when a store opens
	// (FigureRule.Remark, MarksVersion 2).
	FigByResident
	FigFound
	FigByProxy
	// The grid's own work (gridwork_figures.go), in the case's cells of
	// the month it was filed (主动发现 is FigFound): callbacks recorded and
	// those in time, under a leader's instruction, mediation ended and
	// settled.
	FigCallbacksDue
	FigCallbacksOnTime
	FigSupervised
	FigMediated
	FigSettled
	NumFigureCounters
)

// FigureCounts are a cell's counters.
type FigureCounts [NumFigureCounters]int

func (f *FigureCounts) add(o FigureCounts, sign int) {
	for i := range f {
		f[i] += sign * o[i]
	}
}

// FigureMarks is what the figures remember of one case between its writes.
type FigureMarks struct {
	Number      string    `json:"n"`
	Month       string    `json:"m"` // filed in
	Village     string    `json:"v,omitempty"`
	Grid        string    `json:"g,omitempty"`
	Category    string    `json:"c,omitempty"`
	Departments []string  `json:"d,omitempty"`
	State       State     `json:"s"`
	Deadline    time.Time `json:"dl,omitzero"`
	// AssignedAt is the first assignment; Responded and RespondedOnTime
	// the first response by staff and whether it came within the accept
	// time then in force.
	AssignedAt      time.Time `json:"as,omitzero"`
	Responded       bool      `json:"r,omitempty"`
	RespondedOnTime bool      `json:"rt,omitempty"`
	// ResolvedAt is the last resolution; ReopenedSinceResolved that the
	// case was reopened after it and not resolved again.
	ResolvedAt            time.Time `json:"rs,omitzero"`
	ReopenedSinceResolved bool      `json:"ro,omitempty"`
	Extended              bool      `json:"x,omitempty"`
	// Rated and Satisfied count the filing resident's answers (a rating,
	// or 没解决 as a 1).
	Rated     int `json:"ra,omitempty"`
	Satisfied int `json:"sa,omitempty"`
	// The months of each close, reopening, reopening of a closed case, and
	// the month ends at which the case was open past its deadline.
	Closes          []string `json:"cl,omitempty"`
	Reopens         []string `json:"re,omitempty"`
	ReopensOfClosed []string `json:"rc,omitempty"`
	OverdueEnds     []string `json:"oe,omitempty"`
	// Changed is the time of the case's last event.
	Changed time.Time `json:"ch"`
	// Origin is where the case came from, one of the Origin… values; ""
	// in marks written before it was kept.
	Origin string `json:"o,omitempty"`
	// The grid's own work: under instruction, the mediation's result, the
	// callbacks recorded (and in time), and the date of the callback
	// waiting, if any.
	Supervised      bool      `json:"su,omitempty"`
	Mediation       string    `json:"me,omitempty"`
	CallbacksDone   int       `json:"cb,omitempty"`
	CallbacksOnTime int       `json:"ct,omitempty"`
	CallbackDue     time.Time `json:"cd,omitzero"`
	// What the board (督办看板) reads of a case not closed: its deadline
	// warning, whether its clock is stopped, and the departments that
	// returned it (Departments lists every one whistled).
	Warning  Warning  `json:"w,omitempty"`
	Paused   bool     `json:"pa,omitempty"`
	Returned []string `json:"dr,omitempty"`
	// Version is the marks' layout (MarksVersion): marks of an older one
	// lack counters a store adds with FigureRule.Remark.
	Version int `json:"ver,omitempty"`
}

// Where a case came from, as the figures count it (FigureMarks.Origin).
const (
	OriginOfResident = "resident" // 群众上报: filed by the resident in WeChat
	OriginOfPatrol   = "patrol"   // 主动发现: found by the grid itself
	OriginOfProxy    = "proxy"    // 代录: filed by staff for a resident who phoned or came in
)

// FigureOrigin is where case c came from, as the figures count it.
func FigureOrigin(c *Case) string {
	switch {
	case c.Found():
		return OriginOfPatrol
	case c.Channel != "":
		return OriginOfProxy
	}
	return OriginOfResident
}

// MarksVersion is the layout of FigureMarks this build writes: 2 added
// the origin's and the grid's own work's counters, 3 what the board reads
// (Warning, Paused, Returned). Only marks of cases not closed need 3: a
// closed case is on no board, and its next write marks it whole.
const MarksVersion = 3

// MarksVersionBoard is the layout that added what the board reads; a
// store whose marks are all at MarksVersionBoard-1 brings only its live
// marks up (FigureTally.Live).
const MarksVersionBoard = 3

// FigureRule decides what each write adds to the counters: it needs the
// town (its zone makes the months, its categories the accept times) and
// the rules. A nil Town counts months in China time with the default
// accept time.
type FigureRule struct {
	Town  TownSource
	Rules Rules
}

// FigureDeltas are what one write adds to the counters, by cell key.
type FigureDeltas map[string]FigureCounts

// Mark returns case c's marks after a write that recorded evs, its marks
// before being before (nil for a new case), and what the write adds to the
// counters (only cells that change).
func (r FigureRule) Mark(before *FigureMarks, c *Case, evs []Event) (FigureMarks, FigureDeltas) {
	town := &Town{} // China time, the default accept time
	if r.Town != nil {
		town = r.Town.Town()
	}
	var m FigureMarks
	state := State("")
	if before != nil {
		m = *before
		m.Departments = slices.Clone(before.Departments)
		m.Closes = slices.Clone(before.Closes)
		m.Reopens = slices.Clone(before.Reopens)
		m.ReopensOfClosed = slices.Clone(before.ReopensOfClosed)
		m.OverdueEnds = slices.Clone(before.OverdueEnds)
		state = before.State
	} else {
		m = FigureMarks{Number: c.Number, Month: town.MonthKey(c.CreatedAt), Changed: c.CreatedAt}
	}
	// The month ends passed since the last write, with the case as it
	// was: was it open past its deadline then?
	if before != nil && len(evs) > 0 {
		at := evs[len(evs)-1].At
		for _, end := range monthEnds(town, before.Changed, at) {
			if before.overdueAt(end) {
				m.OverdueEnds = append(m.OverdueEnds, town.MonthKey(end.Add(-time.Nanosecond)))
			}
		}
	}
	window := r.Rules.acceptWithin(town.Category(c.Category))
	for _, e := range evs {
		month := town.MonthKey(e.At)
		switch e.Kind {
		case EventAssigned:
			if m.AssignedAt.IsZero() {
				m.AssignedAt = e.At
			}
		case EventAccepted, EventReplied, EventSigned, EventResolved:
			if e.Kind != EventResolved && (e.Actor == ActorSystem || e.Actor == ActorResident) {
				break
			}
			if !m.Responded {
				m.Responded = true
				m.RespondedOnTime = m.AssignedAt.IsZero() || e.At.Sub(m.AssignedAt) <= window
			}
			if e.Kind == EventResolved {
				m.ResolvedAt, m.ReopenedSinceResolved = e.At, false
				state = StateResolved
			}
		case EventClosed:
			m.Closes = append(m.Closes, month)
			state = StateClosed
		case EventReopened:
			m.Reopens = append(m.Reopens, month)
			if state == StateClosed {
				m.ReopensOfClosed = append(m.ReopensOfClosed, month)
			}
			if !m.ResolvedAt.IsZero() {
				m.ReopenedSinceResolved = true
			}
			if e.Data[DataReason] == ReasonNotDone {
				m.Rated++
			}
			state = StateReopened
		case EventCalledBack:
			m.CallbacksDone++
			if e.Data[DataOnTime] == "true" {
				m.CallbacksOnTime++
			}
		case EventRated:
			// Those who joined rate too, but the rate is the filer's.
			if e.Data[DataJoined] == "" {
				if n, err := strconv.Atoi(e.Data[DataRating]); err == nil && n >= 1 && n <= 5 {
					m.Rated++
					if n >= 4 {
						m.Satisfied++
					}
				}
			}
		}
		if e.At.After(m.Changed) {
			m.Changed = e.At
		}
	}
	m.Number, m.Village, m.Grid, m.Category = c.Number, c.Village, c.Grid, c.Category
	m.State, m.Deadline, m.Extended = c.State, c.Deadline, c.Extensions > 0
	m.Origin = FigureOrigin(c)
	m.gridWork(c)
	m.boardFacts(c)
	deltas := FigureDeltas{}
	m.contribute(deltas, 1)
	if before != nil {
		before.contribute(deltas, -1)
	}
	for k, v := range deltas {
		if v == (FigureCounts{}) {
			delete(deltas, k)
		}
	}
	return m, deltas
}

// monthEnds lists the starts of months t with from < t <= to.
func monthEnds(town *Town, from, to time.Time) []time.Time {
	var out []time.Time
	if !from.Before(to) {
		return nil
	}
	_, end, ok := town.MonthBounds(town.MonthKey(from))
	for ok && !end.After(to) {
		out = append(out, end)
		_, end, ok = town.MonthBounds(town.MonthKey(end))
	}
	return out
}

// overdueAt reports whether the case, as marked, was on the ledger past
// its deadline at t (the monthly ledger's 其中超期): not closed, not
// resolved, its deadline before t.
func (m *FigureMarks) overdueAt(t time.Time) bool {
	return m.State != StateClosed && m.State != StateResolved && !m.Deadline.IsZero() && m.Deadline.Before(t)
}

// cells lists the case's cells of month: the whole case's, then one per
// department.
func (m *FigureMarks) cells(month string) []FigureCell {
	base := FigureCell{Month: month, Village: m.Village, Grid: m.Grid}
	out := []FigureCell{base}
	for _, d := range m.Departments {
		c := base
		c.Department = d
		out = append(out, c)
	}
	return out
}

// contribute adds sign × what the case counts, as marked, to deltas.
func (m *FigureMarks) contribute(deltas FigureDeltas, sign int) {
	var own FigureCounts
	own[FigCases], own[FigOpened] = 1, 1
	if !m.AssignedAt.IsZero() {
		switch {
		case m.Responded:
			own[FigResponseDue] = 1
			if m.RespondedOnTime {
				own[FigResponseOnTime] = 1
			}
		case m.State == StateClosed:
			own[FigResponseDue] = 1
		}
	}
	if !m.Deadline.IsZero() {
		switch {
		case (m.State == StateResolved || m.State == StateClosed) && !m.ResolvedAt.IsZero():
			own[FigResolutionDue] = 1
			if !m.ResolvedAt.After(m.Deadline) {
				own[FigResolutionOnTime] = 1
			}
		case m.State == StateClosed:
			own[FigResolutionDue] = 1
		}
	}
	if m.Extended {
		own[FigExtended] = 1
	}
	own[FigRated], own[FigSatisfied] = m.Rated, m.Satisfied
	switch m.Origin {
	case OriginOfResident:
		own[FigByResident] = 1
	case OriginOfPatrol:
		own[FigFound] = 1
	case OriginOfProxy:
		own[FigByProxy] = 1
	}
	m.contributeGridWork(&own)
	addAll := func(month string, counter, n int) {
		for _, cell := range m.cells(month) {
			k := cell.Key()
			d := deltas[k]
			d[counter] += sign * n
			deltas[k] = d
		}
	}
	for _, cell := range m.cells(m.Month) {
		k := cell.Key()
		d := deltas[k]
		d.add(own, sign)
		deltas[k] = d
		// The category's cell: the case filed, whatever the month.
		cell.Month, cell.Category = "", m.Category
		k = cell.Key()
		d = deltas[k]
		d[FigCases] += sign
		deltas[k] = d
	}
	for _, month := range m.Closes {
		addAll(month, FigClosed, 1)
	}
	for _, month := range m.Reopens {
		addAll(month, FigReopened, 1)
	}
	for _, month := range m.ReopensOfClosed {
		addAll(month, FigReopenedClosed, 1)
	}
	for _, month := range m.OverdueEnds {
		addAll(month, FigOverdueAtEnd, 1)
	}
}

// FigureTally is what a store keeps for the figures: every cell's counters,
// and the marks of the cases not closed.
type FigureTally struct {
	Cells map[FigureCell]FigureCounts
	Live  []FigureMarks
	// Callbacks are the marks of the cases with a callback waiting,
	// closed or not (CallbackDue set): whether one is overdue depends on
	// the time of reading.
	Callbacks []FigureMarks
}

// Add adds deltas to the tally's cells (stores that keep the tally in
// memory, and tests).
func (t *FigureTally) Add(deltas FigureDeltas) {
	if t.Cells == nil {
		t.Cells = map[FigureCell]FigureCounts{}
	}
	for k, d := range deltas {
		cell, ok := ParseFigureCell(k)
		if !ok {
			continue
		}
		v := t.Cells[cell]
		v.add(d, 1)
		if v == (FigureCounts{}) {
			delete(t.Cells, cell)
			continue
		}
		t.Cells[cell] = v
	}
}

// FigureScope is which cells and cases a reader of the figures sees.
type FigureScope struct {
	// Village, Grids and Department narrow what is seen; zero fields do
	// not.
	Village    string
	Grids      []string
	Department string
}

// ScopeOf is the figures staff s sees: the town everything, a village its
// own, a grid leader the grids they hold a post on, a department the cases
// whistled to it. ok is false for someone who sees nothing.
func ScopeOf(town *Town, s *Staff) (FigureScope, bool) {
	if s == nil || s.Disabled {
		return FigureScope{}, false
	}
	switch s.Role {
	case RoleTown:
		return FigureScope{}, true
	case RoleVillage:
		return FigureScope{Village: s.Village}, true
	case RoleGridLeader:
		g := town.GridsLedBy(s.ID)
		return FigureScope{Grids: g}, len(g) > 0
	case RoleDepartment:
		return FigureScope{Department: s.Department}, true
	}
	return FigureScope{}, false
}

func (sc FigureScope) sees(village, grid string) bool {
	return (sc.Village == "" || village == sc.Village) && (len(sc.Grids) == 0 || slices.Contains(sc.Grids, grid))
}

// base reports whether cell counts the case once for the scope: the whole
// case's cell, or for a department the department's own.
func (sc FigureScope) base(c FigureCell) bool {
	return c.Department == sc.Department && sc.sees(c.Village, c.Grid)
}

// seesMarks reports whether the scope sees the case marked m.
func (sc FigureScope) seesMarks(m *FigureMarks) bool {
	return sc.sees(m.Village, m.Grid) && (sc.Department == "" || slices.Contains(m.Departments, sc.Department))
}

// keysOf lists the row keys of a cell in grouping by: nil when the cell is
// not one the grouping reads (department rows read department cells, the
// others the scope's base cells).
func (sc FigureScope) keysOf(c FigureCell, by Grouping, month string) []string {
	if by == ByDepartment {
		if c.Department == "" || (sc.Department != "" && c.Department != sc.Department) || !sc.sees(c.Village, c.Grid) {
			return nil
		}
		return []string{c.Department}
	}
	if !sc.base(c) {
		return nil
	}
	switch by {
	case ByGrid:
		return []string{c.Grid}
	case ByVillage:
		return []string{c.Village}
	case ByMonth:
		return []string{month}
	}
	return nil
}

// marksKeys is keysOf for a case's marks.
func (sc FigureScope) marksKeys(m *FigureMarks, by Grouping) []string {
	if !sc.seesMarks(m) {
		return nil
	}
	switch by {
	case ByDepartment:
		if sc.Department != "" {
			return []string{sc.Department}
		}
		return m.Departments
	case ByGrid:
		return []string{m.Grid}
	case ByVillage:
		return []string{m.Village}
	case ByMonth:
		return []string{m.Month}
	}
	return nil
}

// RatesOf computes the three rates from a tally, as Rates does from the
// whole history: the counters, plus what the cases not closed owe at now
// (an accept time or a deadline run out).
func RatesOf(town *Town, rules Rules, t FigureTally, scope FigureScope, by Grouping, now time.Time) []RateRow {
	rows := map[string]*RateRow{}
	total := &RateRow{Key: "total", Name: "合计"}
	newRow := func(key string) RateRow { return RateRow{Key: key, Name: unitName(town, by, key)} }
	for cell, v := range t.Cells {
		if cell.Month == "" {
			continue // a category's cell
		}
		line := RateRow{Cases: v[FigCases], ResponseDue: v[FigResponseDue], ResponseOnTime: v[FigResponseOnTime],
			ResolutionDue: v[FigResolutionDue], ResolutionOnTime: v[FigResolutionOnTime], Rated: v[FigRated],
			Satisfied: v[FigSatisfied], Extended: v[FigExtended]}
		if line == (RateRow{}) {
			continue
		}
		tallyRows(rows, scope.keysOf(cell, by, cell.Month), line, newRow)
		if scope.base(cell) {
			total.add(line)
		}
	}
	for i := range t.Live {
		m := &t.Live[i]
		var line RateRow
		if !m.AssignedAt.IsZero() && !m.Responded && now.Sub(m.AssignedAt) > rules.acceptWithin(town.Category(m.Category)) {
			line.ResponseDue = 1
		}
		if !m.Deadline.IsZero() && !(m.State == StateResolved && !m.ResolvedAt.IsZero()) &&
			(now.After(m.Deadline) || m.ReopenedSinceResolved) {
			line.ResolutionDue = 1
		}
		if line == (RateRow{}) {
			continue
		}
		if !scope.seesMarks(m) {
			continue
		}
		tallyRows(rows, scope.marksKeys(m, by), line, newRow)
		total.add(line)
	}
	return sortedWithTotal(rows, *total, by, func(r RateRow) string { return r.Key })
}

// MonthlyLedgerOf computes the ledger of month from a tally, as
// MonthlyLedger does from the whole history. ok is false for a malformed
// month.
func MonthlyLedgerOf(town *Town, t FigureTally, scope FigureScope, month string, by Grouping, now time.Time) ([]LedgerRow, bool) {
	_, end, ok := town.MonthBounds(month)
	if !ok {
		return nil, false
	}
	at := end
	if now.Before(end) {
		at = now
	}
	rows := map[string]*LedgerRow{}
	total := &LedgerRow{Key: "total", Name: "合计"}
	newRow := func(key string) LedgerRow { return LedgerRow{Key: key, Name: unitName(town, by, key)} }
	for cell, v := range t.Cells {
		if cell.Month > month || cell.Month == "" {
			continue
		}
		var line LedgerRow
		// Open at the month's end: filed by then, less closed, plus
		// closed cases reopened.
		line.Open = v[FigOpened] - v[FigClosed] + v[FigReopenedClosed]
		if cell.Month == month {
			line.Opened, line.Closed, line.Reopened = v[FigOpened], v[FigClosed], v[FigReopened]
			line.Overdue = v[FigOverdueAtEnd]
		}
		if line == (LedgerRow{}) {
			continue
		}
		tallyRows(rows, scope.keysOf(cell, by, month), line, newRow)
		if scope.base(cell) {
			total.add(line)
		}
	}
	// The cases not closed whose last change came before the month's end
	// stood then as they stand now.
	for i := range t.Live {
		m := &t.Live[i]
		if !m.Changed.Before(at) || !m.overdueAt(at) {
			continue
		}
		if !scope.seesMarks(m) {
			continue
		}
		line := LedgerRow{Overdue: 1}
		keys := scope.marksKeys(m, by)
		if by == ByMonth {
			keys = []string{month}
		}
		tallyRows(rows, keys, line, newRow)
		total.add(line)
	}
	// A row of nothing but zeros is no row, as in MonthlyLedger.
	for k, r := range rows {
		if *r == (LedgerRow{Key: r.Key, Name: r.Name}) {
			delete(rows, k)
		}
	}
	return sortedWithTotal(rows, *total, by, func(r LedgerRow) string { return r.Key }), true
}

// CategoryCounts counts, by category, the cases filed and those open
// (State.Open) in the scope: the figures page's chart.
func CategoryCounts(t FigureTally, scope FigureScope) (filed, open map[string]int) {
	filed, open = map[string]int{}, map[string]int{}
	for cell, v := range t.Cells {
		if cell.Month == "" && scope.base(cell) && v[FigCases] != 0 {
			filed[cell.Category] += v[FigCases]
		}
	}
	for i := range t.Live {
		if m := &t.Live[i]; m.State.Open() && scope.seesMarks(m) {
			open[m.Category]++
		}
	}
	return filed, open
}

// OriginRow counts the cases filed in one month by where they came from:
// the figures page's 主动发现 vs 群众上报 chart.
type OriginRow struct {
	Month    string `json:"month"`
	Resident int    `json:"resident"` // 群众上报
	Found    int    `json:"found"`    // 主动发现
	Proxy    int    `json:"proxy"`    // 代录
}

// OriginsByMonth counts, for each month from the tally's first to last
// with any case in the scope, the cases filed by origin, oldest first.
func OriginsByMonth(t FigureTally, scope FigureScope) []OriginRow {
	by := map[string]*OriginRow{}
	for cell, v := range t.Cells {
		if cell.Month == "" || !scope.base(cell) {
			continue
		}
		r := by[cell.Month]
		if r == nil {
			r = &OriginRow{Month: cell.Month}
			by[cell.Month] = r
		}
		r.Resident += v[FigByResident]
		r.Found += v[FigFound]
		r.Proxy += v[FigByProxy]
	}
	out := make([]OriginRow, 0, len(by))
	for _, r := range by {
		if *r != (OriginRow{Month: r.Month}) {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b OriginRow) int { return strings.Compare(a.Month, b.Month) })
	return out
}

// StateDeltas are what a write moves between the counts of cases by state
// (CaseStore.CountCases): the case leaves its state before (none for a
// new case) and enters its state after.
func StateDeltas(before *FigureMarks, after *FigureMarks) map[State]int {
	out := map[State]int{}
	if before != nil {
		out[before.State]--
	}
	out[after.State]++
	for st, n := range out {
		if n == 0 {
			delete(out, st)
		}
	}
	return out
}

// AllStates lists every state, in the order a case moves.
var AllStates = []State{StateSubmitted, StateAssigned, StateInProgress, StateResolved, StateClosed, StateReopened}
