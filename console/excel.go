package console

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"gridbot/core"
	"gridbot/export/xlsx"
)

// The Excel downloads: the case ledger (台账) as filtered on the queue, and
// the figures (the three rates by every grouping, the month's ledger and
// the trend) as one workbook. They hold what the CSVs and the page hold,
// from the same functions, with the case ledger adding where, result,
// rating and closing time.

// maxExcelRows bounds the cases one ledger workbook carries: a workbook is
// built in memory (about 11 KB of allocation per row, see
// docs/benchmarks.md). A town's year is below it; more is asked with a
// narrower filter, or is the CSV's or the JSON export's work.
const maxExcelRows = 20_000

// msgTooManyRows answers a ledger workbook over maxExcelRows cases.
const msgTooManyRows = "案件超过20000件，请缩小筛选范围，或导出CSV"

// handleCasesXLSX answers GET /api/cases.xlsx with the queue's filters.
// Phones are masked unless the town asks for them whole (phone=full); a
// location is written only where the caller may read it.
func (s *Server) handleCasesXLSX(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	f, ok := parseListFilter(w, r)
	if !ok {
		return
	}
	full := r.URL.Query().Get("phone") == "full"
	if full && staff.Role != core.RoleTown {
		writeError(w, http.StatusNotFound, msgNoAPI)
		return
	}
	limit := maxExcelRows
	if s.excelRows > 0 {
		limit = s.excelRows
	}
	cases, err := s.visibleCases(r.Context(), staff, f, limit+1)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return
	}
	if len(cases) > limit {
		writeError(w, http.StatusRequestEntityTooLarge, msgTooManyRows)
		return
	}
	town, now := s.Town.Town(), s.now()
	zone := town.Zone()
	sheet := xlsx.Sheet{Name: "案件台账", Header: []string{"编号", "状态", "类别", "内容", "村（社区）", "网格", "位置",
		"承办人", "提交时间", "时限", "是否超期", "办结时间", "办理结果", "评价", "结案时间", "联系电话"}}
	for i := range cases {
		c := &cases[i]
		v := newCaseView(town, c, now)
		phone := v.Phone
		if full {
			phone = c.Phone
		}
		place := ""
		if c.Location != nil && town.SeesPersonalData(staff, c) {
			place = c.Location.Label
			if place == "" {
				place = strconv.FormatFloat(c.Location.Lat, 'f', 6, 64) + ", " + strconv.FormatFloat(c.Location.Lng, 'f', 6, 64)
			}
		} else if c.Location != nil {
			place = "（仅承办人可见）"
		}
		late := ""
		if v.Overdue {
			late = "超期"
		}
		var rating any
		if c.Rating > 0 {
			rating = c.Rating
		}
		var closed time.Time // a closed case changes no more: its last change closed it
		if c.State == core.StateClosed {
			closed = c.UpdatedAt
		}
		sheet.Rows = append(sheet.Rows, []any{v.Number, v.StateLabel, v.CategoryName, v.Text, v.VillageName, v.Place, place,
			v.AssigneeName, c.CreatedAt.In(zone), c.Deadline.In(zone), late, c.ResolvedAt.In(zone), c.Result, rating,
			closed.In(zone), phone})
	}
	if full {
		s.log().InfoContext(r.Context(), "console excel export with whole phone numbers", "staff", staff.ID, "cases", len(cases))
	}
	writeXLSX(w, r, s, staff, "案件台账-"+now.In(zone).Format("20060102")+".xlsx", []xlsx.Sheet{sheet})
}

// handleFiguresXLSX answers GET /api/figures.xlsx?month=2026-11: the three
// rates by grid, village, department and month, the month's ledger by
// grid, village and department, and the last twelve months.
func (s *Server) handleFiguresXLSX(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	town, now := s.Town.Town(), s.now()
	month := r.URL.Query().Get("month")
	if month == "" {
		month = town.MonthKey(now)
	}
	if _, _, ok := town.MonthBounds(month); !ok {
		writeError(w, http.StatusBadRequest, msgBadMonth)
		return
	}
	t, scope, err := s.tally(r.Context(), staff)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return
	}
	var sheets []xlsx.Sheet
	for _, by := range []core.Grouping{core.ByGrid, core.ByVillage, core.ByDepartment, core.ByMonth} {
		sh := xlsx.Sheet{Name: "三率" + groupingName(by), Header: []string{"单位", "案件数", "应响应", "按时响应", "响应率",
			"应办结", "按时办结", "办结率", "已评价", "满意", "满意率"}}
		for _, row := range core.RatesOf(town, s.Ledger.Rules, t, scope, by, now) {
			sh.Rows = append(sh.Rows, []any{unitName(row.Key, row.Name), row.Cases,
				row.ResponseDue, row.ResponseOnTime, xlsx.Percent{Part: row.ResponseOnTime, Of: row.ResponseDue},
				row.ResolutionDue, row.ResolutionOnTime, xlsx.Percent{Part: row.ResolutionOnTime, Of: row.ResolutionDue},
				row.Rated, row.Satisfied, xlsx.Percent{Part: row.Satisfied, Of: row.Rated}})
		}
		sheets = append(sheets, sh)
	}
	for _, by := range []core.Grouping{core.ByGrid, core.ByVillage, core.ByDepartment} {
		sh := xlsx.Sheet{Name: "对账销号" + month + groupingName(by), Header: []string{"单位", "本月新增", "本月销号", "月末在办", "其中超期", "本月重办"}}
		rows, _ := core.MonthlyLedgerOf(town, t, scope, month, by, now)
		for _, row := range rows {
			sh.Rows = append(sh.Rows, []any{unitName(row.Key, row.Name), row.Opened, row.Closed, row.Open, row.Overdue, row.Reopened})
		}
		sheets = append(sheets, sh)
	}
	trend := xlsx.Sheet{Name: "近12个月", Header: []string{"月份", "新增", "销号", "月末超期"}}
	for _, p := range monthlyTrend(town, t, scope, now) {
		trend.Rows = append(trend.Rows, []any{p.Month, p.Opened, p.Closed, p.Overdue})
	}
	sheets = append(sheets, trend)
	writeXLSX(w, r, s, staff, "统计报表-"+month+".xlsx", sheets)
}

// writeXLSX sends sheets as a workbook download. It is built in memory
// first, so a failure answers 500 rather than a truncated file.
func writeXLSX(w http.ResponseWriter, r *http.Request, s *Server, staff *core.Staff, filename string, sheets []xlsx.Sheet) {
	var buf bytes.Buffer
	if err := xlsx.Write(&buf, sheets); err != nil {
		s.figuresFailed(w, r, staff, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(filename))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
}
