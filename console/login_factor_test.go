package console

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/totp"
)

// withSecondFactor turns the second factor on, with a clock the test
// moves (clock).
func withSecondFactor(clock *atomic.Int64) fixtureOption {
	return func(f *fixture) {
		clock.Store(t0.Add(48 * time.Hour).Unix())
		f.srv.SecondFactor, f.srv.Factors = true, f.store
		f.srv.Now = func() time.Time { return time.Unix(clock.Load(), 0) }
	}
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.Value != "" {
			return c
		}
	}
	return nil
}

func addCookie(c *http.Cookie) func(*http.Request) {
	return func(r *http.Request) {
		if c != nil {
			r.AddCookie(c)
		}
	}
}

// passwordStep logs in with the password and returns the answer and the
// pending cookie.
func (f *fixture) passwordStep(t *testing.T, id string) (map[string]any, *http.Cookie) {
	t.Helper()
	resp, body := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: id, Password: password(id)})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("password of %s: %d %s", id, resp.StatusCode, body)
	}
	if cookieNamed(resp, SessionCookie) != nil {
		t.Fatalf("a password alone logged %s in", id)
	}
	return decode[map[string]any](t, body), cookieNamed(resp, PendingCookie)
}

// codeStep sends a code for the pending login.
func (f *fixture) codeStep(t *testing.T, pending *http.Cookie, code string) (*http.Response, []byte) {
	t.Helper()
	return f.request(t, http.MethodPost, "/api/login/code", nil, map[string]string{"code": code}, addCookie(pending))
}

// TestSecondFactorEnrolAndLogin: the first login enrols an authenticator
// (QR code, a first code proves it, ten recovery codes shown once); every
// later login needs a code, each step's code works once, a recovery code
// works once, and a password alone never logs in.
func TestSecondFactorEnrolAndLogin(t *testing.T) {
	var clock atomic.Int64
	f := newFixture(t, withAudit, withSecondFactor(&clock))
	now := func() time.Time { return time.Unix(clock.Load(), 0) }

	answer, pending := f.passwordStep(t, "lead1")
	secret, _ := answer["secret"].(string)
	if answer["second_factor"] != "enrol" || secret == "" || pending == nil {
		t.Fatalf("first login: %v %v", answer, pending)
	}
	resp, png := f.request(t, http.MethodGet, "/api/login/qr", nil, nil, addCookie(pending))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("QR: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := f.request(t, http.MethodGet, "/api/login/qr", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("QR without the pending login: %d", resp.StatusCode)
	}
	if resp, _ := f.codeStep(t, pending, "000000"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong code: %d", resp.StatusCode)
	}
	code, _ := totp.Code(secret, now())
	resp, body := f.codeStep(t, pending, code)
	session := cookieNamed(resp, SessionCookie)
	got := decode[struct {
		Staff    staffView
		Recovery []string `json:"recovery_codes"`
	}](t, body)
	if resp.StatusCode != 200 || session == nil || got.Staff.ID != "lead1" || len(got.Recovery) != 10 {
		t.Fatalf("enrolment: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.request(t, http.MethodGet, "/api/me", session, nil); resp.StatusCode != 200 {
		t.Fatalf("the session: %d", resp.StatusCode)
	}
	// The pending login is spent.
	if resp, _ := f.codeStep(t, pending, code); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the pending login used twice: %d", resp.StatusCode)
	}

	// Next login: a code, not a new enrolment; the code already used in
	// this step is refused (replay), the next step's is good.
	answer, pending = f.passwordStep(t, "lead1")
	if answer["second_factor"] != "code" || answer["secret"] != nil {
		t.Fatalf("second login: %v", answer)
	}
	if resp, _ := f.codeStep(t, pending, code); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a replayed code: %d", resp.StatusCode)
	}
	clock.Add(30)
	next, _ := totp.Code(secret, now())
	if resp, body := f.codeStep(t, pending, next); resp.StatusCode != 200 || cookieNamed(resp, SessionCookie) == nil {
		t.Fatalf("the next step's code: %d %s", resp.StatusCode, body)
	}

	// A recovery code, typed loosely, works once.
	loose := func(c string) string { return " " + c[:5] + c[6:] + " " }
	_, pending = f.passwordStep(t, "lead1")
	if resp, body := f.codeStep(t, pending, loose(got.Recovery[3])); resp.StatusCode != 200 {
		t.Fatalf("a recovery code: %d %s", resp.StatusCode, body)
	}
	_, pending = f.passwordStep(t, "lead1")
	if resp, _ := f.codeStep(t, pending, got.Recovery[3]); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a recovery code used twice: %d", resp.StatusCode)
	}
	// A pending login is one person's: lead2's password does not open
	// lead1's code step, and no pending cookie means nothing.
	if resp, _ := f.codeStep(t, nil, next); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a code with no pending login: %d", resp.StatusCode)
	}

	recs := f.auditRecords(t)
	findAudit(t, recs, core.AuditQuery{Actor: "lead1", Action: core.AuditSecondFactor, Outcome: core.AuditOK, Text: "绑定"}, "the enrolment")
	findAudit(t, recs, core.AuditQuery{Actor: "lead1", Action: core.AuditSecondFactor, Outcome: core.AuditRefused}, "a wrong code")
	findAudit(t, recs, core.AuditQuery{Actor: "lead1", Action: core.AuditSecondFactor, Outcome: core.AuditOK, Text: "恢复码"}, "a recovery code")
}

