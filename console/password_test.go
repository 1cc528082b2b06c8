package console

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbot/core"
)

// TestPasswordPolicy: a new password must fit the policy and differ from
// the person's last ones; a password past its age must be changed at
// login before a session starts, with the old one once more.
func TestPasswordPolicy(t *testing.T) {
	var clock atomic.Int64
	policy := core.PasswordPolicy{MinLength: 10, Classes: 3, MaxAge: 90 * 24 * time.Hour, History: 3}
	f := newFixture(t, withBook(t), withClock(&clock), func(f *fixture) { f.srv.Passwords = policy })
	admin := f.login(t, "sysadm")
	set := func(pw string) (int, string) {
		resp, body := f.request(t, http.MethodPost, "/api/staff/lead1/password", admin, map[string]string{"password": pw})
		if resp.StatusCode == 200 {
			return 200, ""
		}
		return resp.StatusCode, errorMessage(t, body)
	}
	unfit := "密码不符合要求：" + policy.Rule()
	for _, tt := range []struct {
		pw   string
		want int
		msg  string
	}{
		{"Short1!", 400, unfit},                   // 7 characters
		{"alllowercaseletters", 400, unfit},       // one class
		{"lowercase12345", 400, unfit},            // two classes
		{" Leading-space1", 400, unfit},           // spaces at an end
		{"Grid-leader-1", 200, ""},                // four classes
		{"Grid-leader-1", 400, msgPasswordReused}, // the current one
		{"Grid-leader-2", 200, ""},
		{"Grid-leader-3", 200, ""},
		{"Grid-leader-1", 400, msgPasswordReused}, // two back: still remembered (3)
		{"Grid-leader-4", 200, ""},
		{"Grid-leader-1", 200, ""}, // three back: forgotten
	} {
		if got, msg := set(tt.pw); got != tt.want || msg != tt.msg {
			t.Fatalf("set %q: %d %q, want %d %q", tt.pw, got, msg, tt.want, tt.msg)
		}
	}
	acct, err := f.srv.Book.Account("lead1")
	if err != nil || len(acct.PasswordHistory) != 2 || !acct.PasswordSetAt.Equal(time.Unix(clock.Load(), 0)) {
		t.Fatalf("account after five passwords: %d kept, set at %v (%v)", len(acct.PasswordHistory), acct.PasswordSetAt, err)
	}

	login := func(pw string) (*http.Response, map[string]any) {
		resp, body := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "lead1", Password: pw})
		return resp, decode[map[string]any](t, body)
	}
	if resp, _ := login("Grid-leader-1"); resp.StatusCode != 200 || sessionOf(resp) == nil {
		t.Fatalf("a fresh password does not log in: %d", resp.StatusCode)
	}
	clock.Add(int64(90 * 24 * time.Hour / time.Second))
	resp, answer := login("Grid-leader-1")
	if resp.StatusCode != 200 || answer["change_password"] != true || sessionOf(resp) != nil {
		t.Fatalf("an expired password: %d %v, session %v", resp.StatusCode, answer, sessionOf(resp))
	}
	change := func(old, pw string) (*http.Response, []byte) {
		return f.request(t, http.MethodPost, "/api/login/password", nil,
			loginPasswordRequest{Username: "lead1", Password: old, NewPassword: pw})
	}
	if resp, body := change("wrong-password", "Grid-leader-9"); resp.StatusCode != 401 || sessionOf(resp) != nil {
		t.Fatalf("change with a wrong password: %d %s", resp.StatusCode, body)
	}
	if resp, body := change("Grid-leader-1", "Grid-leader-4"); resp.StatusCode != 400 || errorMessage(t, body) != msgPasswordReused {
		t.Fatalf("change to a recent one: %d %s", resp.StatusCode, body)
	}
	if resp, body := change("Grid-leader-1", "gridleader"); resp.StatusCode != 400 || errorMessage(t, body) != unfit {
		t.Fatalf("change to an unfit one: %d %s", resp.StatusCode, body)
	}
	resp, body := change("Grid-leader-1", "New-grid-pass-5")
	if resp.StatusCode != 200 || sessionOf(resp) == nil {
		t.Fatalf("change: %d %s", resp.StatusCode, body)
	}
	if resp, _ := login("Grid-leader-1"); resp.StatusCode != 401 {
		t.Errorf("the old password still logs in: %d", resp.StatusCode)
	}

	// A person changes their own password; the current one is asked.
	me := sessionOf(resp)
	if resp, _ := f.request(t, http.MethodPost, "/api/me/password", me, map[string]string{"current": "nope", "new": "Another-pass-6"}); resp.StatusCode != 403 {
		t.Errorf("own change with a wrong current password: %d", resp.StatusCode)
	}
	if resp, body := f.request(t, http.MethodPost, "/api/me/password", me, map[string]string{"current": "New-grid-pass-5", "new": "Another-pass-6"}); resp.StatusCode != 200 {
		t.Fatalf("own change: %d %s", resp.StatusCode, body)
	}
	if resp, _ := login("Another-pass-6"); resp.StatusCode != 200 || sessionOf(resp) == nil {
		t.Errorf("the changed password does not log in: %d", resp.StatusCode)
	}
}

