package console

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbot/totp"
)

// TestBrowserSecondFactorAndAuditPage: on the page, a first login enrols
// (the QR code drawn, the secret shown, a code typed, the recovery codes
// shown once) and opens the workbench; the audit administrator then finds
// that login on their page, which shows no case work, and checks the
// chain.
func TestBrowserSecondFactorAndAuditPage(t *testing.T) {
	ctx := newTab(t)
	var clock atomic.Int64
	f := newFixture(t, withAudit, withSecondFactor(&clock))
	enrol := func(id, then string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(f.ts.URL),
			chromedp.WaitVisible(chromedp.ID("login-user")),
			chromedp.SendKeys(chromedp.ID("login-user"), id),
			chromedp.SendKeys(chromedp.ID("login-pass"), password(id)),
			chromedp.Click(chromedp.ID("login-submit")),
			chromedp.WaitVisible(chromedp.ID("factor-enrol")),
		)
		if err != nil {
			t.Fatalf("password of %s: %v", id, err)
		}
		waitFor(t, ctx, `document.getElementById('factor-qr').complete && document.getElementById('factor-qr').naturalWidth === 240`, "the QR code")
		secret := evalJS[string](t, ctx, `document.getElementById('factor-secret').textContent`)
		code, err := totp.Code(secret, time.Unix(clock.Load(), 0))
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.ID("factor-code"), code),
			chromedp.Click(chromedp.ID("factor-submit")),
			chromedp.WaitVisible(chromedp.ID("recovery-box")),
		); err != nil {
			t.Fatalf("code of %s: %v", id, err)
		}
		if n := evalJS[int](t, ctx, `document.querySelectorAll('#recovery-codes li').length`); n != 10 {
			t.Errorf("%d recovery codes shown", n)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("recovery-kept")), chromedp.WaitVisible(chromedp.ID(then))); err != nil {
			t.Fatalf("after the recovery codes: %v", err)
		}
		if evalJS[string](t, ctx, `document.getElementById('recovery-codes').textContent`) != "" {
			t.Error("the recovery codes stay on the page")
		}
		clock.Add(30)
	}
	enrol("lead1", "list-view")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-user"))); err != nil {
		t.Fatal(err)
	}
	enrol("auditor1", "audit-view")
	waitFor(t, ctx, `[...document.querySelectorAll('#audit-rows tr')].some((tr) => tr.textContent.includes('lead1') && tr.textContent.includes('绑定身份验证器'))`, "lead1's enrolment on the audit page")
	if evalJS[bool](t, ctx, `[...document.querySelectorAll('#nav a.case-work')].some((a) => !a.hidden)`) {
		t.Error("the audit administrator is offered case work")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("audit-verify"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById('audit-verify-result').textContent.startsWith('哈希链完整')`, "the chain checked")
}
