package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"gridbot/audit"
	"gridbot/core"
)

// What the console records in the audit trail (安全审计): logins, second
// factors, every case page read (with whether the phone was on it), every
// download, every administration step, and the audit administrator's own
// reads. A route is audited by wrapping its handler (audited); the handler
// may add what it showed (noteAudit).

// auditNoteKey carries a request's *auditNote.
type auditNoteKey struct{}

// auditNote is what a handler adds to its request's audit record.
type auditNote struct {
	object, detail string
}

// noteAudit sets the object (when not empty) and adds detail to the
// request's audit record, if the route is audited.
func noteAudit(r *http.Request, object, detail string) {
	n, _ := r.Context().Value(auditNoteKey{}).(*auditNote)
	if n == nil {
		return
	}
	if object != "" {
		n.object = object
	}
	if detail != "" {
		if n.detail != "" {
			n.detail += "；"
		}
		n.detail += detail
	}
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// outcomeOf is the audit outcome of an HTTP status.
func outcomeOf(status int) core.AuditOutcome {
	switch {
	case status == 0 || status < 400:
		return core.AuditOK
	case status >= 500:
		return core.AuditFailed
	}
	return core.AuditRefused
}

// audited records each request of a staff route in the audit trail: who,
// from where, the route's object (the path value named by object, else the
// path), what the handler noted, and the outcome by the answer's status.
func (s *Server) audited(action core.AuditAction, object string, h staffHandler) staffHandler {
	return func(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
		if s.Audit == nil {
			h(w, r, staff)
			return
		}
		note := &auditNote{object: r.URL.Path}
		if object != "" {
			note.object = r.PathValue(object)
		}
		if q := r.URL.RawQuery; q != "" && action == core.AuditExport {
			note.detail = "条件 " + q
		}
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r.WithContext(context.WithValue(r.Context(), auditNoteKey{}, note)), staff)
		s.record(r, staff.ID, action, note.object, outcomeOf(sw.status), note.detail)
	}
}

// Audited wraps a handler outside the console (the media route) so that
// each request of a logged-in staff member is recorded as action on the
// path value object. Requests without a session are passed on unrecorded:
// the handler refuses them.
func (s *Server) Audited(action core.AuditAction, object string, h http.Handler) http.Handler {
	if s.Audit == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		staff, err := s.SessionStaff(r)
		if err != nil || staff == nil {
			h.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		s.record(r, staff.ID, action, r.PathValue(object), outcomeOf(sw.status), "")
	})
}

// record writes one audit record for request r. A record that cannot be
// written is logged by the trail; the request has been answered by then.
func (s *Server) record(r *http.Request, actor string, action core.AuditAction, object string, outcome core.AuditOutcome, detail string) {
	if s.Audit == nil {
		return
	}
	// The answer is sent; the record is written even if the client left.
	ctx := context.WithoutCancel(r.Context())
	_ = s.Audit.Record(ctx, core.AuditRecord{At: s.now(), Actor: actor, Addr: s.Proxies.Addr(r).String(),
		Action: action, Object: object, Outcome: outcome, Detail: detail})
}

// auditView is an audit record as the audit administrator's page shows it.
type auditView struct {
	core.AuditRecord
	ActionLabel  string `json:"action_label"`
	OutcomeLabel string `json:"outcome_label"`
}

// auditQuery reads the search form: actor, action, object, outcome,
// addr, text, from and to (days in the town's zone, to inclusive).
func (s *Server) auditQuery(r *http.Request) (core.AuditQuery, bool) {
	v := r.URL.Query()
	q := core.AuditQuery{Actor: strings.TrimSpace(v.Get("actor")), Action: core.AuditAction(v.Get("action")),
		Object: strings.TrimSpace(v.Get("object")), Outcome: core.AuditOutcome(v.Get("outcome")),
		Addr: strings.TrimSpace(v.Get("addr")), Text: strings.TrimSpace(v.Get("text"))}
	zone := s.Town.Town().Zone()
	for _, f := range []struct {
		name string
		at   *time.Time
		end  bool
	}{{"from", &q.From, false}, {"to", &q.To, true}} {
		raw := v.Get(f.name)
		if raw == "" {
			continue
		}
		day, err := time.ParseInLocation("2006-01-02", raw, zone)
		if err != nil {
			return q, false
		}
		if f.end {
			day = day.AddDate(0, 0, 1)
		}
		*f.at = day
	}
	return q, len(q.Actor) <= 100 && len(q.Object) <= 100 && len(q.Text) <= 100 && len(q.Addr) <= 64
}

const (
	msgBadAuditQuery = "查询条件格式错误（日期如 2026-11-01）"
	// auditListed bounds a search's answer on the page; the CSV has all.
	auditListed = 500
)

// handleAuditSearch answers the audit administrator's search, newest
// first.
func (s *Server) handleAuditSearch(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	q, ok := s.auditQuery(r)
	if !ok {
		writeError(w, http.StatusBadRequest, msgBadAuditQuery)
		return
	}
	recs, more, err := s.Audit.Search(r.Context(), q, auditListed)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console audit search", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	views := make([]auditView, 0, len(recs))
	for _, rec := range recs {
		views = append(views, auditView{AuditRecord: rec, ActionLabel: rec.Action.Label(), OutcomeLabel: audit.OutcomeLabel(rec.Outcome)})
	}
	noteAudit(r, "", "查询 "+r.URL.RawQuery+"，"+strconv.Itoa(len(recs))+" 条")
	actions := make([]map[string]string, 0, len(core.AuditActions()))
	for _, a := range core.AuditActions() {
		actions = append(actions, map[string]string{"id": string(a), "label": a.Label()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": views, "more": more, "actions": actions})
}

// handleAuditCSV exports the records the search selects, every one of
// them, as CSV.
func (s *Server) handleAuditCSV(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	q, ok := s.auditQuery(r)
	if !ok {
		writeError(w, http.StatusBadRequest, msgBadAuditQuery)
		return
	}
	recs, _, err := s.Audit.Search(r.Context(), q, 1<<30)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console audit export", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	noteAudit(r, "", "导出 "+r.URL.RawQuery+"，"+strconv.Itoa(len(recs))+" 条")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
	if err := audit.WriteCSV(w, recs, s.Town.Town().Zone()); err != nil {
		s.log().WarnContext(r.Context(), "console audit export", "err", err)
	}
}

// handleAuditVerify checks the chain for the audit administrator.
func (s *Server) handleAuditVerify(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	rep, err := s.Audit.Verify(r.Context())
	if err != nil {
		s.log().ErrorContext(r.Context(), "console audit verify", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	noteAudit(r, "", "校验："+strconv.Itoa(len(rep.Breaks))+" 处断链")
	writeJSON(w, http.StatusOK, map[string]any{"ok": rep.OK(), "records": rep.Records, "first": rep.First,
		"last": rep.Last, "head": rep.Head, "breaks": rep.Breaks})
}

// caseViewNote says what of the resident's data a case page showed.
func caseViewNote(personal bool, household int) string {
	note := "个人信息已遮蔽"
	if personal {
		note = "含电话、地址和位置"
	}
	if household > 0 {
		note += "；一户一档 " + strconv.Itoa(household) + " 件"
	}
	return note
}
