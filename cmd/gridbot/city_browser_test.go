package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbot/internal/browsertest"
)

// TestBrowserCity drives a city's pages in Chromium against the real Run:
// the console's login page offers the towns, a login through the picker
// opens that town's console with its case and no other town's, and the
// city's view logs its staff in, shows every town and drills into one.
func TestBrowserCity(t *testing.T) {
	browsertest.Require(t)
	r := bootCity(t, "")
	r.say("o-browser-cs", "2")
	csCase := r.fileIn("o-browser-cs", chishuiLat, chishuiLng, "大同")
	r.say("o-browser-st", "1")
	stCase := r.fileIn("o-browser-st", shatangLat, shatangLng, "石桥")
	ctx := browsertest.Start(t, 60*time.Second)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(r.urls.Console),
		chromedp.WaitVisible(chromedp.ID("login-town")),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('login-town');
			s.value = 'chishui'; s.dispatchEvent(new Event('change')); })()`),
	); err != nil {
		t.Fatalf("the town picker: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('login-town').dataset.chosen === 'chishui'`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("the town was never chosen: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("login-user"), "town-admin"),
		chromedp.SendKeys(chromedp.ID("login-pass"), testPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#case-list .case-row[data-number=%q]`, csCase))),
	); err != nil {
		t.Fatalf("chishui's console: %v", err)
	}
	others, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('#case-list .case-row[data-number=%q]').length`, stCase)))
	if err != nil || others != 0 {
		t.Fatalf("shatang's case on chishui's console: %d %v", others, err)
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(r.urls.Console+"city/"),
		chromedp.WaitVisible(chromedp.ID("login-user")),
		chromedp.SendKeys(chromedp.ID("login-user"), "city-viewer"),
		chromedp.SendKeys(chromedp.ID("login-pass"), testPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#towns button[data-town="chishui"]`)),
		chromedp.Click(chromedp.CSS(`#towns button[data-town="chishui"]`)),
		chromedp.WaitVisible(chromedp.ID("drill")),
	); err != nil {
		t.Fatalf("the city's view: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('units').textContent.includes('大同村')`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("figures-view")))
		t.Fatalf("the drill-down: %v %q", err, text)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#cases tr[data-number=%q]`, csCase)))); err != nil {
		t.Fatalf("chishui's case in the city's list: %v", err)
	}
	page, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("figures-view")))
	if err != nil || !strings.Contains(page, "沙塘镇") || !strings.Contains(page, "全市合计") {
		t.Fatalf("the city's table: %q %v", page, err)
	}
}
