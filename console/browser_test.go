package console

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbot/core"
	"gridbot/internal/browsertest"
)

// browser is the one Chromium of this test binary, stopped by TestMain.
var browser browsertest.Shared

// newTab opens a tab with its own cookies in the shared browser.
func newTab(t *testing.T) context.Context {
	t.Helper()
	return browser.Tab(t, 60*time.Second)
}

func TestBrowserConsole(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t)
	hostile := `<img src=x onerror=alert(1)>`
	number := f.submit(t, "g1", "road", hostile)
	row := fmt.Sprintf(`#case-list .case-row[data-number=%q]`, number)

	// Log in and see the list.
	err := chromedp.Do(ctx,
		chromedp.Navigate(f.ts.URL),
		chromedp.WaitVisible(chromedp.ID("login-user")),
		chromedp.SendKeys(chromedp.ID("login-user"), "lead1"),
		chromedp.SendKeys(chromedp.ID("login-pass"), password("lead1")),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.case-row[data-number=%q]`, f.cases["g2"]))),
	)
	if err != nil {
		t.Fatalf("log in and list: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.getElementById('conn-state').textContent === '已连接'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("connection state never 已连接: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.alert = () => { window.alerted = (window.alerted || 0) + 1 }`)); err != nil {
		t.Fatal(err)
	}
	waitClients(t, f.hub, 1)

	// The resident's markup is text, in the list and on the case page.
	rowText, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(row+" .cell-text")))
	if err != nil {
		t.Fatal(err)
	}
	if rowText != hostile {
		t.Errorf("row text %q, want %q", rowText, hostile)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.ID("case-view")),
		chromedp.WaitReady(chromedp.CSS(`#case-timeline li.event[data-kind="assigned"]`)),
	); err != nil {
		t.Fatalf("open the case: %v", err)
	}
	caseText, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("case-text")))
	if err != nil {
		t.Fatal(err)
	}
	if caseText != hostile {
		t.Errorf("case text %q, want %q", caseText, hostile)
	}
	images, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('img').length`))
	if err != nil {
		t.Fatal(err)
	}
	if images != 0 {
		t.Errorf("the resident's text made %d img elements", images)
	}
	phone, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("case-phone")))
	if err != nil {
		t.Fatal(err)
	}
	if phone != residentPhone {
		t.Errorf("the grid leader sees phone %q", phone)
	}

	// An event from elsewhere (a reply in WeChat) appears without a reload.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`)); err != nil {
		t.Fatal(err)
	}
	ev := f.replyAndPublish(t, number, "admin", "镇里已安排维修")
	live := fmt.Sprintf(`#case-timeline li.event[data-seq="%d"]`, ev.Seq)
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(live))); err != nil {
		t.Fatalf("the live event never appeared: %v", err)
	}
	liveText, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(live)))
	if err != nil {
		t.Fatal(err)
	}
	if !containsAll(liveText, "回复居民", "王镇长", "镇里已安排维修") {
		t.Errorf("live event reads %q", liveText)
	}
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.sameDocument === true`))
	if err != nil || !same {
		t.Errorf("the page reloaded (%v)", err)
	}
	state, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("case-state")))
	if err != nil || state != core.StateInProgress.Label() {
		t.Errorf("case state %q (%v)", state, err)
	}

	// A reply sent from the page lands in the store and the timeline.
	reply := "已联系电工，明天修好 <b>谢谢</b>"
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("reply-text"), reply),
		chromedp.Click(chromedp.ID("reply-send")),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.getElementById('case-notice').textContent !== ''`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		notice, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("case-error")))
		t.Fatalf("the reply was not confirmed (%q): %v", notice, err)
	}
	events, err := f.store.Events(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if last.Kind != core.EventReplied || last.Actor != "lead1" || last.Text != reply {
		t.Errorf("last event %+v", last)
	}
	mine := fmt.Sprintf(`#case-timeline li.event[data-seq="%d"]`, last.Seq)
	mineText, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(mine)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mineText, reply) {
		t.Errorf("own reply reads %q", mineText)
	}
	bold, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#case-timeline b').length`))
	if err != nil || bold != 0 {
		t.Errorf("staff text became markup: %d b elements (%v)", bold, err)
	}

	// The list row of the case followed along.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`history.back(), true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("list-view"))); err != nil {
		t.Fatal(err)
	}
	rowState, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(row+" .state")))
	if err != nil || rowState != core.StateInProgress.Label() {
		t.Errorf("row state %q (%v)", rowState, err)
	}

	// Resolve from the page.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.ID("resolve-form")),
		chromedp.SendKeys(chromedp.ID("resolve-text"), "路灯已更换"),
		chromedp.Click(chromedp.ID("resolve-send")),
	); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.getElementById('case-state').textContent === '`+core.StateResolved.Label()+`'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the page never showed the case resolved: %v", err)
	}
	if c, err := f.store.Case(context.Background(), number); err != nil || c.State != core.StateResolved || c.Result != "路灯已更换" {
		t.Errorf("stored case %+v (%v)", c, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(f.ts.URL+"/#/"), chromedp.WaitVisible(chromedp.ID("list-view"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.getElementById('conn-state').textContent === '已连接'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("not connected after navigating: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`)); err != nil {
		t.Fatal(err)
	}
	// A resident files a case: it appears on the list without a reload.
	filed := f.fileAndPublish(t, "g2", "新提交：楼道灯不亮")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.case-row[data-number=%q]`, filed)))); err != nil {
		t.Fatalf("the filed case never appeared: %v", err)
	}

	// The line drops; a case filed meanwhile (announced to nobody) arrives
	// when the page resumes from the last event it saw.
	f.hub.dropAll()
	missed := f.submit(t, "g2", "env", "断线期间提交的案件")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.getElementById('conn-state').textContent === '已断开，正在重连'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the page did not show the disconnect: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.case-row[data-number=%q]`, missed)))); err != nil {
		t.Fatalf("the missed case never appeared: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.getElementById('conn-state').textContent === '已连接'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the page did not reconnect: %v", err)
	}
	same, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`window.sameDocument === true`))
	if err != nil || !same {
		t.Errorf("the page reloaded (%v)", err)
	}
	dups, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('.case-row[data-number=%q]').length`, missed)))
	if err != nil || dups != 1 {
		t.Errorf("the missed case is listed %d times (%v)", dups, err)
	}
	alerts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.alerted || 0`))
	if err != nil || alerts != 0 {
		t.Errorf("a script ran: %d alerts (%v)", alerts, err)
	}
}

// fileAndPublish files and assigns a case as the dialogs and the router do
// and rings the feed, as the router's feed handler does.
func (f *fixture) fileAndPublish(t *testing.T, grid, text string) string {
	t.Helper()
	number := f.submit(t, grid, "env", text)
	c, err := f.store.Case(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	f.hub.Publish(core.Event{Case: number}, c)
	return number
}
