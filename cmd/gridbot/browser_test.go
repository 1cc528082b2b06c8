package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbot/internal/browsertest"
)

// TestBrowserWholeLoop drives the real console in headless Chromium against
// the real Main: a case filed from the simulated WeChat appears without a
// reload; the reply and the result typed on the page reach the resident; a
// resident's markup stays text.
func TestBrowserWholeLoop(t *testing.T) {
	browsertest.Require(t)
	r := boot(t, rigOptions{})
	ctx := browsertest.Start(t, 60*time.Second)

	err := chromedp.Do(ctx,
		chromedp.Navigate(r.urls.Console),
		chromedp.WaitVisible(chromedp.ID("login-user")),
		chromedp.SendKeys(chromedp.ID("login-user"), "gl-L10-a"),
		chromedp.SendKeys(chromedp.ID("login-pass"), testPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("case-list")),
		chromedp.Evaluate[chromedp.Void](`window.sameDocument = true; window.alert = () => { window.alerted = true }`),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('conn-state').textContent === '已连接'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("never connected: %v", err)
	}

	// A resident files a case in WeChat, describing it with markup.
	hostile := `<img src=x onerror=alert(1)> 村口路灯不亮`
	resident := "oresident-browser-1"
	for _, text := range []string{"报事", "道路照明", hostile} {
		r.say(resident, text)
	}
	if _, err := r.sim.SendLocation(context.Background(), resident, 22.355, 112.545, ""); err != nil {
		t.Fatal(err)
	}
	r.say(resident, "跳过")
	number := caseNumber.FindStringSubmatch(r.say(resident, "确认"))[1]

	row := fmt.Sprintf(`#case-list .case-row[data-number=%q]`, number)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(row))); err != nil {
		t.Fatalf("the new case never appeared: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.ID("case-view")),
		chromedp.WaitReady(chromedp.CSS(`#case-timeline li.event[data-kind="assigned"]`)),
	); err != nil {
		t.Fatalf("open the case: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("case-text")))
	if err != nil || text != hostile {
		t.Errorf("case text %q (%v), want it as written", text, err)
	}

	// Reply and resolve from the page; the resident gets both.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("reply-text"), "电工明早到"),
		chromedp.Click(chromedp.ID("reply-send")),
	); err != nil {
		t.Fatal(err)
	}
	r.waitPush(resident, "电工明早到")
	if err := chromedp.Do(ctx,
		chromedp.WaitReady(chromedp.CSS(`#case-timeline li.event[data-kind="replied"]`)),
		chromedp.SendKeys(chromedp.ID("resolve-text"), "已更换灯泡"),
		chromedp.Click(chromedp.ID("resolve-send")),
	); err != nil {
		t.Fatal(err)
	}
	r.waitPush(resident, "已更换灯泡")
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(`#case-timeline li.event[data-kind="resolved"]`))); err != nil {
		t.Fatalf("the resolution never showed: %v", err)
	}
	checks, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[document.querySelectorAll('img').length, window.alerted === true, window.sameDocument === true].join(',')`))
	if err != nil || checks != "0,false,true" {
		t.Errorf("images, alerted, same document = %s (%v); want 0,false,true", checks, err)
	}
	r.shutdown() // the log's last lines
	if strings.Contains(r.log.String(), "村口路灯不亮") {
		t.Error("the resident's text reached the log")
	}
}
