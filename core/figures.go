package core

import (
	"slices"
	"sort"
	"strconv"
	"time"
)

// This file holds the figures of supervision (督办) and settlement (对账销号):
// pure functions over cases and their events, so that the console's page
// and its CSV downloads show numbers computed once, the same way.

// Grouping is what a table of figures has a row for.
type Grouping string

// The groupings of the figures.
const (
	ByGrid       Grouping = "grid"
	ByVillage    Grouping = "village"
	ByDepartment Grouping = "department"
	ByMonth      Grouping = "month"
)

// Valid reports whether g is a known grouping.
func (g Grouping) Valid() bool {
	switch g {
	case ByGrid, ByVillage, ByDepartment, ByMonth:
		return true
	}
	return false
}

// caseFacts is what the figures need to know of one case, read from its
// events.
type caseFacts struct {
	c           *Case
	assignedAt  time.Time // first assignment
	respondedAt time.Time // first acceptance, reply, signature or resolution by staff
	resolvedAt  time.Time // last resolution
	closedAt    []time.Time
	reopenedAt  []time.Time
	resolvedAll []time.Time
	// verdicts are the filing resident's answers to a resolution: each
	// rating, and each "没解决" (counted as a 1, as it says the work failed).
	verdicts []int
}

func collectFacts(cases []Case, events []Event) []caseFacts {
	byCase := make(map[string][]Event, len(cases))
	for _, e := range events {
		byCase[e.Case] = append(byCase[e.Case], e)
	}
	out := make([]caseFacts, len(cases))
	for i := range cases {
		f := caseFacts{c: &cases[i]}
		evs := byCase[cases[i].Number]
		sort.Slice(evs, func(a, b int) bool { return evs[a].Seq < evs[b].Seq })
		for _, e := range evs {
			switch e.Kind {
			case EventAssigned:
				if f.assignedAt.IsZero() {
					f.assignedAt = e.At
				}
			case EventAccepted, EventReplied, EventSigned:
				if f.respondedAt.IsZero() && e.Actor != ActorSystem && e.Actor != ActorResident {
					f.respondedAt = e.At
				}
			case EventResolved:
				if f.respondedAt.IsZero() {
					f.respondedAt = e.At
				}
				f.resolvedAt = e.At
				f.resolvedAll = append(f.resolvedAll, e.At)
			case EventClosed:
				f.closedAt = append(f.closedAt, e.At)
			case EventReopened:
				f.reopenedAt = append(f.reopenedAt, e.At)
				if e.Data[DataReason] == ReasonNotDone {
					f.verdicts = append(f.verdicts, 1)
				}
			case EventRated:
				// Those who joined the case rate it too, but the rate is
				// the filing resident's, as the case's Rating is.
				if e.Data[DataJoined] == "" {
					if n, err := strconv.Atoi(e.Data[DataRating]); err == nil && n >= 1 && n <= 5 {
						f.verdicts = append(f.verdicts, n)
					}
				}
			}
		}
		// A log without the rating's number (older events) falls back to
		// the case's last rating.
		if len(f.verdicts) == 0 && cases[i].Rating > 0 {
			f.verdicts = []int{cases[i].Rating}
		}
		out[i] = f
	}
	return out
}

// RateRow is one row of the three rates: response (accepted in time),
// resolution (resolved by the deadline) and satisfaction (answers rated 4–5
// among the residents' answers). A case counts in a rate once it is
// decided: responded, or its accept time has run out; resolved, or its
// deadline has passed; answered. A case reopened after its resolution is
// not resolved until it is resolved again: meanwhile it counts as due and
// not on time. Every answer the filing resident gave counts in
// satisfaction, each low rating and each "没解决" among them, so a case
// rated 2, reopened and then rated 5 counts two answers, one satisfied.
type RateRow struct {
	Key              string `json:"key"`
	Name             string `json:"name"`
	Cases            int    `json:"cases"`
	ResponseDue      int    `json:"response_due"`
	ResponseOnTime   int    `json:"response_on_time"`
	ResolutionDue    int    `json:"resolution_due"`
	ResolutionOnTime int    `json:"resolution_on_time"`
	Rated            int    `json:"rated"`
	Satisfied        int    `json:"satisfied"`
	// Extended counts the cases granted an extension (延期).
	Extended int `json:"extended"`
}

