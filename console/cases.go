package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridbot/core"
)

// caseView is a case as a list shows it: no location, the phone masked, and
// phone and ID numbers in the description masked alike (core.MaskNumbers).
type caseView struct {
	Number       string     `json:"number"`
	State        core.State `json:"state"`
	StateLabel   string     `json:"state_label"`
	Category     string     `json:"category"`
	CategoryName string     `json:"category_name"`
	Text         string     `json:"text"`
	Village      string     `json:"village"`
	VillageName  string     `json:"village_name"`
	Grid         string     `json:"grid"`
	Place        string     `json:"place"`
	Assignee     string     `json:"assignee"`
	AssigneeName string     `json:"assignee_name"`
	Deadline     time.Time  `json:"deadline"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	Overdue      bool       `json:"overdue"`
	Phone        string     `json:"phone"`
	// Joined counts the residents who joined the case (附议).
	Joined int `json:"joined"`
	// Urgent marks a case flagged 加急.
	Urgent bool `json:"urgent,omitempty"`
}

// caseDetail is a case as its own page shows it.
type caseDetail struct {
	caseView
	PhoneVisible bool           `json:"phone_visible"`
	Location     *core.Location `json:"location,omitempty"`
	Photos       []core.Media   `json:"photos"`
	Voices       []core.Media   `json:"voices"`
	Result       string         `json:"result,omitempty"`
	Rating       int            `json:"rating,omitempty"`
	Post         core.Post      `json:"post,omitempty"`
	Warning      core.Warning   `json:"warning,omitempty"`
	Departments  []assistView   `json:"departments"`
	// Pending is a request for an extension or a pause waiting for a
	// decision; Paused the case's stopped clock (ResumeAt: when it restarts
	// by itself); Extensions the extensions granted.
	Pending    *changeView `json:"pending,omitempty"`
	Paused     bool        `json:"paused,omitempty"`
	ResumeAt   time.Time   `json:"resume_at,omitzero"`
	Extensions int         `json:"extensions,omitempty"`
	// Published is the text the public reads (公开), "" for none.
	Published string `json:"published,omitempty"`
	// The desk's marks: channel, contact, urgent, urges, merged into.
	deskView
	// GridWork is the grid's own work on the case (gridwork.go).
	GridWork gridWorkView `json:"gridwork"`
	// Actions are the steps this staff member may take on the case now,
	// by name: the policy's core.Town.Steps; the page offers exactly these.
	Actions []string `json:"actions"`
}

// changeView is a pending request for an extension or a pause.
type changeView struct {
	Kind   core.ChangeKind `json:"kind"`
	Label  string          `json:"label"`
	Days   int             `json:"days,omitempty"`
	Until  time.Time       `json:"until,omitzero"`
	Reason string          `json:"reason"`
	By     string          `json:"by"`
	ByName string          `json:"by_name"`
	At     time.Time       `json:"at"`
}

// assistView is a department whistled to a case.
type assistView struct {
	Department string           `json:"department"`
	Name       string           `json:"name"`
	State      core.AssistState `json:"state"`
	Lead       bool             `json:"lead,omitempty"`
	Reason     string           `json:"reason,omitempty"`
}

// eventView is one line of a case's timeline.
type eventView struct {
	Seq       uint64            `json:"seq"`
	Case      string            `json:"case"`
	Kind      core.EventKind    `json:"kind"`
	Label     string            `json:"label"`
	Actor     string            `json:"actor"`
	ActorName string            `json:"actor_name"`
	Text      string            `json:"text,omitempty"`
	Data      map[string]string `json:"data,omitempty"`
	At        time.Time         `json:"at"`
}

func newCaseView(town *core.Town, c *core.Case, now time.Time) caseView {
	v := caseView{
		Number:     c.Number,
		State:      c.State,
		StateLabel: c.State.Label(),
		Category:   c.Category,
		Text:       core.MaskNumbers(c.Text),
		Village:    c.Village,
		Grid:       c.Grid,
		Place:      town.PlaceName(c.Grid),
		Assignee:   c.Assignee,
		Deadline:   c.Deadline,
		CreatedAt:  c.CreatedAt,
		UpdatedAt:  c.UpdatedAt,
		Overdue:    c.Overdue(now),
		Phone:      core.MaskPhone(c.Phone),
		Joined:     len(c.Joined),
		Urgent:     c.Urgent,
	}
	if cat := town.Category(c.Category); cat != nil {
		v.CategoryName = cat.Name
	}
	if vil := town.Village(c.Village); vil != nil {
		v.VillageName = vil.Name
	}
	if a := town.StaffMember(c.Assignee); a != nil {
		v.AssigneeName = a.Name
	}
	return v
}

func newCaseDetail(town *core.Town, staff *core.Staff, c *core.Case, now time.Time) caseDetail {
	d := caseDetail{
		caseView:  newCaseView(town, c, now),
		Photos:    c.Photos,
		Voices:    c.Voices,
		Result:    c.Result,
		Published: c.Published,
		Rating:    c.Rating,
		Post:      c.Post,
		Warning:   c.Warning,
		Actions:   allowedActions(town, staff, c),
		Paused:    c.Paused, ResumeAt: c.ResumeAt, Extensions: c.Extensions,
		GridWork: newGridWorkView(town, c, now),
	}
	if p := c.Pending; p != nil {
		d.Pending = &changeView{Kind: p.Kind, Label: p.Kind.Label(), Days: p.Days, Until: p.Until,
			Reason: p.Reason, By: p.By, At: p.At}
		if by := town.StaffMember(p.By); by != nil {
			d.Pending.ByName = by.Name
		}
	}
	d.deskView = newDeskView(town, staff, c)
	if d.Photos == nil {
		d.Photos = []core.Media{}
	}
	d.Departments = make([]assistView, 0, len(c.Departments))
	for _, a := range c.Departments {
		v := assistView{Department: a.Department, State: a.State, Lead: a.Lead, Reason: a.Reason, Name: a.Department}
		if dep := town.Department(a.Department); dep != nil {
			v.Name = dep.Name
		}
		d.Departments = append(d.Departments, v)
	}
	if town.SeesPersonalData(staff, c) {
		d.Phone, d.PhoneVisible, d.Location = c.Phone, true, c.Location
		d.Text = c.Text
	}
	return d
}

// eventViews is a case's log as the API shows it.
func eventViews(town *core.Town, events []core.Event) []eventView {
	views := make([]eventView, 0, len(events))
	for _, e := range events {
		views = append(views, newEventView(town, e))
	}
	return views
}

// actorName names who did something: a staff member's name, 居民 or 系统.
func actorName(town *core.Town, actor string) string {
	switch actor {
	case core.ActorResident:
		return "居民"
	case core.ActorSystem, "":
		return "系统"
	}
	if s := town.StaffMember(actor); s != nil {
		return s.Name
	}
	return actor
}

func newEventView(town *core.Town, e core.Event) eventView {
	v := eventView{
		Seq: e.Seq, Case: e.Case, Kind: e.Kind, Label: core.EventLabel(e),
		Actor: e.Actor, ActorName: actorName(town, e.Actor), Text: core.MaskNumbers(e.Text), At: e.At,
	}
	if len(e.Data) > 0 {
		v.Data = make(map[string]string, len(e.Data)+2)
		for k, val := range e.Data {
			v.Data[k] = val
		}
		// Names beside IDs, so the page need not know the directory.
		if a, ok := e.Data[core.DataAssignee]; ok {
			v.Data["assignee_name"] = actorName(town, a)
		}
		if to, ok := e.Data[core.DataTo]; ok {
			v.Data["to_name"] = actorName(town, to)
		}
		nameData(town, v.Data)
	}
	return v
}

// nameData adds, beside the directory codes an event's data carries
// (categories, grids, departments), the names people read: the page shows
// "类别 道路设施 → 环境卫生", never "road → env".
func nameData(town *core.Town, data map[string]string) {
	for _, k := range []string{core.DataCategory, core.DataOldCategory} {
		if code, ok := data[k]; ok && code != "" {
			data[k+"_name"] = categoryName(town, code)
		}
	}
	for _, k := range []string{core.DataGrid, core.DataOldGrid} {
		if id, ok := data[k]; ok && id != "" {
			data[k+"_name"] = gridName(town, id)
		}
	}
	if id, ok := data[core.DataDept]; ok && id != "" {
		data[core.DataDept+"_name"] = departmentName(town, id)
	}
}

// categoryName, gridName and departmentName name a directory entry; one
// removed from the directory since is named as 已撤销的… rather than by code.
func categoryName(town *core.Town, code string) string {
	if c := town.Category(code); c != nil {
		return c.Name
	}
	return "已撤销的类别"
}

func gridName(town *core.Town, id string) string {
	if town.Grid(id) != nil {
		return town.PlaceName(id)
	}
	return "已撤销的网格"
}

func departmentName(town *core.Town, id string) string {
	if d := town.Department(id); d != nil {
		return d.Name
	}
	return "已撤销的部门"
}

// listFilter is what GET /api/cases (and its CSV) asks for.
type listFilter struct {
	states   []core.State
	grid     string
	category string
	overdue  bool
	mine     bool
	q        string
	// before asks for the page after the case numbered before (the list
	// is newest first): a page reads what it shows.
	before string
	// search is q as a filter for the staff member (search.go), set by
	// visibleCases.
	search func(*core.Case) bool
}

// openStates are the states of ?state=open: the cases waiting for work.
var openStates = []core.State{core.StateSubmitted, core.StateAssigned, core.StateInProgress, core.StateReopened}

func parseStateFilter(s string) ([]core.State, bool) {
	switch core.State(s) {
	case "":
		return nil, true
	case "open":
		return openStates, true
	case core.StateSubmitted, core.StateAssigned, core.StateInProgress,
		core.StateResolved, core.StateClosed, core.StateReopened:
		return []core.State{core.State(s)}, true
	}
	return nil, false
}

// parseListFilter reads the query; ok is false (and the client answered)
// for an unknown state.
func parseListFilter(w http.ResponseWriter, r *http.Request) (listFilter, bool) {
	query := r.URL.Query()
	states, ok := parseStateFilter(query.Get("state"))
	if !ok {
		writeError(w, http.StatusBadRequest, msgBadState)
		return listFilter{}, false
	}
	flag := func(name string) bool { v := query.Get(name); return v == "1" || v == "true" }
	return listFilter{states: states, grid: query.Get("grid"), category: query.Get("category"),
		overdue: flag("overdue"), mine: flag("mine"), q: strings.TrimSpace(query.Get("q")), before: query.Get("before")}, true
}

// mine reports whether staff has case c on their desk: assigned to them,
// or whistled to their department and not returned.
func mine(staff *core.Staff, c *core.Case) bool {
	if c.Assignee == staff.ID {
		return true
	}
	if staff.Role == core.RoleDepartment {
		a := c.Assist(staff.Department)
		return a != nil && a.State != core.AssistReturned
	}
	return false
}

func (f listFilter) matches(staff *core.Staff, c *core.Case, now time.Time) bool {
	switch {
	case f.category != "" && c.Category != f.category,
		f.overdue && !c.Overdue(now),
		f.mine && !mine(staff, c):
		return false
	case f.q == "":
		return true
	}
	if f.search == nil {
		return core.ParseSearch(f.q).Match(c, false)
	}
	return f.search(c)
}

// query returns the store query that narrows the candidates for staff.
func (f listFilter) query(staff *core.Staff) core.CaseQuery {
	q := core.CaseQuery{States: f.states, Limit: maxScanned, Before: f.before}
	if len(q.States) == 0 && f.overdue {
		// Only open cases run late: the store walks its index of the
		// cases not closed instead of the whole ledger.
		q.States = openStates
	}
	if f.grid != "" {
		q.Grids = []string{f.grid}
	}
	// The store reads its category index when nothing narrower applies.
	q.Category = f.category
	if staff.Role == core.RoleDepartment {
		q.Department = staff.Department
	}
	return q
}

// maxScanned bounds the cases one list or figure reads from the store.
const maxScanned = 1_000_000

// visibleCases lists the cases staff may see that pass f, newest first, at
// most limit (0: no limit).
// The filters are handed to the store (CaseQuery.Keep), which stops at
// the limit: a page reads until it is full, not the whole ledger.
func (s *Server) visibleCases(ctx context.Context, staff *core.Staff, f listFilter, limit int) ([]core.Case, error) {
	town, now := s.Town.Town(), s.now()
	if number, ok := core.CaseNumberLike(town.CasePrefix, f.q); ok {
		// A whole case number is contained in no other: read that case.
		c, err := s.Store.Case(ctx, number)
		switch {
		case errors.Is(err, core.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		}
		if q := f.query(staff); !q.Match(&c) || !town.CanSee(staff, &c) || !f.matches(staff, &c, now) {
			return nil, nil
		}
		return []core.Case{c}, nil
	}
	q := f.query(staff)
	if limit > 0 {
		q.Limit = limit
	}
	// The store reads the indexes of what staff may see (core.Town.Reach)
	// instead of walking the ledger for it; CanSee still decides.
	if scopes, ok := town.Reach(staff); ok {
		q.Within = scopes
	}
	if f.mine && staff.Role != core.RoleDepartment {
		q.Within = []core.CaseScope{{Staff: staff.ID}}
	}
	if f.q != "" {
		search, parsed, residents, err := s.searcher(ctx, town, staff, f.q)
		if err != nil {
			return nil, err
		}
		f.search, q.Search = search, parsed
		q.Keep = func(c *core.Case) bool { return town.CanSee(staff, c) && f.matches(staff, c, now) }
		return s.searchCases(ctx, q, residents)
	}
	q.Keep = func(c *core.Case) bool { return town.CanSee(staff, c) && f.matches(staff, c, now) }
	return s.Store.Cases(ctx, q)
}

// parseListPage reads the size and the start of a list page: ?limit= (1 to
// maxListed, defaultListed when absent) and ?before= (a case number of the
// town, its prefix as people type it). ok is false (and the client
// answered) for anything else, before the store is read: a cursor that is
// no case number pages nothing, so it is refused rather than walked.
func parseListPage(w http.ResponseWriter, r *http.Request, town *core.Town, f *listFilter) (limit int, ok bool) {
	limit = defaultListed
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListed {
			writeError(w, http.StatusBadRequest, msgBadLimit)
			return 0, false
		}
		limit = n
	}
	if f.before != "" {
		number, ok := core.CaseNumberLike(town.CasePrefix, f.before)
		if !ok {
			writeError(w, http.StatusBadRequest, msgBadBefore)
			return 0, false
		}
		f.before = number
	}
	return limit, true
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	f, ok := parseListFilter(w, r)
	if !ok {
		return
	}
	limit, ok := parseListPage(w, r, s.Town.Town(), &f)
	if !ok {
		return
	}
	// The position of the feed is read before the list, so that a page
	// that follows the feed from it misses nothing the list lacks.
	head, err := lastSeq(r.Context(), s.Store)
	if err == nil {
		var cases []core.Case
		// One case more than the page tells whether there is a next page
		// without counting the rest.
		cases, err = s.visibleCases(r.Context(), staff, f, limit+1)
		if err == nil {
			more := len(cases) > limit
			cases = cases[:min(len(cases), limit)]
			town, now := s.Town.Town(), s.now()
			out := make([]caseView, 0, len(cases))
			for i := range cases {
				out = append(out, newCaseView(town, &cases[i], now))
			}
			writeJSON(w, http.StatusOK, map[string]any{"cases": out, "more": more, "seq": head})
			return
		}
	}
	s.log().ErrorContext(r.Context(), "console list cases", "staff", staff.ID, "err", err)
	writeError(w, http.StatusInternalServerError, msgServerError)
}

// visibleCase loads the case named in the path if staff may see it. When it
// returns false it has answered the request: 404 for a case that does not
// exist or is not visible, alike.
func (s *Server) visibleCase(w http.ResponseWriter, r *http.Request, staff *core.Staff) (core.Case, bool) {
	number := r.PathValue("number")
	c, err := s.Store.Case(r.Context(), number)
	if errors.Is(err, core.ErrNotFound) || (err == nil && !s.Town.Town().CanSee(staff, &c)) {
		writeError(w, http.StatusNotFound, msgNotFound)
		return core.Case{}, false
	}
	if err != nil {
		s.log().ErrorContext(r.Context(), "console read case", "staff", staff.ID, "case", number, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return core.Case{}, false
	}
	return c, true
}

// householdCase is another case of the same household (一户一档).
type householdCase struct {
	caseView
	Relation string `json:"relation"` // 同一居民 or 同一地址
}

// Bounds of a case's household list. It is read each time a case is
// opened: reading the whole grid for the same address made opening a case
// cost as much as the grid's history (the soak, with every case at one
// address, spent minutes opening 17,000 cases one by one).
const (
	householdScanned = 500 // the grid's latest cases looked at for the same address
	householdShown   = 50  // the newest related cases listed
)

// household lists the other cases staff may see from the same resident, or
// at the same address (the same place label among the grid's latest
// cases), newest first, at most householdShown.
func (s *Server) household(ctx context.Context, staff *core.Staff, c *core.Case) ([]householdCase, error) {
	town, now := s.Town.Town(), s.now()
	out := []householdCase{}
	seen := map[string]bool{c.Number: true}
	add := func(cases []core.Case, relation string, keep func(*core.Case) bool) {
		for i := range cases {
			o := &cases[i]
			if seen[o.Number] || !keep(o) || !town.CanSee(staff, o) {
				continue
			}
			seen[o.Number] = true
			out = append(out, householdCase{caseView: newCaseView(town, o, now), Relation: relation})
		}
	}
	same, err := s.Store.Cases(ctx, core.CaseQuery{Resident: c.Resident, Limit: householdShown + 1})
	if err != nil {
		return nil, err
	}
	add(same, "同一居民", func(*core.Case) bool { return true })
	if c.Location != nil {
		near, err := s.Store.Cases(ctx, core.CaseQuery{Grids: []string{c.Grid}, Limit: householdScanned})
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(c.Location.Label) != "" {
			add(near, "同一地址", func(o *core.Case) bool {
				return o.Location != nil && o.Location.Label == c.Location.Label
			})
		}
		s.addNearby(town, staff, c, near, add)
	}
	slices.SortStableFunc(out, func(a, b householdCase) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out[:min(len(out), householdShown)], nil
}

func (s *Server) handleCase(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	c, ok := s.visibleCase(w, r, staff)
	if !ok {
		return
	}
	events, err := s.Store.Events(r.Context(), c.Number)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console read events", "staff", staff.ID, "case", c.Number, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	house, err := s.household(r.Context(), staff, &c)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console household", "staff", staff.ID, "case", c.Number, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	town := s.Town.Town()
	detail := newCaseDetail(town, staff, &c, s.now())
	noteAudit(r, "", caseViewNote(detail.PhoneVisible, len(house)))
	writeJSON(w, http.StatusOK, map[string]any{
		"case":      detail,
		"events":    eventViews(town, events),
		"household": house,
		// The words as written are case.text; this is their simplified
		// reading where it differs (a resident writing traditional).
		"text_simplified": s.simplifiedReading(c.Text),
	})
}
