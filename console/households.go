package console

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridbot/core"
	"gridbot/export/xlsx"
)

// Linked households on the console (二十户包联, issue 19): the households
// staff may see, each one's file (一户一档: its visits and its cases
// together), a visit recorded by its cadre (which may become a patrol
// report), the town's spreadsheet import of links beside the staff import,
// and the visits counted per cadre, grid, village or month.

// Answers of the linked households.
const (
	msgVisitBad      = "请写明走访情况（不超过1000字）；要作为事项上报的，请选择类别。"
	msgHouseholdNone = "没有找到这户。"
	msgLinkImportBad = "请上传 Excel 工作簿（.xlsx，不超过1MB、500行），第一行为表头：包联干部、网格、地址、户主、电话"
)

// householdView is a linked household as the console lists it. The phone
// is masked unless the reader is its cadre or the town.
type householdView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Address   string `json:"address"`
	Phone     string `json:"phone,omitempty"`
	Grid      string `json:"grid"`
	GridName  string `json:"grid_name"`
	Cadre     string `json:"cadre"`
	CadreName string `json:"cadre_name"`
	// Mine says the reader is its cadre: they record its visits.
	Mine bool `json:"mine"`
}

func newHouseholdView(town *core.Town, staff *core.Staff, h *core.LinkedHousehold) householdView {
	v := householdView{ID: h.ID, Name: h.Name, Address: h.Address, Grid: h.Grid, GridName: town.PlaceName(h.Grid),
		Cadre: h.Cadre, CadreName: actorName(town, h.Cadre), Mine: h.Cadre == staff.ID, Phone: h.Phone}
	if !v.Mine && staff.Role != core.RoleTown {
		v.Phone = core.MaskPhone(h.Phone)
	}
	return v
}

// visitView is a visit as a household's file shows it.
type visitView struct {
	ID        string    `json:"id"`
	CadreName string    `json:"cadre_name"`
	At        time.Time `json:"at"`
	Found     string    `json:"found"`
	Case      string    `json:"case,omitempty"`
}

func newVisitView(town *core.Town, v *core.Visit) visitView {
	return visitView{ID: v.ID, CadreName: actorName(town, v.Cadre), At: v.At, Found: v.Found, Case: v.Case}
}

// handleHouseholds lists the linked households staff may see, theirs first.
func (s *Server) handleHouseholds(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	list, err := s.Visits.Links.Visible(r.Context(), staff)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return
	}
	town := s.Town.Town()
	out := make([]householdView, 0, len(list))
	for i := range list {
		out = append(out, newHouseholdView(town, staff, &list[i]))
	}
	slices.SortStableFunc(out, func(a, b householdView) int {
		if a.Mine != b.Mine {
			if a.Mine {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Grid+a.Cadre, b.Grid+b.Cadre)
	})
	writeJSON(w, http.StatusOK, map[string]any{"households": out, "may_import": core.PermitLinkImport(staff) == nil})
}

// visibleHousehold finds the household of the request's {id} that staff
// may see, or answers 404 as for one that does not exist.
func (s *Server) visibleHousehold(w http.ResponseWriter, r *http.Request, staff *core.Staff) (*core.LinkedHousehold, bool) {
	h, err := s.Visits.Links.Household(r.Context(), r.PathValue("id"))
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return nil, false
	}
	if h == nil || !s.Town.Town().CanSeeHousehold(staff, h) {
		writeError(w, http.StatusNotFound, msgHouseholdNone)
		return nil, false
	}
	return h, true
}

// maxHouseholdCases bounds the cases a household's file lists.
const maxHouseholdCases = 50

// handleHousehold is a household's file (一户一档): the household, its
// visits newest first and its cases newest first, the ones staff may see.
func (s *Server) handleHousehold(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	h, ok := s.visibleHousehold(w, r, staff)
	if !ok {
		return
	}
	town, now := s.Town.Town(), s.now()
	visits, err := s.Visits.Store.HouseholdVisits(r.Context(), h.ID, core.MaxVisitsShown)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return
	}
	// A household's cases are in its village (LinkBook.Match): read that
	// village's grids, not the ledger.
	var grids []string
	for _, g := range town.Grids {
		if g.Village == h.Village {
			grids = append(grids, g.ID)
		}
	}
	cases, err := s.Store.Cases(r.Context(), core.CaseQuery{Grids: grids, Limit: maxHouseholdCases,
		Keep: func(c *core.Case) bool { return c.Household == h.ID && town.CanSee(staff, c) }})
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return
	}
	vs := make([]visitView, 0, len(visits))
	for i := range visits {
		vs = append(vs, newVisitView(town, &visits[i]))
	}
	cs := make([]caseView, 0, len(cases))
	for i := range cases {
		cs = append(cs, newCaseView(town, &cases[i], now))
	}
	var cats []map[string]string
	for _, c := range town.Categories {
		cats = append(cats, map[string]string{"code": c.Code, "name": c.Name})
	}
	writeJSON(w, http.StatusOK, map[string]any{"household": newHouseholdView(town, staff, h), "visits": vs, "cases": cs,
		"may_visit": town.PermitVisit(staff, h) == nil, "categories": cats})
}

