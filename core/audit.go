package core

import (
	"context"
	"strings"
	"time"
)

// The audit trail (安全审计, 等保 2.0 level 3): who did what to which object,
// from where, when, with what outcome — logins and their failures, second
// factors, every read of a resident's personal data, exports and backups,
// administration. It is kept apart from the cases' events: those are the
// ledger's history, this is the record of people's access, and it is never
// erased by the personal-data retention (retention.go) nor by staff.
//
// Each record carries the hash of the one before (Prev) and its own (Hash),
// so an edited or a removed record breaks the chain (package audit computes
// and checks them). A record holds no personal data itself: a case is named
// by its number, a resident by nothing.

// AuditAction is a kind of audited event.
type AuditAction string

// Audited events.
const (
	AuditLogin         AuditAction = "login"          // a console login: ok, or refused (and why)
	AuditLogout        AuditAction = "logout"         // a logout, or sessions ended for the person
	AuditSecondFactor  AuditAction = "second_factor"  // enrolment, a code or a recovery code, a reset
	AuditViewCase      AuditAction = "view_case"      // a case page read (Detail says whether the phone was shown)
	AuditViewHousehold AuditAction = "view_household" // a household file read
	AuditViewMedia     AuditAction = "view_media"     // a resident's photo or voice note read
	AuditExport        AuditAction = "export"         // a download of cases or figures, or gridbot export
	AuditBackup        AuditAction = "backup"         // an online or offline backup
	AuditAdmin         AuditAction = "admin"          // staff accounts, posts, roles, settings changed
	AuditReadAudit     AuditAction = "read_audit"     // the audit trail searched or exported
)

// AuditActions lists the audited events in the order the console offers
// them.
func AuditActions() []AuditAction {
	return []AuditAction{AuditLogin, AuditLogout, AuditSecondFactor, AuditViewCase, AuditViewHousehold,
		AuditViewMedia, AuditExport, AuditBackup, AuditAdmin, AuditReadAudit}
}

// Label is the event in the words the audit administrator reads.
func (a AuditAction) Label() string {
	switch a {
	case AuditLogin:
		return "登录"
	case AuditLogout:
		return "退出登录"
	case AuditSecondFactor:
		return "第二因素"
	case AuditViewCase:
		return "查看案件"
	case AuditViewHousehold:
		return "查看户籍档案"
	case AuditViewMedia:
		return "查看照片或语音"
	case AuditExport:
		return "导出"
	case AuditBackup:
		return "备份"
	case AuditAdmin:
		return "管理操作"
	case AuditReadAudit:
		return "查阅审计记录"
	}
	return string(a)
}

// AuditOutcome is how an audited event ended.
type AuditOutcome string

// Outcomes.
const (
	AuditOK      AuditOutcome = "ok"      // done
	AuditRefused AuditOutcome = "refused" // refused: wrong password, not allowed, throttled
	AuditFailed  AuditOutcome = "failed"  // the service failed
)

// AuditSystem is the actor of what the service does by itself, and
// AuditCLI prefixes the actor of a command run on the server.
const (
	AuditSystem = "system"
	AuditCLI    = "cli:"
)

// AuditRecord is one entry of the audit trail.
type AuditRecord struct {
	// Seq numbers the records from 1, without gaps: a missing number is a
	// deleted record.
	Seq uint64    `json:"seq"`
	At  time.Time `json:"at"`
	// Actor is the staff member's ID, AuditSystem, AuditCLI+user, or the
	// name typed at a refused login (which is sometimes a password, so it is
	// recorded only for names that exist; an unknown name is "?").
	Actor string `json:"actor"`
	// Addr is the client address (internal/clientaddr), empty for the
	// service itself and the command line.
	Addr    string       `json:"addr,omitempty"`
	Action  AuditAction  `json:"action"`
	Object  string       `json:"object,omitempty"` // a case number, staff ID, file or route
	Outcome AuditOutcome `json:"outcome"`
	Detail  string       `json:"detail,omitempty"` // what exactly, in the reader's words
	// Prev is the hash of the record before (of the anchor after a trim;
	// empty for the first), Hash this record's: package audit computes
	// both.
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// AuditStore keeps the audit trail: append-only, in order. Nothing but
// TrimAudit removes a record, and nothing rewrites one.
type AuditStore interface {
	// AppendAudit appends the record seal makes from the last record kept
	// (the anchor after a trim, or the zero record when there is none):
	// seal fills Seq, Prev and Hash. The append is atomic with respect to
	// every other, on every instance; seal may be called again when another
	// append came first.
	AppendAudit(ctx context.Context, seal func(last AuditRecord) (AuditRecord, error)) (AuditRecord, error)
	// AuditRecords returns up to limit records numbered above after, in
	// order.
	AuditRecords(ctx context.Context, after uint64, limit int) ([]AuditRecord, error)
	// AuditAnchor returns the last record a trim removed, or the zero
	// record: where the chain of the kept records starts.
	AuditAnchor(ctx context.Context) (AuditRecord, error)
	// TrimAudit removes the records made before before, oldest first,
	// keeping the last removed as the anchor, and reports how many it
	// removed.
	TrimAudit(ctx context.Context, before time.Time) (int, error)
}

// AuditKeepMin is the shortest time audit records are kept: six months
// (网络安全法 第二十一条), counted generously.
const AuditKeepMin = 180 * 24 * time.Hour

// AuditQuery selects audit records; zero fields do not filter.
type AuditQuery struct {
	Actor   string
	Action  AuditAction
	Object  string
	Outcome AuditOutcome
	Addr    string
	From    time.Time // at or after
	To      time.Time // before
	// Text is looked for in the object and the detail.
	Text string
}

// Match reports whether r passes the query.
func (q AuditQuery) Match(r AuditRecord) bool {
	return (q.Actor == "" || strings.EqualFold(r.Actor, q.Actor)) &&
		(q.Action == "" || r.Action == q.Action) &&
		(q.Object == "" || r.Object == q.Object) &&
		(q.Outcome == "" || r.Outcome == q.Outcome) &&
		(q.Addr == "" || r.Addr == q.Addr) &&
		(q.From.IsZero() || !r.At.Before(q.From)) &&
		(q.To.IsZero() || r.At.Before(q.To)) &&
		(q.Text == "" || strings.Contains(r.Object, q.Text) || strings.Contains(r.Detail, q.Text))
}

// Auditor records audited events: package audit's Trail. A nil Auditor in
// a part's configuration records nothing.
type Auditor interface {
	Record(ctx context.Context, r AuditRecord) error
}
