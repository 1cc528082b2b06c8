package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"gridbot/core"
)

// The grid's own work on the console (issue 19): where a case came from
// (主动发现), and the figures of that work.

// gridWorkView is what a case's page shows of the grid's own work on it.
type gridWorkView struct {
	// Origin is "" for a resident's case, core.OriginPatrol for one the
	// grid found; FinderName names who found it.
	Origin      string `json:"origin,omitempty"`
	OriginLabel string `json:"origin_label"`
	FinderName  string `json:"finder_name,omitempty"`
	// Callback is the callback visit (回访) waiting, if any.
	Callback *callbackView `json:"callback,omitempty"`
	// Instructions are the town leaders' instructions (督办批示), in order.
	Instructions []instructionView `json:"instructions"`
	// Meeting is the case's place on the meeting list (会商), if any.
	Meeting *meetingView `json:"meeting,omitempty"`
	// Mediation is a dispute's mediation (调解), if any.
	Mediation *mediationView `json:"mediation,omitempty"`
	// Household is the linked household the case came from (二十户包联),
	// whose file (一户一档) the page links to.
	Household string `json:"household,omitempty"`
}

// instructionView is a leader's instruction as the case page shows it.
type instructionView struct {
	ByName string    `json:"by_name"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

func newGridWorkView(town *core.Town, c *core.Case, now time.Time) gridWorkView {
	v := gridWorkView{Origin: c.Origin, OriginLabel: "群众反映", Meeting: newMeetingView(town, c.Meeting, now),
		Mediation: newMediationView(c.Mediation), Household: c.Household}
	if c.Found() {
		v.OriginLabel = "网格主动发现"
		v.FinderName = actorName(town, c.Finder)
	}
	v.Instructions = make([]instructionView, 0, len(c.Instructions))
	for _, in := range c.Instructions {
		v.Instructions = append(v.Instructions, instructionView{ByName: actorName(town, in.By), Text: in.Text, At: in.At})
	}
	if cb := c.Callback; cb != nil {
		v.Callback = &callbackView{Reason: cb.Reason, Label: core.CallbackLabel(cb.Reason), Due: cb.Due}
	}
	return v
}

// gridWorkRowView is a GridWorkRow with its shares rendered.
type gridWorkRowView struct {
	core.GridWorkRow
	FoundRate    string `json:"found_rate"`
	CallbackRate string `json:"callback_rate"`
	SettleRate   string `json:"settle_rate"`
}

// gridWork computes the grid's own work for the request (?by=); the page
// and the CSV both come from here. It reads the figures' counters, kept in
// the write of each event (core.GridWorkOf), not the history.
func (s *Server) gridWork(w http.ResponseWriter, r *http.Request, staff *core.Staff) ([]core.GridWorkRow, core.Grouping, bool) {
	by, ok := grouping(w, r)
	if !ok {
		return nil, "", false
	}
	t, scope, err := s.tally(r.Context(), staff)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return nil, "", false
	}
	if _, sees := core.ScopeOf(s.Town.Town(), staff); !sees {
		return []core.GridWorkRow{{Key: "total", Name: "合计"}}, by, true
	}
	return core.GridWorkOf(s.Town.Town(), t, scope, by, s.now()), by, true
}

func (s *Server) handleGridWork(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	rows, _, ok := s.gridWork(w, r, staff)
	if !ok {
		return
	}
	out := make([]gridWorkRowView, 0, len(rows))
	for _, row := range rows {
		out = append(out, gridWorkRowView{GridWorkRow: row, FoundRate: row.FoundRate(), CallbackRate: row.CallbackRate(), SettleRate: row.SettleRate()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"rows": out})
}

func (s *Server) handleGridWorkCSV(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	rows, by, ok := s.gridWork(w, r, staff)
	if !ok {
		return
	}
	writeCSV(w, "网格工作-"+groupingName(by)+".csv", gridWorkRecords(rows))
}

// gridWorkRecords renders the grid's own work as the table people read,
// header first.
func gridWorkRecords(rows []core.GridWorkRow) [][]string {
	out := [][]string{{"单位", "案件数", "主动发现", "主动发现占比", "应回访", "按时回访", "回访及时率", "督办", "调解结案", "调解成功", "化解率"}}
	for _, r := range rows {
		out = append(out, []string{unitName(r.Key, r.Name), strconv.Itoa(r.Cases), strconv.Itoa(r.Found), r.FoundRate(),
			strconv.Itoa(r.CallbacksDue), strconv.Itoa(r.CallbacksOnTime), r.CallbackRate(), strconv.Itoa(r.Supervised),
			strconv.Itoa(r.Mediated), strconv.Itoa(r.Settled), r.SettleRate()})
	}
	return out
}

// gridWorkRoutes adds the grid's own work to the console's routes.
func (s *Server) gridWorkRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/figures/gridwork", s.authed(s.heavy(s.handleGridWork)))
	mux.Handle("GET /api/figures/gridwork.csv", s.authed(s.heavy(s.handleGridWorkCSV)))
	mux.Handle("GET /api/meeting", s.authed(s.handleAgenda))
	s.householdRoutes(mux)
}

// msgCallbackBad answers a callback the ledger calls invalid.
const msgCallbackBad = "请写明回访情况；未联系上时请写明原因（不超过1000字）。"

// msgTableBad and msgConveneBad answer a meeting step the ledger calls
// invalid.
const (
	msgTableBad   = "请写明提请会商的理由，不超过1000字。"
	msgConveneBad = "请选择挂钩领导，写明帮办措施，并列出1到10个时间节点（内容和今后的日期）。"
)

// milestoneHour is when on its day a milestone falls due: the end of the
// working day.
const milestoneHour = 18 * time.Hour

// milestoneBody is a milestone as the console sends it.
type milestoneBody struct {
	Text string `json:"text"`
	Due  string `json:"due"`
}

// meetingView is a case's place on the meeting list and its decision.
type meetingView struct {
	Reason     string          `json:"reason"`
	ByName     string          `json:"by_name"`
	At         time.Time       `json:"at"`
	Decided    bool            `json:"decided"`
	Leader     string          `json:"leader,omitempty"`
	LeaderName string          `json:"leader_name,omitempty"`
	Help       string          `json:"help,omitempty"`
	Milestones []milestoneView `json:"milestones"`
}

type milestoneView struct {
	Text    string    `json:"text"`
	Due     time.Time `json:"due"`
	Done    bool      `json:"done"`
	DoneAt  time.Time `json:"done_at,omitzero"`
	Overdue bool      `json:"overdue"`
}

func newMeetingView(town *core.Town, m *core.Meeting, now time.Time) *meetingView {
	if m == nil {
		return nil
	}
	v := &meetingView{Reason: m.Reason, ByName: actorName(town, m.By), At: m.At, Decided: m.Decided, Leader: m.Leader,
		Help: m.Help, Milestones: []milestoneView{}}
	if m.Leader != "" {
		v.LeaderName = actorName(town, m.Leader)
	}
	for _, ms := range m.Milestones {
		v.Milestones = append(v.Milestones, milestoneView{Text: ms.Text, Due: ms.Due, Done: ms.Done(), DoneAt: ms.DoneAt,
			Overdue: !ms.Done() && now.After(ms.Due)})
	}
	return v
}

// agendaItem is a case on the meeting's agenda, or one whose decision is
// being carried out.
type agendaItem struct {
	caseView
	Meeting *meetingView `json:"meeting"`
}

// handleAgenda lists the cases on the meeting list the staff member may
// see: those waiting for the meeting first (the agenda, oldest first),
// then those decided with milestones still open.
func (s *Server) handleAgenda(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	town, now := s.Town.Town(), s.now()
	cases, err := s.Store.Cases(r.Context(), core.CaseQuery{
		States: []core.State{core.StateSubmitted, core.StateAssigned, core.StateInProgress, core.StateReopened},
		Keep:   func(c *core.Case) bool { return c.Meeting != nil && town.CanSee(staff, c) },
	})
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return
	}
	slices.SortStableFunc(cases, func(a, b core.Case) int {
		if a.OnAgenda() != b.OnAgenda() {
			if a.OnAgenda() {
				return -1
			}
			return 1
		}
		return a.Meeting.At.Compare(b.Meeting.At)
	})
	out := make([]agendaItem, 0, len(cases))
	for i := range cases {
		c := &cases[i]
		out = append(out, agendaItem{caseView: newCaseView(town, c, now), Meeting: newMeetingView(town, c.Meeting, now)})
	}
	leaders := []map[string]string{}
	for _, st := range town.StaffWhere(func(st *core.Staff) bool { return st.Role == core.RoleTown || st.Role == core.RoleVillage }) {
		leaders = append(leaders, map[string]string{"id": st.ID, "name": st.Name})
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": out, "leaders": leaders})
}

// msgMediateBad answers a session the ledger calls invalid.
const msgMediateBad = "请写明调解人和调解情况；第一次调解还须写明当事人。"

// mediationView is a dispute's mediation as the case page shows it.
type mediationView struct {
	Parties     string        `json:"parties"`
	Sessions    []sessionView `json:"sessions"`
	Result      string        `json:"result,omitempty"`
	ResultLabel string        `json:"result_label,omitempty"`
}

type sessionView struct {
	Mediators string    `json:"mediators"`
	At        time.Time `json:"at"`
	Outcome   string    `json:"outcome"`
}

func newMediationView(m *core.Mediation) *mediationView {
	if m == nil {
		return nil
	}
	v := &mediationView{Parties: m.Parties, Result: m.Result, Sessions: []sessionView{}}
	if m.Result != "" {
		v.ResultLabel = core.MediationLabel(m.Result)
	}
	for _, s := range m.Sessions {
		v.Sessions = append(v.Sessions, sessionView{Mediators: s.Mediators, At: s.At, Outcome: s.Outcome})
	}
	return v
}

// msgInstructBad answers an instruction with no words or too many.
const msgInstructBad = "请写下批示内容，不超过1000字。"

// gridWorkActions are the console's actions of the grid's own work.
func gridWorkActions() []caseAction {
	return []caseAction{
		{step: core.StepCallback, invalid: msgCallbackBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.RecordCallback(ctx, n, s.ID, core.CallbackAnswer{Reached: b.Reached, Satisfied: b.Satisfied, Note: b.Note})
			}},
		{step: core.StepTable, invalid: msgTableBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Table(ctx, n, s.ID, b.Reason)
			}},
		{step: core.StepConvene, invalid: msgConveneBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				d := core.Decision{Leader: b.Leader, Help: b.Help}
				if len(b.Milestones) > core.MaxMilestones {
					return core.Case{}, nil, core.ErrInvalid
				}
				for _, m := range b.Milestones {
					day, err := time.ParseInLocation("2006-01-02", m.Due, l.Town.Town().Zone())
					if err != nil {
						return core.Case{}, nil, core.ErrInvalid
					}
					d.Milestones = append(d.Milestones, core.Milestone{Text: m.Text, Due: day.Add(milestoneHour)})
				}
				return l.Convene(ctx, n, s.ID, d)
			}},
		{step: core.StepMilestone, invalid: msgBadRequest,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.ReachMilestone(ctx, n, s.ID, b.Note)
			}},
		{step: core.StepMediate, invalid: msgMediateBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Mediate(ctx, n, s.ID, b.Parties, b.Mediators, b.Outcome)
			}},
		{step: core.StepMediationEnded, invalid: msgBadRequest,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.EndMediation(ctx, n, s.ID, b.MediationResult, b.Note)
			}},
		{step: core.StepInstruct, invalid: msgInstructBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Instruct(ctx, n, s.ID, b.Text)
			}},
	}
}

// callbackView is a callback visit waiting on a case.
type callbackView struct {
	Reason string    `json:"reason"`
	Label  string    `json:"label"`
	Due    time.Time `json:"due"`
}
