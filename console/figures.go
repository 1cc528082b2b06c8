package console

import (
	"context"
	"encoding/csv"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridbot/core"
)

// tally is what the figures are computed from: the store's counters and
// the marks of the cases not closed (core.CaseStore.Figures), and which of
// them staff see. The cost grows with the counter cells and the open
// cases, not with the years of history.
func (s *Server) tally(ctx context.Context, staff *core.Staff) (core.FigureTally, core.FigureScope, error) {
	scope, ok := core.ScopeOf(s.Town.Town(), staff)
	if !ok {
		return core.FigureTally{}, scope, nil
	}
	t, err := s.Store.Figures(ctx)
	return t, scope, err
}

// figuresFailed answers a store failure.
func (s *Server) figuresFailed(w http.ResponseWriter, r *http.Request, staff *core.Staff, err error) {
	s.log().ErrorContext(r.Context(), "console figures", "staff", staff.ID, "err", err)
	writeError(w, http.StatusInternalServerError, msgServerError)
}

func (s *Server) handleBoard(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	// The board counts open cases only: their marks in the tally, which
	// carry what it reads, so no case is read.
	t, scope, err := s.tally(r.Context(), staff)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return
	}
	rows := core.BoardOf(s.Town.Town(), t, scope, s.now())
	if rows == nil {
		rows = []core.BoardRow{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rows": rows})
}

// grouping reads ?by=, defaulting to grid; ok is false (and answered) for
// an unknown one.
func grouping(w http.ResponseWriter, r *http.Request) (core.Grouping, bool) {
	by := core.Grouping(r.URL.Query().Get("by"))
	if by == "" {
		by = core.ByGrid
	}
	if !by.Valid() {
		writeError(w, http.StatusBadRequest, msgBadGrouping)
		return "", false
	}
	return by, true
}

// rateView is a RateRow with its rates rendered, as the page shows them.
type rateView struct {
	core.RateRow
	ResponseRate     string `json:"response_rate"`
	ResolutionRate   string `json:"resolution_rate"`
	SatisfactionRate string `json:"satisfaction_rate"`
}

// rates computes the rate table for the request; the page and the CSV
// both come from here.
func (s *Server) rates(w http.ResponseWriter, r *http.Request, staff *core.Staff) ([]core.RateRow, bool) {
	by, ok := grouping(w, r)
	if !ok {
		return nil, false
	}
	t, scope, err := s.tally(r.Context(), staff)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return nil, false
	}
	return core.RatesOf(s.Town.Town(), s.Ledger.Rules, t, scope, by, s.now()), true
}

func (s *Server) handleRates(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	rows, ok := s.rates(w, r, staff)
	if !ok {
		return
	}
	out := make([]rateView, 0, len(rows))
	for _, row := range rows {
		out = append(out, rateView{RateRow: row, ResponseRate: row.ResponseRate(),
			ResolutionRate: row.ResolutionRate(), SatisfactionRate: row.SatisfactionRate()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"rows": out})
}

func (s *Server) handleRatesCSV(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	rows, ok := s.rates(w, r, staff)
	if !ok {
		return
	}
	by, _ := grouping(w, r)
	writeCSV(w, "三率统计-"+groupingName(by)+".csv", ratesRecords(rows))
}

// groupingName is a grouping as people read it (in file names and sheet
// titles).
func groupingName(by core.Grouping) string {
	switch by {
	case core.ByVillage:
		return "按村（社区）"
	case core.ByDepartment:
		return "按部门"
	case core.ByMonth:
		return "按月"
	}
	return "按网格"
}

// unitName is a figures row's unit as people read it: its name, and 合计
// for the total row (whose key is the code "total").
func unitName(key, name string) string {
	if key == "total" {
		return "合计"
	}
	if name == "" {
		return key
	}
	return name
}

// ratesRecords renders rate rows as the table people read, header first:
// units by name, no directory codes.
func ratesRecords(rows []core.RateRow) [][]string {
	out := [][]string{{"单位", "案件数", "应响应", "按时响应", "响应率", "应办结", "按时办结", "办结率", "已评价", "满意", "满意率", "延期"}}
	for _, r := range rows {
		out = append(out, []string{unitName(r.Key, r.Name), strconv.Itoa(r.Cases),
			strconv.Itoa(r.ResponseDue), strconv.Itoa(r.ResponseOnTime), r.ResponseRate(),
			strconv.Itoa(r.ResolutionDue), strconv.Itoa(r.ResolutionOnTime), r.ResolutionRate(),
			strconv.Itoa(r.Rated), strconv.Itoa(r.Satisfied), r.SatisfactionRate(), strconv.Itoa(r.Extended)})
	}
	return out
}

// ledgerRecords renders ledger rows as the table people read, header first.
func ledgerRecords(rows []core.LedgerRow) [][]string {
	out := [][]string{{"单位", "本月新增", "本月销号", "月末在办", "其中超期", "本月重办"}}
	for _, r := range rows {
		out = append(out, []string{unitName(r.Key, r.Name), strconv.Itoa(r.Opened), strconv.Itoa(r.Closed),
			strconv.Itoa(r.Open), strconv.Itoa(r.Overdue), strconv.Itoa(r.Reopened)})
	}
	return out
}

// ledger computes the monthly ledger for the request (?month=2026-11,
// default this month; ?by=grid|village|department|month); the page and the
// CSV both come from here.
func (s *Server) ledger(w http.ResponseWriter, r *http.Request, staff *core.Staff) (string, []core.LedgerRow, bool) {
	by, ok := grouping(w, r)
	if !ok {
		return "", nil, false
	}
	month := r.URL.Query().Get("month")
	if month == "" {
		month = s.Town.Town().MonthKey(s.now())
	}
	if _, _, ok := s.Town.Town().MonthBounds(month); !ok {
		writeError(w, http.StatusBadRequest, msgBadMonth)
		return "", nil, false
	}
	t, scope, err := s.tally(r.Context(), staff)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return "", nil, false
	}
	rows, _ := core.MonthlyLedgerOf(s.Town.Town(), t, scope, month, by, s.now())
	return month, rows, true
}