// Percent renders part of whole as "87.5%", or "—" when whole is 0.
func Percent(part, whole int) string {
	if whole == 0 {
		return "—"
	}
	return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64) + "%"
}

// ResponseRate, ResolutionRate and SatisfactionRate render the rates.
func (r RateRow) ResponseRate() string     { return Percent(r.ResponseOnTime, r.ResponseDue) }
func (r RateRow) ResolutionRate() string   { return Percent(r.ResolutionOnTime, r.ResolutionDue) }
func (r RateRow) SatisfactionRate() string { return Percent(r.Satisfied, r.Rated) }

// unitsOf lists the keys a case is counted under in grouping by.
func unitsOf(town *Town, c *Case, by Grouping) []string {
	switch by {
	case ByGrid:
		return []string{c.Grid}
	case ByVillage:
		return []string{c.Village}
	case ByDepartment:
		out := make([]string, 0, len(c.Departments))
		for _, a := range c.Departments {
			out = append(out, a.Department)
		}
		return out
	case ByMonth:
		return []string{town.MonthKey(c.CreatedAt)}
	}
	return nil
}

// unitName names a key of grouping by for people.
func unitName(town *Town, by Grouping, key string) string {
	switch by {
	case ByGrid:
		if n := town.PlaceName(key); n != "" {
			return n
		}
	case ByVillage:
		if v := town.Village(key); v != nil {
			return v.Name
		}
	case ByDepartment:
		if d := town.Department(key); d != nil {
			return d.Name
		}
	case ByMonth:
		if s, _, ok := town.MonthBounds(key); ok {
			return s.Format("2006年1月")
		}
	}
	return key
}

// Rates computes the three rates of cases grouped by by, as things stand
// at now; rules give each category's accept time. Rows come in key order
// (months newest first), then a total row with the key "total" (a case
// whistled to two departments counts once in it).
func Rates(town *Town, rules Rules, cases []Case, events []Event, by Grouping, now time.Time) []RateRow {
	rows := map[string]*RateRow{}
	total := &RateRow{Key: "total", Name: "合计"}
	for _, f := range collectFacts(cases, events) {
		var line RateRow
		line.Cases = 1
		if !f.assignedAt.IsZero() {
			window := rules.acceptWithin(town.Category(f.c.Category))
			switch {
			case !f.respondedAt.IsZero():
				line.ResponseDue = 1
				if f.respondedAt.Sub(f.assignedAt) <= window {
					line.ResponseOnTime = 1
				}
			case now.Sub(f.assignedAt) > window:
				line.ResponseDue = 1
			}
		}
		if !f.c.Deadline.IsZero() {
			switch {
			case !f.resolvedAt.IsZero() && !f.c.State.Open():
				line.ResolutionDue = 1
				if !f.resolvedAt.After(f.c.Deadline) {
					line.ResolutionOnTime = 1
				}
			case now.After(f.c.Deadline), f.reopenedSinceResolved():
				line.ResolutionDue = 1
			}
		}
		if f.c.Extensions > 0 {
			line.Extended = 1
		}
		for _, v := range f.verdicts {
			line.Rated++
			if v >= 4 {
				line.Satisfied++
			}
		}
		tallyRows(rows, unitsOf(town, f.c, by), line, func(key string) RateRow {
			return RateRow{Key: key, Name: unitName(town, by, key)}
		})
		total.add(line)
	}
	return sortedWithTotal(rows, *total, by, func(r RateRow) string { return r.Key })
}

func (r *RateRow) add(o RateRow) {
	r.Cases += o.Cases
	r.ResponseDue += o.ResponseDue
	r.ResponseOnTime += o.ResponseOnTime
	r.ResolutionDue += o.ResolutionDue
	r.ResolutionOnTime += o.ResolutionOnTime
	r.Rated += o.Rated
	r.Satisfied += o.Satisfied
	r.Extended += o.Extended
}

// figureRow is a row of figures that sums lines into itself.
type figureRow[R any] interface {
	*R
	add(R)
}