// sessionOf returns the session cookie an answer set, or nil.
func sessionOf(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie && c.Value != "" {
			return c
		}
	}
	return nil
}

// TestBrowserOwnPassword: a member changes their own password on the page —
// an unfit one is refused with the policy's words, two different entries
// never reach the server — and logs in again with the new one.
func TestBrowserOwnPassword(t *testing.T) {
	ctx := newTab(t)
	policy := core.PasswordPolicy{MinLength: 10, Classes: 3}
	f := newFixture(t, withBook(t), func(f *fixture) { f.srv.Passwords = policy })
	loginAs(t, ctx, f, "lead1")
	change := func(current, next, again string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`document.getElementById('password-form').reset()`),
			chromedp.SendKeys(chromedp.ID("password-current"), current),
			chromedp.SendKeys(chromedp.ID("password-new"), next),
			chromedp.SendKeys(chromedp.ID("password-again"), again),
			chromedp.Click(chromedp.ID("password-submit")),
		)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("password-toggle")), chromedp.WaitVisible(chromedp.ID("password-current"))); err != nil {
		t.Fatal(err)
	}
	change(password("lead1"), "Grid-leader-9", "Grid-leader-8")
	waitFor(t, ctx, `document.getElementById('password-note').textContent === '两次输入的新密码不一致'`, "the mismatch told")
	change(password("lead1"), "short", "short")
	waitFor(t, ctx, `document.getElementById('password-note').textContent === '密码不符合要求：`+policy.Rule()+`'`, "the policy's words")
	change(password("lead1"), "Grid-leader-9", "Grid-leader-9")
	waitFor(t, ctx, `!document.getElementById('login-view').hidden && document.getElementById('login-error').textContent.includes('新密码')`, "the login page after the change")
	if resp, _ := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "lead1", Password: password("lead1")}); resp.StatusCode == 200 {
		t.Error("the old password still logs in")
	}
	if resp, _ := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "lead1", Password: "Grid-leader-9"}); resp.StatusCode != 200 {
		t.Errorf("the new password does not log in: %d", resp.StatusCode)
	}
}

// TestOwnPasswordGuessesBounded: a session cannot be used to guess its
// holder's password: the current password is checked within a login's
// counts, and past them even the right one is not checked.
func TestOwnPasswordGuessesBounded(t *testing.T) {
	f := newFixture(t, withBook(t))
	me := f.login(t, "lead1")
	for i := 0; i < maxPairAttempts; i++ {
		if resp, _ := f.request(t, http.MethodPost, "/api/me/password", me, map[string]string{"current": "guess", "new": "Another-pass-6"}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("guess %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, body := f.request(t, http.MethodPost, "/api/me/password", me, map[string]string{"current": password("lead1"), "new": "Another-pass-6"})
	if resp.StatusCode != http.StatusTooManyRequests || errorMessage(t, body) != msgTooMany {
		t.Fatalf("past the guesses: %d %s", resp.StatusCode, body)
	}
}
