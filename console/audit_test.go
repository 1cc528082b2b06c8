package console

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"gridbot/audit"
	"gridbot/core"
)

// withAudit turns the audit trail on over the fixture's store.
func withAudit(f *fixture) {
	f.srv.Audit = &audit.Trail{Store: f.store, Now: f.srv.Now}
}

// auditRecords reads every record of the fixture's trail.
func (f *fixture) auditRecords(t *testing.T) []core.AuditRecord {
	t.Helper()
	recs, err := f.store.AuditRecords(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// findAudit returns the last record matching q, or fails.
func findAudit(t *testing.T, recs []core.AuditRecord, q core.AuditQuery, what string) core.AuditRecord {
	t.Helper()
	for i := len(recs) - 1; i >= 0; i-- {
		if q.Match(recs[i]) {
			return recs[i]
		}
	}
	t.Fatalf("no audit record of %s (%+v) among %d", what, q, len(recs))
	return core.AuditRecord{}
}

// TestAuditRecordsEachKind: a login and a failed one, a case page read by
// whoever handles it (phone included) and by a cadre (masked), a download,
// an administration step and a logout each leave a record with who, from
// where, what and the outcome; and the chain verifies.
func TestAuditRecordsEachKind(t *testing.T) {
	f := newFixture(t, withBook(t), withAudit)
	f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "lead1", Password: "wrong-password"})
	f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "ghost", Password: "13812345678"})
	lead := f.login(t, "lead1")
	number := f.cases["g1"]
	if resp, body := f.request(t, http.MethodGet, "/api/cases/"+number, lead, nil); resp.StatusCode != 200 ||
		!strings.Contains(string(body), residentPhone) {
		t.Fatalf("case page: %d %s", resp.StatusCode, body)
	}
	cadre := f.login(t, "cadre1")
	f.request(t, http.MethodGet, "/api/cases/"+f.cases["g2"], cadre, nil)
	f.request(t, http.MethodGet, "/api/cases/"+f.cases["g3"], cadre, nil) // not theirs: 404
	f.request(t, http.MethodGet, "/api/cases.csv?state=open", f.login(t, "admin"), nil)
	sys := f.login(t, "sysadm")
	if resp, body := f.request(t, http.MethodPost, "/api/staff/lead2/password", sys, map[string]string{"password": "another-password"}); resp.StatusCode != 200 {
		t.Fatalf("reset: %d %s", resp.StatusCode, body)
	}
	f.request(t, http.MethodPost, "/api/logout", lead, struct{}{})

	recs := f.auditRecords(t)
	for _, r := range recs {
		if strings.Contains(r.Detail+r.Object+r.Actor, residentPhone) || strings.Contains(r.Detail, "wrong-password") {
			t.Errorf("a record holds what someone typed or the phone: %+v", r)
		}
		if r.Addr != "127.0.0.1" && r.Actor != core.AuditSystem {
			t.Errorf("record without the client's address: %+v", r)
		}
	}
	findAudit(t, recs, core.AuditQuery{Actor: "lead1", Action: core.AuditLogin, Outcome: core.AuditRefused, Text: "密码错误"}, "a wrong password")
	findAudit(t, recs, core.AuditQuery{Actor: "?", Action: core.AuditLogin, Outcome: core.AuditRefused}, "an unknown name")
	findAudit(t, recs, core.AuditQuery{Actor: "lead1", Action: core.AuditLogin, Outcome: core.AuditOK}, "a login")
	findAudit(t, recs, core.AuditQuery{Actor: "lead1", Action: core.AuditViewCase, Object: number, Outcome: core.AuditOK, Text: "含电话"}, "a case page with the phone")
	findAudit(t, recs, core.AuditQuery{Actor: "cadre1", Action: core.AuditViewCase, Object: f.cases["g2"], Text: "已遮蔽"}, "a masked case page")
	findAudit(t, recs, core.AuditQuery{Actor: "cadre1", Action: core.AuditViewCase, Object: f.cases["g3"], Outcome: core.AuditRefused}, "a refused case page")
	findAudit(t, recs, core.AuditQuery{Actor: "admin", Action: core.AuditExport, Object: "/api/cases.csv", Text: "state=open"}, "a download")
	findAudit(t, recs, core.AuditQuery{Actor: "sysadm", Action: core.AuditAdmin, Object: "lead2", Text: "重置密码"}, "a password reset")
	findAudit(t, recs, core.AuditQuery{Actor: "lead1", Action: core.AuditLogout}, "a logout")
	if rep, err := f.srv.Audit.Verify(context.Background()); err != nil || !rep.OK() || rep.Records != uint64(len(recs)) {
		t.Errorf("verify: %v %+v", err, rep)
	}
}