func (s *Server) handleLedger(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	month, rows, ok := s.ledger(w, r, staff)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"month": month, "rows": rows})
}

func (s *Server) handleLedgerCSV(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	month, rows, ok := s.ledger(w, r, staff)
	if !ok {
		return
	}
	writeCSV(w, "对账销号-"+month+".csv", ledgerRecords(rows))
}

// handleCasesCSV exports the queue as filtered (the ledger of cases, 台账).
// Phones are masked unless the town asks for them whole with phone=full;
// anyone else asking answers 404.
func (s *Server) handleCasesCSV(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	f, ok := parseListFilter(w, r)
	if !ok {
		return
	}
	full := r.URL.Query().Get("phone") == "full"
	if full && staff.Role != core.RoleTown {
		writeError(w, http.StatusNotFound, msgNoAPI)
		return
	}
	cases, err := s.visibleCases(r.Context(), staff, f, 0)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return
	}
	town, now := s.Town.Town(), s.now()
	recs := [][]string{{"编号", "状态", "类别", "内容", "村（社区）", "网格", "承办人", "时限", "提交时间", "是否超期", "联系电话"}}
	for i := range cases {
		c := &cases[i]
		v := newCaseView(town, c, now)
		phone := v.Phone
		if full {
			phone = c.Phone
		}
		late := ""
		if v.Overdue {
			late = "超期"
		}
		recs = append(recs, []string{v.Number, v.StateLabel, v.CategoryName, v.Text, v.VillageName, v.Place,
			v.AssigneeName, csvTime(town, v.Deadline), csvTime(town, v.CreatedAt), late, phone})
	}
	if full {
		s.log().InfoContext(r.Context(), "console export with whole phone numbers", "staff", staff.ID, "cases", len(cases))
	}
	writeCSV(w, "案件台账-"+now.In(town.Zone()).Format("20060102")+".csv", recs)
}

// csvTime writes a time in the town's zone, as the page shows it.
func csvTime(town *core.Town, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(town.Zone()).Format("2006-01-02 15:04")
}

// writeCSV sends records as a UTF-8 CSV download (with a byte-order mark,
// so spreadsheet programs read the Chinese right). A cell that a
// spreadsheet would take for a formula is prefixed with a quote.
func writeCSV(w http.ResponseWriter, filename string, recs [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(filename))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	for _, rec := range recs {
		safe := make([]string, len(rec))
		for i, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				cell = "'" + cell
			}
			safe[i] = cell
		}
		_ = cw.Write(safe)
	}
	cw.Flush()
}

// directoryView is what the page needs of the town to fill its choices:
// the grids staff may see, villages, departments and categories.
type directoryView struct {
	Villages    []core.Village    `json:"villages"`
	Grids       []gridView        `json:"grids"`
	Departments []core.Department `json:"departments"`
	Categories  []categoryView    `json:"categories"`
}

type gridView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Place   string `json:"place"`
	Village string `json:"village"`
	LeaderA string `json:"leader_a,omitempty"`
	LeaderB string `json:"leader_b,omitempty"`
}

