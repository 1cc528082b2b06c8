package console

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbot/core"
)

const chromiumPath = "/usr/bin/chromium"

// browser is the one Chromium of this test binary, started by the first test
// that needs it and stopped by TestMain.
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func stopBrowser() {
	if browser.cancel != nil {
		browser.cancel()
	}
}

// newTab opens a tab with its own cookies in the shared browser. Without
// Chromium the test is skipped, except in CI, where it fails.
func newTab(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs %s for the browser test: %v", chromiumPath, err)
		}
		t.Skipf("no %s; install it with apt-get install -y chromium", chromiumPath)
	}
	browser.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromiumPath),
			chromedp.NoSandbox,
			chromedp.Headless,
			chromedp.Flag("disable-background-networking", true),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelBrowser := chromedp.NewContext(alloc)
		browser.ctx = ctx
		browser.cancel = func() {
			cancelBrowser()
			cancelAlloc()
		}
		browser.err = chromedp.Do(ctx) // start the browser now
	})
	if browser.err != nil {
		t.Fatalf("start chromium: %v", browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
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

	// A case whose event the feed lost shows up after the page reconnects
	// and fetches the list again.
	missed := f.submit(t, "g2", "env", "断线期间提交的案件")
	f.hub.lost.Store(true) // as if Publish had overflowed: the hub closes every client
	f.hub.Publish(core.Event{Seq: 1 << 40, Case: missed, Kind: core.EventSubmitted}, core.Case{Number: missed, Grid: "g2", Village: "v1"})
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
}