// TestCodesCountedBeforeChecked: a hundred codes sent at once for one
// account reach the check at most maxCodeAttempts times, and the right
// code is then refused until the window ends.
func TestCodesCountedBeforeChecked(t *testing.T) {
	var clock atomic.Int64
	f := newFixture(t, withAudit, withSecondFactor(&clock))
	answer, pending := f.passwordStep(t, "lead2")
	secret := answer["secret"].(string)
	var wg sync.WaitGroup
	var refusedUnchecked atomic.Int32
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := []byte("100000")
			code[5] = byte('0' + i%10)
			if resp, _ := f.codeStep(t, pending, string(code)); resp.StatusCode == http.StatusTooManyRequests {
				refusedUnchecked.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := refusedUnchecked.Load(); n < 100-maxCodeAttempts {
		t.Errorf("%d of 100 codes refused unchecked, want at least %d", n, 100-maxCodeAttempts)
	}
	code, _ := totp.Code(secret, time.Unix(clock.Load(), 0))
	if resp, _ := f.codeStep(t, pending, code); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right code after the flood: %d, want 429", resp.StatusCode)
	}
}

// TestSecurityAdminResetsSecondFactor: the security administrator sees
// who enrolled (never a secret) and resets a lost factor, which ends the
// member's sessions and makes them enrol again; nobody else may, and the
// reset is on the audit trail.
func TestSecurityAdminResetsSecondFactor(t *testing.T) {
	var clock atomic.Int64
	f := newFixture(t, withAudit, withSecondFactor(&clock))
	enrol := func(id string) (*http.Cookie, string) {
		answer, pending := f.passwordStep(t, id)
		secret := answer["secret"].(string)
		code, _ := totp.Code(secret, time.Unix(clock.Load(), 0))
		resp, body := f.codeStep(t, pending, code)
		if resp.StatusCode != 200 {
			t.Fatalf("enrol %s: %d %s", id, resp.StatusCode, body)
		}
		clock.Add(30)
		return cookieNamed(resp, SessionCookie), secret
	}
	leadSession, _ := enrol("lead1")
	sec, _ := enrol("secadm")
	_, body := f.request(t, http.MethodGet, "/api/security/staff", sec, nil)
	if bytes.Contains(body, []byte(`"secret"`)) {
		t.Fatalf("the list shows a secret: %s", body)
	}
	list := decode[struct{ Staff []factorView }](t, body).Staff
	for _, v := range list {
		if want := v.ID == "lead1" || v.ID == "secadm"; v.Enrolled != want || (want && v.RecoveryLeft != 10) {
			t.Errorf("%s enrolled=%v recovery=%d", v.ID, v.Enrolled, v.RecoveryLeft)
		}
	}
	sys, _ := enrol("sysadm")
	for _, who := range []*http.Cookie{sys, leadSession} {
		if resp, _ := f.request(t, http.MethodPost, "/api/security/staff/lead1/reset-second-factor", who, struct{}{}); resp.StatusCode != 404 {
			t.Errorf("a reset by someone else: %d, want 404", resp.StatusCode)
		}
	}
	if resp, _ := f.request(t, http.MethodPost, "/api/security/staff/secadm/reset-second-factor", sec, struct{}{}); resp.StatusCode != 403 {
		t.Errorf("resetting one's own: %d, want 403", resp.StatusCode)
	}
	if resp, body := f.request(t, http.MethodPost, "/api/security/staff/lead1/reset-second-factor", sec, struct{}{}); resp.StatusCode != 200 {
		t.Fatalf("reset: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.request(t, http.MethodGet, "/api/me", leadSession, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("lead1's session after the reset: %d", resp.StatusCode)
	}
	if answer, _ := f.passwordStep(t, "lead1"); answer["second_factor"] != "enrol" {
		t.Errorf("after a reset the login does not enrol: %v", answer)
	}
	findAudit(t, f.auditRecords(t), core.AuditQuery{Actor: "secadm", Action: core.AuditSecondFactor, Object: "lead1", Outcome: core.AuditOK}, "the reset")
	if _, ok, err := f.store.Record(context.Background(), factorNS, "lead1"); err != nil || ok {
		t.Errorf("the factor is still kept after the reset: %v %v", ok, err)
	}
}