// TestAdminRolesSeparated: each of the three administrators reaches their
// own pages and nothing else — no case, no other administrator's page —
// and the town's working role reaches none of them.
func TestAdminRolesSeparated(t *testing.T) {
	f := newFixture(t, withBook(t), withAudit)
	number := f.cases["g1"]
	type probe struct {
		method, path string
		body         any
	}
	staffList := probe{"GET", "/api/staff", nil}
	addLeader := probe{"POST", "/api/staff", staffAddRequest{ID: "lead9", Name: "新网格", Role: core.RoleGridLeader, Village: "v1", Password: "long-enough-9"}}
	auditSearch := probe{"GET", "/api/audit", nil}
	auditCSV := probe{"GET", "/api/audit.csv", nil}
	auditVerify := probe{"GET", "/api/audit/verify", nil}
	casePage := probe{"GET", "/api/cases/" + number, nil}
	accept := probe{"POST", "/api/cases/" + number + "/accept", struct{}{}}
	binding := probe{"GET", "/api/binding", nil}
	tests := []struct {
		staff string
		probe probe
		want  int
	}{
		{"sysadm", staffList, 200},
		{"sysadm", addLeader, 200},
		{"sysadm", binding, 200},
		{"sysadm", auditSearch, 404},
		{"sysadm", casePage, 404},
		{"sysadm", accept, 404},
		{"auditor1", auditSearch, 200},
		{"auditor1", auditCSV, 200},
		{"auditor1", auditVerify, 200},
		{"auditor1", staffList, 404},
		{"auditor1", addLeader, 404},
		{"auditor1", casePage, 404},
		{"secadm", staffList, 404},
		{"secadm", auditSearch, 404},
		{"secadm", casePage, 404},
		{"secadm", accept, 404},
		{"admin", staffList, 404},
		{"admin", auditSearch, 404},
		{"admin", casePage, 200},
	}
	for _, tt := range tests {
		t.Run(tt.staff+" "+tt.probe.method+" "+tt.probe.path, func(t *testing.T) {
			resp, body := f.request(t, tt.probe.method, tt.probe.path, f.login(t, tt.staff), tt.probe.body)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
		})
	}
	// The administrators see an empty ledger.
	_, body := f.request(t, http.MethodGet, "/api/cases", f.login(t, "sysadm"), nil)
	if got := decode[struct{ Cases []caseView }](t, body).Cases; len(got) != 0 {
		t.Errorf("the system administrator lists %d cases", len(got))
	}
	// The system administrator makes and changes working accounts only.
	sys := f.login(t, "sysadm")
	for _, p := range []probe{
		{"POST", "/api/staff", staffAddRequest{ID: "aud2", Name: "第二审计", Role: core.RoleAuditAdmin, Password: "long-enough-9"}},
		{"POST", "/api/staff", staffAddRequest{ID: "sys2", Name: "第二系统", Role: core.RoleSysAdmin, Password: "long-enough-9"}},
		{"POST", "/api/staff/auditor1/password", map[string]string{"password": "taken-over-1"}},
		{"POST", "/api/staff/secadm/disable", map[string]bool{"disabled": true}},
		{"POST", "/api/staff/auditor1/bind-code", struct{}{}},
	} {
		if resp, body := f.request(t, p.method, p.path, sys, p.body); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %v: %d %s, want 403", p.path, p.body, resp.StatusCode, body)
		}
	}
	// The audit administrator finds the refused attempts, and their own
	// reads are on the trail too.
	aud := f.login(t, "auditor1")
	_, body = f.request(t, http.MethodGet, "/api/audit?actor=sysadm&outcome=refused&action=admin", aud, nil)
	got := decode[struct{ Records []auditView }](t, body).Records
	if len(got) != 5 {
		t.Errorf("refused steps of the system administrator: %d, want 5: %s", len(got), body)
	}
	if resp, body := f.request(t, http.MethodGet, "/api/audit?from=2026-13-01", aud, nil); resp.StatusCode != 400 {
		t.Errorf("a bad date: %d %s", resp.StatusCode, body)
	}
	resp, csv := f.request(t, http.MethodGet, "/api/audit.csv?action=login", aud, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(string(csv), "登录") || strings.Contains(string(csv), "查看案件") {
		t.Errorf("audit CSV: %d %s", resp.StatusCode, csv)
	}
	findAudit(t, f.auditRecords(t), core.AuditQuery{Actor: "auditor1", Action: core.AuditReadAudit, Object: "/api/audit.csv"}, "the auditor's export")
}
