package console

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"gridbot/core"
)

// actionBody is the request of every case action; each reads its fields.
type actionBody struct {
	Text       string `json:"text"`
	Result     string `json:"result"`
	Department string `json:"department"`
	Reason     string `json:"reason"`
	Category   string `json:"category"`
	Grid       string `json:"grid"`
	// An extension or pause asked (ask_change): kind extend with days, or
	// pause with an optional end day (2006-01-02, the town's zone).
	Change string `json:"change"`
	Days   int    `json:"days"`
	Until  string `json:"until"`
	// A decision on it (decide): approve, with a note (needed to refuse).
	Approve bool   `json:"approve"`
	Note    string `json:"note"`
	// Into is the case a merge goes into (merge).
	Into string `json:"into"`
	// A callback visit (callback): the resident reached, and satisfied;
	// Note says what they said.
	Reached   bool `json:"reached"`
	Satisfied bool `json:"satisfied"`
	// The meeting's decision (convene): the linked leader, the help and
	// the milestones, each with its day (2006-01-02, the town's zone).
	Leader     string          `json:"leader"`
	Help       string          `json:"help"`
	Milestones []milestoneBody `json:"milestones"`
	// A mediation session (mediate): the parties (first time), who
	// mediated, its outcome; the result (mediation_ended) with Note.
	Parties         string `json:"parties"`
	Mediators       string `json:"mediators"`
	Outcome         string `json:"outcome"`
	MediationResult string `json:"mediation_result"`
}

// caseAction is one step staff can take on a case from the console:
// POST /api/cases/{number}/{step}. Who may take it, and when, is the
// ledger's policy (core/policy.go): the console offers what core.Town.Steps
// lists and answers with the policy's own reason when it refuses.
type caseAction struct {
	step core.Step
	// invalid is the 400 message for a request the ledger calls invalid.
	invalid string
	run     func(ctx context.Context, l *core.Ledger, staff *core.Staff, number string, b actionBody) (core.Case, []core.Event, error)
}

// caseActions lists the console's case actions, one per staff step.
func caseActions() []caseAction {
	return append([]caseAction{
		{step: core.StepAccept,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, _ actionBody) (core.Case, []core.Event, error) {
				return l.Accept(ctx, n, s.ID)
			}},
		{step: core.StepReply, invalid: msgReplyInvalid,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Reply(ctx, n, s.ID, b.Text)
			}},
		{step: core.StepResolve, invalid: msgResultBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Resolve(ctx, n, s.ID, b.Result)
			}},
		{step: core.StepWhistle, invalid: msgBadDept,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Whistle(ctx, n, s.ID, b.Department, b.Reason)
			}},
		{step: core.StepTransfer,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, _ actionBody) (core.Case, []core.Event, error) {
				return l.Transfer(ctx, n, s.ID)
			}},
		{step: core.StepSign,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, _ actionBody) (core.Case, []core.Event, error) {
				return l.Sign(ctx, n, s.ID)
			}},
		{step: core.StepReturn, invalid: msgReasonBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Return(ctx, n, s.ID, b.Reason)
			}},
		{step: core.StepReopen,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, _ actionBody) (core.Case, []core.Event, error) {
				return l.Reopen(ctx, n, s.ID)
			}},
		{step: core.StepReclassify, invalid: msgBadChange,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Reclassify(ctx, n, s.ID, b.Category, b.Grid, b.Reason)
			}},
		{step: core.StepAskChange, invalid: msgBadTermChange,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				change := core.TermChange{Kind: core.ChangeKind(b.Change), Days: b.Days, Reason: b.Reason}
				if b.Until != "" {
					until, err := time.ParseInLocation("2006-01-02", b.Until, l.Town.Town().Zone())
					if err != nil {
						return core.Case{}, nil, core.ErrInvalid
					}
					change.Until = until
				}
				return l.AskChange(ctx, n, s.ID, change)
			}},
		{step: core.StepDecide, invalid: msgNoteBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.DecideChange(ctx, n, s.ID, b.Approve, b.Note)
			}},
		{step: core.StepResume,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, _ actionBody) (core.Case, []core.Event, error) {
				return l.Resume(ctx, n, s.ID)
			}},
		{step: core.StepPublish, invalid: msgPublishBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Publish(ctx, n, s.ID, b.Text)
			}},
	}, gridWorkActions()...)
}

// allowedActions names the steps staff may take on c as it stands: the
// policy's list, which the page offers as buttons.
func allowedActions(town *core.Town, staff *core.Staff, c *core.Case) []string {
	out := []string{}
	if staff == nil {
		return out
	}
	for _, step := range town.Steps(staff, c) {
		out = append(out, string(step))
	}
	return out
}

// actionHandler runs action a on the case in the path.
func (s *Server) actionHandler(a caseAction) staffHandler {
	return func(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
		var body actionBody
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeError(w, http.StatusRequestEntityTooLarge, msgTooLarge)
			} else {
				writeError(w, http.StatusBadRequest, msgBadRequest)
			}
			return
		}
		c, ok := s.visibleCase(w, r, staff)
		if !ok {
			return
		}
		invalid := a.invalid
		if invalid == "" {
			invalid = msgBadRequest
		}
		s.writeLedger(w, r, staff, string(a.step), invalid, func(ctx context.Context, number string) (core.Case, []core.Event, error) {
			return a.run(ctx, s.Ledger, staff, number, body)
		}, c.Number)
	}
}

// writeLedger runs one ledger step on a case staff may see and answers with
// the changed case and the events written. Every step is recorded with
// staff as its actor, by the ledger, and logged here. A refusal of the
// policy is answered with its own words.
func (s *Server) writeLedger(w http.ResponseWriter, r *http.Request, staff *core.Staff, step, invalidMsg string,
	write func(ctx context.Context, number string) (core.Case, []core.Event, error), number string) {
	c, events, err := write(r.Context(), number)
	reason, refused := core.RefusalReason(err)
	orMsg := func(msg string) string {
		if refused {
			return reason
		}
		return msg
	}
	switch {
	case err == nil:
	case errors.Is(err, core.ErrNotFound):
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	case errors.Is(err, core.ErrForbidden):
		writeError(w, http.StatusForbidden, orMsg(msgNotFound))
		return
	case errors.Is(err, core.ErrInvalid):
		writeError(w, http.StatusBadRequest, orMsg(invalidMsg))
		return
	case errors.Is(err, core.ErrWrongState), errors.Is(err, core.ErrNoChange):
		writeError(w, http.StatusConflict, orMsg(msgWrongState))
		return
	case errors.Is(err, core.ErrConflict):
		writeError(w, http.StatusConflict, msgConflict)
		return
	default:
		s.log().ErrorContext(r.Context(), "console "+step, "staff", staff.ID, "case", number, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	s.log().InfoContext(r.Context(), "console "+step, "staff", staff.ID, "case", number)
	town := s.Town.Town()
	writeJSON(w, http.StatusOK, map[string]any{
		"case":   newCaseDetail(town, staff, &c, s.now()),
		"events": eventViews(town, events),
	})
}