type categoryView struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func (s *Server) handleDirectory(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	town := s.Town.Town()
	d := directoryView{Villages: []core.Village{}, Grids: []gridView{}, Departments: town.Departments,
		Categories: []categoryView{}}
	if d.Departments == nil {
		d.Departments = []core.Department{}
	}
	villages := map[string]bool{}
	for _, g := range town.Grids {
		if !gridVisible(town, staff, &g) {
			continue
		}
		v := gridView{ID: g.ID, Name: g.Name, Place: town.PlaceName(g.ID), Village: g.Village}
		if staff.Role == core.RoleTown {
			v.LeaderA, v.LeaderB = g.LeaderA, g.LeaderB
		}
		d.Grids = append(d.Grids, v)
		villages[g.Village] = true
	}
	for _, v := range town.Villages {
		if villages[v.ID] {
			d.Villages = append(d.Villages, v)
		}
	}
	for _, c := range town.Categories {
		d.Categories = append(d.Categories, categoryView{Code: c.Code, Name: c.Name})
	}
	writeJSON(w, http.StatusOK, d)
}

// gridVisible reports whether staff sees grid g's cases as a whole: the
// town and departments every grid (to choose from), a village its own, a
// grid leader those they hold a post on.
func gridVisible(town *core.Town, staff *core.Staff, g *core.Grid) bool {
	return town.CanSee(staff, &core.Case{Grid: g.ID, Village: g.Village}) || staff.Role == core.RoleDepartment
}

// trendMonths is how many months the figures page's trend chart shows.
const trendMonths = 12

// trendPoint is one month of the trend chart: cases filed, settled (销号)
// and overdue at the month's end (or now, for this month).
type trendPoint struct {
	Month   string `json:"month"`
	Opened  int    `json:"opened"`
	Closed  int    `json:"closed"`
	Overdue int    `json:"overdue"`
}

// categoryCount is one category of the chart of cases by category.
type categoryCount struct {
	Name  string `json:"name"`
	Cases int    `json:"cases"`
	Open  int    `json:"open"`
}

// monthlyTrend is the last trendMonths months of the ledger, oldest first.
func monthlyTrend(town *core.Town, t core.FigureTally, scope core.FigureScope, now time.Time) []trendPoint {
	trend := make([]trendPoint, 0, trendMonths)
	start, _, _ := town.MonthBounds(town.MonthKey(now))
	for i := trendMonths - 1; i >= 0; i-- {
		month := town.MonthKey(start.AddDate(0, -i, 0))
		rows, ok := core.MonthlyLedgerOf(town, t, scope, month, core.ByMonth, now)
		if !ok || len(rows) == 0 {
			continue
		}
		total := rows[len(rows)-1]
		trend = append(trend, trendPoint{Month: month, Opened: total.Opened, Closed: total.Closed, Overdue: total.Overdue})
	}
	return trend
}

// originTrend is, for each month of trend, the cases filed that month by
// where they came from (主动发现 vs 群众上报, and 代录).
func originTrend(t core.FigureTally, scope core.FigureScope, trend []trendPoint) []core.OriginRow {
	by := map[string]core.OriginRow{}
	for _, r := range core.OriginsByMonth(t, scope) {
		by[r.Month] = r
	}
	out := make([]core.OriginRow, len(trend))
	for i, p := range trend {
		out[i] = by[p.Month]
		out[i].Month = p.Month
	}
	return out
}

// handleCharts answers GET /api/figures/charts: the last trendMonths
// months of the ledger (oldest first) with the cases filed each month by
// origin, and the cases by category, of the cases staff may see. The numbers are the ledger's (core.MonthlyLedgerOf),
// so the chart and the table never disagree.
func (s *Server) handleCharts(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	t, scope, err := s.tally(r.Context(), staff)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return
	}
	town, now := s.Town.Town(), s.now()
	trend := monthlyTrend(town, t, scope, now)
	filed, open := core.CategoryCounts(t, scope)
	byName := map[string]*categoryCount{}
	categories := []*categoryCount{}
	for _, code := range slices.Sorted(maps.Keys(filed)) {
		name := categoryName(town, code)
		c := byName[name]
		if c == nil {
			c = &categoryCount{Name: name}
			byName[name] = c
			categories = append(categories, c)
		}
		c.Cases += filed[code]
		c.Open += open[code]
	}
	slices.SortFunc(categories, func(a, b *categoryCount) int {
		if a.Cases != b.Cases {
			return b.Cases - a.Cases
		}
		return strings.Compare(a.Name, b.Name)
	})
	writeJSON(w, http.StatusOK, map[string]any{"trend": trend, "origins": originTrend(t, scope, trend), "categories": categories})
}