// visitBody is a visit as the console sends it. Key names this recording,
// so a resent form records one visit.
type visitBody struct {
	Found    string `json:"found"`
	ToCase   bool   `json:"to_case"`
	Category string `json:"category"`
	Key      string `json:"key"`
}

// handleVisit records a visit to the household by its cadre, through the
// policy: POST /api/households/{id}/visits.
func (s *Server) handleVisit(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	var body visitBody
	if !readJSON(w, r, &body) {
		return
	}
	h, ok := s.visibleHousehold(w, r, staff)
	if !ok {
		return
	}
	if !body.ToCase {
		body.Category = ""
	}
	v, c, err := s.Visits.Record(r.Context(), staff.ID, core.VisitReport{Household: h.ID, Found: body.Found,
		Case: body.ToCase, Category: body.Category, Key: body.Key})
	reason, refused := core.RefusalReason(err)
	switch {
	case err == nil:
	case refused && errors.Is(err, core.ErrNotFound):
		writeError(w, http.StatusNotFound, reason)
		return
	case refused && errors.Is(err, core.ErrForbidden):
		writeError(w, http.StatusForbidden, reason)
		return
	case errors.Is(err, core.ErrInvalid):
		writeError(w, http.StatusBadRequest, msgVisitBad)
		return
	default:
		s.log().ErrorContext(r.Context(), "console visit", "staff", staff.ID, "household", h.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	s.log().InfoContext(r.Context(), "console visit", "staff", staff.ID, "household", h.ID, "case", v.Case)
	out := map[string]any{"visit": newVisitView(s.Town.Town(), &v)}
	if c != nil {
		out["case"] = c.Number
	}
	writeJSON(w, http.StatusOK, out)
}

// linkImportColumns finds the import's columns by their headings.
func linkImportColumns(header []string) (map[string]int, bool) {
	names := map[string][]string{
		"cadre":   {"包联干部", "干部", "包联人", "用户名", "工号", "cadre"},
		"grid":    {"网格", "所属网格", "grid"},
		"address": {"地址", "住址", "家庭住址", "address"},
		"name":    {"户主", "户主姓名", "称呼", "name"},
		"phone":   {"电话", "联系电话", "手机", "phone"},
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for key, alts := range names {
			if _, seen := cols[key]; !seen && slices.Contains(alts, h) {
				cols[key] = i
			}
		}
	}
	for _, need := range []string{"cadre", "grid", "address"} {
		if _, ok := cols[need]; !ok {
			return nil, false
		}
	}
	return cols, true
}

// staffNamed finds a staff member by ID, or by a name only one bears.
func staffNamed(town *core.Town, v string) string {
	if s := town.StaffMember(v); s != nil {
		return s.ID
	}
	if named := town.StaffWhere(func(s *core.Staff) bool { return s.Name == v }); len(named) == 1 {
		return named[0].ID
	}
	return v
}

// gridNamed finds a grid by ID or by its name.
func gridNamed(town *core.Town, v string) string {
	if town.Grid(v) != nil {
		return v
	}
	for _, g := range town.Grids {
		if g.Name == v || town.PlaceName(g.ID) == v {
			return g.ID
		}
	}
	return v
}

// handleLinkImport links the households of an uploaded workbook: POST
// /api/households/import, multipart with one "file". The town only.
func (s *Server) handleLinkImport(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	if err := core.PermitLinkImport(staff); err != nil {
		reason, _ := core.RefusalReason(err)
		writeError(w, http.StatusForbidden, reason)
		return
	}
	rows, ok := uploadedRows(w, r, msgLinkImportBad)
	if !ok {
		return
	}
	cols, ok := linkImportColumns(rows[0])
	if !ok {
		writeError(w, http.StatusBadRequest, msgLinkImportBad)
		return
	}
	town := s.Town.Town()
	var links []core.LinkedHousehold
	var numbers []int // each link's row, as the spreadsheet numbers it
	for i, row := range rows[1:] {
		cell := rowCells(cols, row)
		if strings.Join(row, "") == "" {
			continue
		}
		links = append(links, core.LinkedHousehold{Cadre: staffNamed(town, cell("cadre")), Grid: gridNamed(town, cell("grid")),
			Address: cell("address"), Name: cell("name"), Phone: cell("phone")})
		numbers = append(numbers, i+2)
	}
	linked, refused := 0, []core.LinkRefusal{}
	// Import takes consecutive rows; blank rows are skipped, so each row
	// goes on its own to keep its number.
	for i := range links {
		n, ref, err := s.Visits.Links.Import(r.Context(), staff, links[i:i+1], numbers[i])
		if err != nil {
			s.log().ErrorContext(r.Context(), "console link import", "staff", staff.ID, "row", numbers[i], "err", err)
			refused = append(refused, core.LinkRefusal{Row: numbers[i], Reason: "保存失败，请稍后再导入这一行"})
			continue
		}
		linked += n
		refused = append(refused, ref...)
	}
	s.log().InfoContext(r.Context(), "console link import", "staff", staff.ID, "linked", linked, "refused", len(refused))
	writeJSON(w, http.StatusOK, map[string]any{"linked": linked, "refused": refused})
}

// handleLinkTemplate serves the import's empty workbook with an example row.
func (s *Server) handleLinkTemplate(w http.ResponseWriter, r *http.Request, _ *core.Staff) {
	town := s.Town.Town()
	cadre, grid := "", ""
	if v := town.StaffWhere(func(s *core.Staff) bool { return s.Role == core.RoleVillage }); len(v) > 0 {
		cadre = v[0].Name
	}
	if len(town.Grids) > 0 {
		grid = town.Grids[0].Name
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="households-import.xlsx"; filename*=UTF-8''%E5%8C%85%E8%81%94%E5%86%9C%E6%88%B7%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx`)
	err := xlsx.Write(w, []xlsx.Sheet{{Name: "包联农户", Header: []string{"包联干部", "网格", "地址", "户主", "电话"},
		Rows: [][]any{{cadre, grid, "一巷3号", "陈伯", ""}}}})
	if err != nil {
		s.log().ErrorContext(r.Context(), "console link template", "err", err)
	}
}

// visitGrouping reads ?by= for the visits: cadre, grid, village or month.
func visitGrouping(r *http.Request) (core.Grouping, bool) {
	switch by := core.Grouping(r.URL.Query().Get("by")); by {
	case "":
		return core.ByCadre, true
	case core.ByCadre, core.ByGrid, core.ByVillage, core.ByMonth:
		return by, true
	}
	return "", false
}

// visitFigures counts the visits the staff member may see, from the
// counters kept with each visit: its cost is the cells', not the visits'.
func (s *Server) visitFigures(w http.ResponseWriter, r *http.Request, staff *core.Staff) ([]core.VisitRow, core.Grouping, bool) {
	by, ok := visitGrouping(r)
	if !ok {
		writeError(w, http.StatusBadRequest, msgBadGrouping)
		return nil, "", false
	}
	town := s.Town.Town()
	scope, ok := core.ScopeOf(town, staff)
	if !ok || scope.Department != "" {
		return []core.VisitRow{{Key: "total", Name: "合计"}}, by, true
	}
	counts, err := s.Visits.Store.VisitCounts(r.Context())
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return nil, "", false
	}
	return core.VisitFigures(town, counts, scope, by), by, true
}

func (s *Server) handleVisitFigures(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	rows, _, ok := s.visitFigures(w, r, staff)
	if ok {
		writeJSON(w, http.StatusOK, map[string]any{"rows": rows})
	}
}

func (s *Server) handleVisitFiguresCSV(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	rows, by, ok := s.visitFigures(w, r, staff)
	if !ok {
		return
	}
	recs := [][]string{{"单位", "走访户次"}}
	for _, row := range rows {
		recs = append(recs, []string{unitName(row.Key, row.Name), strconv.Itoa(row.Visits)})
	}
	name := "包联干部"
	if by != core.ByCadre {
		name = groupingName(by)
	}
	writeCSV(w, "走访-"+name+".csv", recs)
}

// householdRoutes adds the linked households to the console's routes, when
// the visits are kept (Server.Visits).
func (s *Server) householdRoutes(mux *http.ServeMux) {
	if s.Visits == nil {
		return
	}
	mux.Handle("GET /api/households", s.authed(s.handleHouseholds))
	mux.Handle("GET /api/households/import-template.xlsx", s.authed(s.handleLinkTemplate))
	mux.Handle("POST /api/households/import", s.authed(s.handleLinkImport))
	mux.Handle("GET /api/households/{id}", s.authed(s.handleHousehold))
	mux.Handle("POST /api/households/{id}/visits", s.authed(s.handleVisit))
	mux.Handle("GET /api/figures/visits", s.authed(s.handleVisitFigures))
	mux.Handle("GET /api/figures/visits.csv", s.authed(s.handleVisitFiguresCSV))
}