// tallyRows adds line to the row of each of its units, making the rows it
// lacks with newRow.
func tallyRows[R any, P figureRow[R]](rows map[string]*R, keys []string, line R, newRow func(key string) R) {
	for _, key := range keys {
		r := rows[key]
		if r == nil {
			made := newRow(key)
			r = &made
			rows[key] = r
		}
		P(r).add(line)
	}
}

// sortedWithTotal lists the rows by key (months newest first), the total
// last.
func sortedWithTotal[R any](rows map[string]*R, total R, by Grouping, key func(R) string) []R {
	out := make([]R, 0, len(rows)+1)
	for _, r := range rows {
		out = append(out, *r)
	}
	sortRows(out, by, key)
	return append(out, total)
}

// sortRows orders rows by key, months newest first.
func sortRows[T any](rows []T, by Grouping, key func(T) string) {
	sort.Slice(rows, func(i, j int) bool {
		if by == ByMonth {
			return key(rows[i]) > key(rows[j])
		}
		return key(rows[i]) < key(rows[j])
	})
}

// LedgerRow is one line of the monthly ledger (对账销号): of one unit in
// one month, the cases opened and closed in the month, those reopened in
// it, and at the month's end (or now, for the month under way) those still
// open and, of them, those past their deadline.
type LedgerRow struct {
	Key      string `json:"key"`
	Name     string `json:"name"`
	Opened   int    `json:"opened"`
	Closed   int    `json:"closed"`
	Open     int    `json:"open"`
	Overdue  int    `json:"overdue"`
	Reopened int    `json:"reopened"`
}

// MonthlyLedger computes the ledger of month ("2006-01") grouped by by
// (ByMonth makes one row), with a total row keyed "total" last. ok is false
// for a malformed month.
func MonthlyLedger(town *Town, cases []Case, events []Event, month string, by Grouping, now time.Time) ([]LedgerRow, bool) {
	start, end, ok := town.MonthBounds(month)
	if !ok {
		return nil, false
	}
	at := end
	if now.Before(end) {
		at = now
	}
	within := func(t time.Time) bool { return !t.Before(start) && t.Before(at) }
	rows := map[string]*LedgerRow{}
	total := &LedgerRow{Key: "total", Name: "合计"}
	for _, f := range collectFacts(cases, events) {
		var line LedgerRow
		if within(f.c.CreatedAt) {
			line.Opened = 1
		}
		for _, t := range f.closedAt {
			if within(t) {
				line.Closed++
			}
		}
		for _, t := range f.reopenedAt {
			if within(t) {
				line.Reopened++
			}
		}
		if f.c.CreatedAt.Before(at) && f.openAt(at) {
			line.Open = 1
			if !f.c.Deadline.IsZero() && f.c.Deadline.Before(at) && !f.resolvedSinceReopen(at) {
				line.Overdue = 1
			}
		}
		if line == (LedgerRow{}) {
			continue
		}
		keys := unitsOf(town, f.c, by)
		if by == ByMonth {
			keys = []string{month}
		}
		tallyRows(rows, keys, line, func(key string) LedgerRow {
			return LedgerRow{Key: key, Name: unitName(town, by, key)}
		})
		total.add(line)
	}
	return sortedWithTotal(rows, *total, by, func(r LedgerRow) string { return r.Key }), true
}

func (r *LedgerRow) add(o LedgerRow) {
	r.Opened += o.Opened
	r.Closed += o.Closed
	r.Open += o.Open
	r.Overdue += o.Overdue
	r.Reopened += o.Reopened
}

// openAt reports whether the case was not closed at t: its last close or
// reopening before t was not a close.
func (f caseFacts) openAt(t time.Time) bool {
	lastClose, lastReopen := lastBefore(f.closedAt, t), lastBefore(f.reopenedAt, t)
	return lastClose.IsZero() || lastReopen.After(lastClose)
}

// resolvedSinceReopen reports whether the case had been resolved before t
// since it was last reopened: its work was done, whatever the rating.
func (f caseFacts) resolvedSinceReopen(t time.Time) bool {
	res := lastBefore(f.resolvedAll, t)
	return !res.IsZero() && res.After(lastBefore(f.reopenedAt, t))
}

