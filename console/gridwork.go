package console

import (
	"context"
	"net/http"
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
}

// instructionView is a leader's instruction as the case page shows it.
type instructionView struct {
	ByName string    `json:"by_name"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

func newGridWorkView(town *core.Town, c *core.Case) gridWorkView {
	v := gridWorkView{Origin: c.Origin, OriginLabel: "群众反映"}
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
}

// gridWork computes the grid's own work for the request (?by=); the page
// and the CSV both come from here.
func (s *Server) gridWork(w http.ResponseWriter, r *http.Request, staff *core.Staff) ([]core.GridWorkRow, core.Grouping, bool) {
	by, ok := grouping(w, r)
	if !ok {
		return nil, "", false
	}
	cases, events, err := s.gridWorkHistory(r.Context(), staff)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return nil, "", false
	}
	return core.GridWork(s.Town.Town(), cases, events, by, s.now()), by, true
}

func (s *Server) handleGridWork(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	rows, _, ok := s.gridWork(w, r, staff)
	if !ok {
		return
	}
	out := make([]gridWorkRowView, 0, len(rows))
	for _, row := range rows {
		out = append(out, gridWorkRowView{GridWorkRow: row, FoundRate: row.FoundRate(), CallbackRate: row.CallbackRate()})
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
	out := [][]string{{"单位", "案件数", "主动发现", "主动发现占比", "应回访", "按时回访", "回访及时率", "督办"}}
	for _, r := range rows {
		out = append(out, []string{unitName(r.Key, r.Name), strconv.Itoa(r.Cases), strconv.Itoa(r.Found), r.FoundRate(),
			strconv.Itoa(r.CallbacksDue), strconv.Itoa(r.CallbacksOnTime), r.CallbackRate(), strconv.Itoa(r.Supervised)})
	}
	return out
}

// gridWorkRoutes adds the grid's own work to the console's routes.
func (s *Server) gridWorkRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/figures/gridwork", s.authed(s.heavy(s.handleGridWork)))
	mux.Handle("GET /api/figures/gridwork.csv", s.authed(s.heavy(s.handleGridWorkCSV)))
}

// msgCallbackBad answers a callback the ledger calls invalid.
const msgCallbackBad = "请写明回访情况；未联系上时请写明原因（不超过1000字）。"

// msgInstructBad answers an instruction with no words or too many.
const msgInstructBad = "请写下批示内容，不超过1000字。"

// gridWorkActions are the console's actions of the grid's own work.
func gridWorkActions() []caseAction {
	return []caseAction{
		{step: core.StepCallback, invalid: msgCallbackBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.RecordCallback(ctx, n, s.ID, core.CallbackAnswer{Reached: b.Reached, Satisfied: b.Satisfied, Note: b.Note})
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

// gridWorkHistory is what the grid's own work is counted from: the cases
// staff may see and their events of the grid's own work. It reads the
// whole history (the three rates have counters kept in each write; these
// figures do not yet), so it runs behind the console's heavy gate.
func (s *Server) gridWorkHistory(ctx context.Context, staff *core.Staff) ([]core.Case, []core.Event, error) {
	cases, err := s.visibleCases(ctx, staff, listFilter{}, 0)
	if err != nil {
		return nil, nil, err
	}
	wanted := make(map[string]bool, len(cases))
	for _, c := range cases {
		wanted[c.Number] = true
	}
	var events []core.Event
	const page = 5000
	for last := uint64(0); ; {
		evs, err := s.Store.EventsSince(ctx, last, page)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range evs {
			if wanted[e.Case] && core.GridWorkEvent(e.Kind) {
				events = append(events, e)
			}
		}
		if len(evs) < page {
			return cases, events, nil
		}
		last = evs[len(evs)-1].Seq
	}
}
