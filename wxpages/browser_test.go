package wxpages

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbot/core"
	"gridbot/internal/browsertest"
)

// browser is the one Chromium of this test binary, stopped by TestMain.
var browser browsertest.Shared

// newTab opens a tab with its own cookies in the shared browser, the size
// of a 390 px wide phone.
func newTab(t *testing.T) context.Context {
	t.Helper()
	ctx := browser.Tab(t, 60*time.Second)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// openAs opens a page of the fixture in the tab as openid's WeChat would.
func (f *fixture) openAs(openid, path string) string {
	return f.wechat.ts.URL + "/as?openid=" + url.QueryEscape(openid) + "&url=" + url.QueryEscape(f.ts.URL+path)
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, ctx context.Context, id, want string) {
	t.Helper()
	js := `(document.getElementById(` + jsString(id) + `) || {}).textContent && document.getElementById(` +
		jsString(id) + `).textContent.includes(` + jsString(want) + `)`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("#%s never showed %q: %v\npage: %s", id, want, err, text)
	}
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// fitsPhone checks that nothing on the page is wider than the phone.
func fitsPhone(t *testing.T, ctx context.Context) {
	t.Helper()
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || w > 390 {
		t.Fatalf("page is %d px wide on a 390 px phone (%v)", w, err)
	}
}

func TestBrowserLeaderAcceptsAndRepliesResidentRates(t *testing.T) {
	f := newFixture(t)
	hostile := `<img src=x onerror="window.hit=1">路灯`
	number := f.file(t, oResident, "g1", hostile)

	// The leader taps 详情 in a notice: WeChat authorises silently and the
	// page shows the case and the steps the policy allows.
	lead := newTab(t)
	if err := chromedp.Do(lead, chromedp.Navigate(f.openAs(oLead1, "/wx/cases/"+number))); err != nil {
		t.Fatal(err)
	}
	waitText(t, lead, "s-state", "已派单")
	waitText(t, lead, "s-text-body", hostile)
	waitText(t, lead, "s-phone", residentPhone)
	fitsPhone(t, lead)
	if hit, _ := chromedp.Run(lead, chromedp.Evaluate[bool](`window.hit === 1`)); hit {
		t.Fatal("the resident's markup ran")
	}
	if n, err := chromedp.Run(lead, chromedp.Evaluate[int](`document.querySelectorAll('#s-map path').length`)); err != nil || n != 1 {
		t.Fatalf("grid map: %d %v", n, err)
	}
	if err := chromedp.Do(lead, chromedp.Click(`#s-actions button[data-step="accept"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, lead, "s-state", "办理中")
	if err := chromedp.Do(lead,
		chromedp.Click(`#s-actions button[data-step="reply"]`),
		chromedp.WaitVisible(chromedp.ID("s-text")),
		chromedp.SendKeys(chromedp.ID("s-text"), "明天上午派人来修"),
		chromedp.Click(chromedp.ID("s-submit")),
	); err != nil {
		t.Fatal(err)
	}
	waitText(t, lead, "s-timeline", "明天上午派人来修")
	// Someone else resolves the case meanwhile: the step this page still
	// offers is refused, in the policy's own words.
	if _, _, err := f.ledger.Resolve(context.Background(), number, "town", "已换新灯泡"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(lead, chromedp.Click(`#s-actions button[data-step="resolve"]`),
		chromedp.SendKeys(chromedp.ID("s-text"), "修好了"), chromedp.Click(chromedp.ID("s-submit"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, lead, "error", "这件事项已办结，正在等群众评价或已结案。")

	// The resident follows the case on their page and rates it there.
	res := newTab(t)
	if err := chromedp.Do(res, chromedp.Navigate(f.openAs(oResident, "/wx/cases/"+number))); err != nil {
		t.Fatal(err)
	}
	waitText(t, res, "r-state", "已办结")
	waitText(t, res, "r-result", "已换新灯泡")
	waitText(t, res, "r-timeline", "明天上午派人来修")
	fitsPhone(t, res)
	if err := chromedp.Do(res, chromedp.Click(`#r-rate button[data-score="5"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, res, "r-state", "已结案")
	waitText(t, res, "r-rated", "5")
	c, _ := f.ledger.Case(context.Background(), number)
	if c.State != core.StateClosed || c.Rating != 5 {
		t.Fatalf("after rating on the page: %s %d", c.State, c.Rating)
	}

	// Another resident who opens the link sees what a missing case shows.
	other := newTab(t)
	if err := chromedp.Do(other, chromedp.Navigate(f.openAs(oOther, "/wx/cases/"+number))); err != nil {
		t.Fatal(err)
	}
	waitText(t, other, "error", msgNotFound)
}

func TestBrowserReportForm(t *testing.T) {
	f := newFixture(t)
	tab := newTab(t)
	if err := chromedp.Do(tab, chromedp.Navigate(f.openAs(oOther, "/wx/report"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, tab, "title", "石塘镇")
	fitsPhone(t, tab)
	if err := chromedp.Do(tab,
		chromedp.SetValue(chromedp.ID("category"), "env"),
		chromedp.SendKeys(chromedp.ID("text"), "河边有人倒垃圾"),
		chromedp.SetValue(chromedp.ID("village"), "v1"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('village').dispatchEvent(new Event('change'))`),
		chromedp.SetValue(chromedp.ID("grid"), "g1"),
		chromedp.Click(chromedp.ID("submit")),
	); err != nil {
		t.Fatal(err)
	}
	waitText(t, tab, "done-number", "ST")
	cases, err := f.ledger.ResidentCases(context.Background(), oOther)
	if err != nil || len(cases) != 1 || cases[0].Category != "env" || cases[0].Grid != "g1" {
		t.Fatalf("filed: %+v %v", cases, err)
	}
	href, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('done-link').getAttribute('href')`))
	if err != nil || href != "/wx/cases/"+cases[0].Number {
		t.Fatalf("link to the case: %q %v", href, err)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(f.ts.URL+href)); err != nil {
		t.Fatal(err)
	}
	waitText(t, tab, "r-text", "河边有人倒垃圾")
}

// A leader asks for 延期 on the page; the town opens the same case, reads
// the request and approves it there.
func TestBrowserExtensionAskedAndApproved(t *testing.T) {
	f := newFixture(t)
	lead := newTab(t)
	if err := chromedp.Do(lead, chromedp.Navigate(f.openAs(oLead1, "/wx/cases/"+f.number))); err != nil {
		t.Fatal(err)
	}
	waitText(t, lead, "s-state", "已派单")
	if err := chromedp.Do(lead,
		chromedp.Click(`#s-actions button[data-step="ask_change"]`),
		chromedp.WaitVisible(chromedp.ID("s-days")),
		chromedp.SetValue(chromedp.ID("s-days"), "5"),
		chromedp.SendKeys(chromedp.ID("s-text"), "灯杆要等厂家发货"),
		chromedp.Click(chromedp.ID("s-submit")),
	); err != nil {
		t.Fatal(err)
	}
	waitText(t, lead, "s-pending", "延期5个工作日：灯杆要等厂家发货")
	fitsPhone(t, lead)

	town := newTab(t)
	if err := chromedp.Do(town, chromedp.Navigate(f.openAs(oTown, "/wx/cases/"+f.number))); err != nil {
		t.Fatal(err)
	}
	waitText(t, town, "s-pending", "张网格")
	if err := chromedp.Do(town,
		chromedp.Click(`#s-actions button[data-step="decide"]`),
		chromedp.WaitVisible(chromedp.ID("s-approve")),
		chromedp.Click(chromedp.ID("s-submit")),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(town, chromedp.Poll[bool](`document.getElementById('s-pending-card').hidden`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the request still shows after approval: %v", err)
	}
	c, err := f.ledger.Case(context.Background(), f.number)
	if err != nil || c.Pending != nil || c.Extensions != 1 {
		t.Fatalf("after approving on the page: pending %v, extensions %d (%v)", c.Pending, c.Extensions, err)
	}
}