// reopenedSinceResolved reports whether the case was resolved and then
// reopened, and not resolved since: staff called it done, and it was not.
func (f caseFacts) reopenedSinceResolved() bool {
	if len(f.resolvedAll) == 0 || len(f.reopenedAt) == 0 {
		return false
	}
	return f.reopenedAt[len(f.reopenedAt)-1].After(f.resolvedAll[len(f.resolvedAll)-1])
}

func lastBefore(ts []time.Time, t time.Time) time.Time {
	var last time.Time
	for _, x := range ts {
		if x.Before(t) && x.After(last) {
			last = x
		}
	}
	return last
}

// BoardRow counts the open cases of one grid or department by their
// warning: yellow (临期), red (超期 warned) and overdue (past the deadline
// now, warned or not).
type BoardRow struct {
	Kind    Grouping `json:"kind"` // ByGrid or ByDepartment
	Key     string   `json:"key"`
	Name    string   `json:"name"`
	Open    int      `json:"open"`
	Yellow  int      `json:"yellow"`
	Red     int      `json:"red"`
	Overdue int      `json:"overdue"`
	Cases   []string `json:"cases"` // the numbers of the warned and overdue cases
}

// Board is the supervision board (督办看板): for every grid and department
// with open cases, how many are yellow, red and overdue at now. Grids come
// first, then departments, each by key. It counts cases as BoardOf counts
// their marks.
func Board(town *Town, cases []Case, now time.Time) []BoardRow {
	marks := make([]FigureMarks, 0, len(cases))
	for i := range cases {
		m := FigureMarks{Number: cases[i].Number, Village: cases[i].Village, Grid: cases[i].Grid,
			State: cases[i].State, Deadline: cases[i].Deadline}
		m.boardFacts(&cases[i])
		marks = append(marks, m)
	}
	return board(town, marks, func(*FigureMarks) bool { return true }, now)
}

// BoardOf is the board from a tally: the marks of the cases not closed
// that scope sees. It reads no case, so it costs what the open cases'
// marks do, whatever the ledger's depth.
func BoardOf(town *Town, t FigureTally, scope FigureScope, now time.Time) []BoardRow {
	return board(town, t.Live, scope.seesMarks, now)
}

// boardFacts copies into m what the board reads of case c, in slices of
// its own: m may be a copy of marks whose slices others still read
// (FigureRule.Remark's old marks, a store's cache).
func (m *FigureMarks) boardFacts(c *Case) {
	m.Warning, m.Paused = c.Warning, c.Paused
	m.Departments, m.Returned = nil, nil
	for _, a := range c.Departments {
		m.Departments = append(m.Departments, a.Department)
		if a.State == AssistReturned {
			m.Returned = append(m.Returned, a.Department)
		}
	}
}

// board counts the open cases among marks that keep keeps.
func board(town *Town, marks []FigureMarks, keep func(*FigureMarks) bool, now time.Time) []BoardRow {
	rows := map[Grouping]map[string]*BoardRow{ByGrid: {}, ByDepartment: {}}
	count := func(m *FigureMarks, by Grouping, key string, overdue bool) {
		r := rows[by][key]
		if r == nil {
			r = &BoardRow{Kind: by, Key: key, Name: unitName(town, by, key), Cases: []string{}}
			rows[by][key] = r
		}
		r.Open++
		switch m.Warning {
		case WarningYellow:
			r.Yellow++
		case WarningRed:
			r.Red++
		}
		if overdue {
			r.Overdue++
		}
		if overdue || m.Warning != "" {
			r.Cases = append(r.Cases, m.Number)
		}
	}
	for i := range marks {
		m := &marks[i]
		if !m.State.Open() || !keep(m) {
			continue
		}
		overdue := pastDeadline(m.State, m.Paused, m.Deadline, now)
		count(m, ByGrid, m.Grid, overdue)
		for _, d := range m.Departments {
			if !slices.Contains(m.Returned, d) {
				count(m, ByDepartment, d, overdue)
			}
		}
	}
	var out []BoardRow
	for _, by := range []Grouping{ByGrid, ByDepartment} {
		part := make([]BoardRow, 0, len(rows[by]))
		for _, r := range rows[by] {
			sort.Strings(r.Cases)
			part = append(part, *r)
		}
		sortRows(part, by, func(r BoardRow) string { return r.Key })
		out = append(out, part...)
	}
	return out
}
