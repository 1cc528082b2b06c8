package console

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

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
}

// caseAction is one step staff can take on a case from the console:
// POST /api/cases/{number}/{name}.
type caseAction struct {
	name string
	// may is the role rule: who may take this step on c at all. Anyone
	// else is answered 404, as if the case did not exist.
	may func(town *core.Town, staff *core.Staff, c *core.Case) bool
	// ready is the state rule, for offering the step on the page; the
	// ledger enforces it (409).
	ready func(c *core.Case) bool
	// invalid is the 400 message for a request the ledger calls invalid.
	invalid string
	run     func(ctx context.Context, l *core.Ledger, staff *core.Staff, number string, b actionBody) (core.Case, []core.Event, error)
}

// works reports whether staff works on c: core.Town.MayWork, for roles that
// handle cases themselves rather than through a department's signature.
func works(town *core.Town, staff *core.Staff, c *core.Case) bool {
	return staff.Role != core.RoleDepartment && town.MayWork(staff, c)
}

// called reports whether staff's department is called to c and has not
// returned it.
func called(_ *core.Town, staff *core.Staff, c *core.Case) bool {
	if staff.Role != core.RoleDepartment || staff.Disabled {
		return false
	}
	a := c.Assist(staff.Department)
	return a != nil && a.State != core.AssistReturned
}

func openCase(c *core.Case) bool { return c.State.Open() }

// caseActions lists the console's case actions.
func caseActions() []caseAction {
	return []caseAction{
		{name: "accept", may: works,
			ready: func(c *core.Case) bool {
				return c.State == core.StateSubmitted || c.State == core.StateAssigned || c.State == core.StateReopened
			},
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, _ actionBody) (core.Case, []core.Event, error) {
				return l.Accept(ctx, n, s.ID)
			}},
		{name: "reply", may: func(t *core.Town, s *core.Staff, c *core.Case) bool { return works(t, s, c) || called(t, s, c) },
			ready: func(c *core.Case) bool { return c.State != core.StateClosed }, invalid: msgReplyInvalid,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Reply(ctx, n, s.ID, b.Text)
			}},
		{name: "resolve", may: func(t *core.Town, s *core.Staff, c *core.Case) bool { return works(t, s, c) || called(t, s, c) },
			ready: openCase, invalid: msgResultBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Resolve(ctx, n, s.ID, b.Result)
			}},
		{name: "whistle", may: works, ready: openCase, invalid: msgBadDept,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Whistle(ctx, n, s.ID, b.Department, b.Reason)
			}},
		{name: "transfer", may: works,
			ready: func(c *core.Case) bool { return c.State.Open() && c.Post != core.PostB },
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, _ actionBody) (core.Case, []core.Event, error) {
				return l.Transfer(ctx, n, s.ID)
			}},
		{name: "sign", may: called,
			ready: openCase,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, _ actionBody) (core.Case, []core.Event, error) {
				return l.Sign(ctx, n, s.ID, s.Department)
			}},
		{name: "return", may: called, ready: openCase, invalid: msgReasonBad,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				return l.Return(ctx, n, s.ID, s.Department, b.Reason)
			}},
		{name: "reopen",
			may: func(t *core.Town, s *core.Staff, c *core.Case) bool { return s.Role == core.RoleTown && t.CanSee(s, c) },
			ready: func(c *core.Case) bool {
				return c.State == core.StateResolved || c.State == core.StateClosed
			},
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, _ actionBody) (core.Case, []core.Event, error) {
				return l.Reopen(ctx, n, s.ID)
			}},
		{name: "reclassify",
			may: func(t *core.Town, s *core.Staff, c *core.Case) bool {
				return (s.Role == core.RoleTown || s.Role == core.RoleVillage) && t.CanSee(s, c)
			},
			ready: openCase, invalid: msgBadChange,
			run: func(ctx context.Context, l *core.Ledger, s *core.Staff, n string, b actionBody) (core.Case, []core.Event, error) {
				if s.Role == core.RoleVillage && b.Grid != "" {
					// A village moves cases among its own grids; the town
					// moves them anywhere.
					if g := l.Town.Town().Grid(b.Grid); g == nil || g.Village != s.Village {
						return core.Case{}, nil, core.ErrInvalid
					}
				}
				return l.Reclassify(ctx, n, s.ID, b.Category, b.Grid, b.Reason)
			}},
	}
}

// allowedActions names the actions staff may take on c as it stands.
func allowedActions(town *core.Town, staff *core.Staff, c *core.Case) []string {
	out := []string{}
	if staff == nil {
		return out
	}
	for _, a := range caseActions() {
		if a.may(town, staff, c) && a.ready(c) {
			out = append(out, a.name)
		}
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
		if !a.may(s.Town.Town(), staff, &c) {
			writeError(w, http.StatusNotFound, msgNotFound)
			return
		}
		invalid := a.invalid
		if invalid == "" {
			invalid = msgBadRequest
		}
		s.writeLedger(w, r, staff, a.name, invalid, func(ctx context.Context, number string) (core.Case, []core.Event, error) {
			return a.run(ctx, s.Ledger, staff, number, body)
		}, c.Number)
	}
}

// writeLedger runs one ledger step on a case staff may see and answers with
// the changed case and the events written. Every step is recorded with
// staff as its actor, by the ledger, and logged here.
func (s *Server) writeLedger(w http.ResponseWriter, r *http.Request, staff *core.Staff, step, invalidMsg string,
	write func(ctx context.Context, number string) (core.Case, []core.Event, error), number string) {
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
	case errors.Is(err, core.ErrNotFound), errors.Is(err, core.ErrForbidden):
		writeError(w, http.StatusNotFound, msgNotFound)
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
