package console

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"gridbot/core"
)

// caseView is a case as a list shows it: no location, the phone masked.
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
}

// caseDetail is a case as its own page shows it.
type caseDetail struct {
	caseView
	PhoneVisible bool           `json:"phone_visible"`
	Location     *core.Location `json:"location,omitempty"`
	Photos       []core.Media   `json:"photos"`
	Result       string         `json:"result,omitempty"`
	Rating       int            `json:"rating,omitempty"`
	Post         core.Post      `json:"post,omitempty"`
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
		Text:       c.Text,
		Village:    c.Village,
		Grid:       c.Grid,
		Place:      town.PlaceName(c.Grid),
		Assignee:   c.Assignee,
		Deadline:   c.Deadline,
		CreatedAt:  c.CreatedAt,
		UpdatedAt:  c.UpdatedAt,
		Overdue:    c.State.Open() && !c.Deadline.IsZero() && now.After(c.Deadline),
		Phone:      core.MaskPhone(c.Phone),
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

// handles reports whether staff handles case c and so may read the
// resident's phone and location: the assignee, a leader of its grid, or the
// town.
func handles(town *core.Town, staff *core.Staff, c *core.Case) bool {
	if staff == nil || staff.Disabled || !town.CanSee(staff, c) {
		return false
	}
	if staff.Role == core.RoleTown || c.Assignee == staff.ID {
		return true
	}
	g := town.Grid(c.Grid)
	return g != nil && (g.LeaderA == staff.ID || g.LeaderB == staff.ID)
}

func newCaseDetail(town *core.Town, staff *core.Staff, c *core.Case, now time.Time) caseDetail {
	d := caseDetail{
		caseView: newCaseView(town, c, now),
		Photos:   c.Photos,
		Result:   c.Result,
		Rating:   c.Rating,
		Post:     c.Post,
	}
	if d.Photos == nil {
		d.Photos = []core.Media{}
	}
	if handles(town, staff, c) {
		d.Phone, d.PhoneVisible, d.Location = c.Phone, true, c.Location
	}
	return d
}

// eventLabel names an event kind for staff.
func eventLabel(k core.EventKind) string {
	switch k {
	case core.EventSubmitted:
		return "居民提交"
	case core.EventAssigned:
		return "已派单"
	case core.EventAccepted:
		return "已受理"
	case core.EventReplied:
		return "回复居民"
	case core.EventResolved:
		return "已办结"
	case core.EventRated:
		return "居民评价"
	case core.EventClosed:
		return "已结案"
	case core.EventReopened:
		return "重新办理"
	case core.EventDelivered:
		return "消息已送达"
	case core.EventUndeliverable:
		return "消息未能送达"
	}
	return string(k)
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
		Seq: e.Seq, Case: e.Case, Kind: e.Kind, Label: eventLabel(e.Kind),
		Actor: e.Actor, ActorName: actorName(town, e.Actor), Text: e.Text, At: e.At,
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
	}
	return v
}

// listFilter is what GET /api/cases asks for.
type listFilter struct {
	states []core.State
	grid   string
	q      string
}

func parseStateFilter(s string) ([]core.State, bool) {
	switch core.State(s) {
	case "":
		return nil, true
	case "open":
		return []core.State{core.StateSubmitted, core.StateAssigned, core.StateInProgress, core.StateReopened}, true
	case core.StateSubmitted, core.StateAssigned, core.StateInProgress,
		core.StateResolved, core.StateClosed, core.StateReopened:
		return []core.State{core.State(s)}, true
	}
	return nil, false
}

func (f listFilter) matches(c *core.Case) bool {
	if f.q == "" {
		return true
	}
	return strings.Contains(strings.ToUpper(c.Number), strings.ToUpper(f.q)) || strings.Contains(c.Text, f.q)
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	query := r.URL.Query()
	states, ok := parseStateFilter(query.Get("state"))
	if !ok {
		writeError(w, http.StatusBadRequest, msgBadState)
		return
	}
	f := listFilter{states: states, grid: query.Get("grid"), q: strings.TrimSpace(query.Get("q"))}
	cq := core.CaseQuery{States: f.states}
	if f.grid != "" {
		cq.Grids = []string{f.grid}
	}
	cases, err := s.Store.Cases(r.Context(), cq)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console list cases", "staff", staff.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	town, now := s.Town.Town(), s.now()
	out := make([]caseView, 0, min(len(cases), maxListed))
	for i := range cases {
		c := &cases[i]
		if !town.CanSee(staff, c) || !f.matches(c) {
			continue
		}
		out = append(out, newCaseView(town, c, now))
		if len(out) == maxListed {
			break
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": out})
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
	town := s.Town.Town()
	views := make([]eventView, 0, len(events))
	for _, e := range events {
		views = append(views, newEventView(town, e))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"case":   newCaseDetail(town, staff, &c, s.now()),
		"events": views,
	})
}

type replyRequest struct {
	Text string `json:"text"`
}

type resolveRequest struct {
	Result string `json:"result"`
}

func (s *Server) handleReply(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	var req replyRequest
	if !readJSON(w, r, &req) {
		return
	}
	s.writeLedger(w, r, staff, "reply", msgReplyInvalid, func(ctx context.Context, number string) (core.Case, []core.Event, error) {
		return s.Ledger.Reply(ctx, number, staff.ID, req.Text)
	})
}

func (s *Server) handleResolve(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	var req resolveRequest
	if !readJSON(w, r, &req) {
		return
	}
	s.writeLedger(w, r, staff, "resolve", msgResultBad, func(ctx context.Context, number string) (core.Case, []core.Event, error) {
		return s.Ledger.Resolve(ctx, number, staff.ID, req.Result)
	})
}

// writeLedger runs one ledger step on a case staff may see and answers with
// the changed case and the events written.
func (s *Server) writeLedger(w http.ResponseWriter, r *http.Request, staff *core.Staff, step, invalidMsg string,
	write func(ctx context.Context, number string) (core.Case, []core.Event, error)) {
	c, ok := s.visibleCase(w, r, staff)
	if !ok {
		return
	}
	number := c.Number
	c, events, err := write(r.Context(), number)
	switch {
	case err == nil:
	case errors.Is(err, core.ErrInvalid):
		writeError(w, http.StatusBadRequest, invalidMsg)
		return
	case errors.Is(err, core.ErrWrongState), errors.Is(err, core.ErrNoChange):
		writeError(w, http.StatusConflict, msgWrongState)
		return
	case errors.Is(err, core.ErrConflict):
		writeError(w, http.StatusConflict, msgConflict)
		return
	case errors.Is(err, core.ErrNotFound):
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	default:
		s.log().ErrorContext(r.Context(), "console "+step, "staff", staff.ID, "case", number, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	s.log().InfoContext(r.Context(), "console "+step, "staff", staff.ID, "case", number)
	town := s.Town.Town()
	views := make([]eventView, 0, len(events))
	for _, e := range events {
		views = append(views, newEventView(town, e))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"case":   newCaseDetail(town, staff, &c, s.now()),
		"events": views,
	})
}
