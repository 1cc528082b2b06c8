package console

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"gridbot/core"
)

// beforePage runs a script in every page the tab loads, before the page's
// own scripts.
func beforePage(script string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	})
}

// fakeAlerts stands in for the speaker and the desktop's notifications,
// counting what the page asks of them; notifications are allowed.
const fakeAlerts = `
window.beeps = 0; window.notes = [];
window.AudioContext = class {
  constructor() { this.state = 'running'; this.currentTime = 0; this.destination = {}; }
  resume() {}
  createGain() { return { gain: { value: 0 }, connect() {} }; }
  createOscillator() { return { frequency: { value: 0 }, connect() {}, start() { window.beeps++; }, stop() {} }; }
};
window.Notification = class {
  constructor(title, opts) { window.notes.push(title + '|' + opts.body); }
  close() {}
  static requestPermission() { return Promise.resolve('granted'); }
};
window.Notification.permission = 'granted';
`

// TestBrowserNewCaseAlerts: a new case rings, counts in the tab's title and
// shows a desktop notification, each as switched in 新案提醒, and the
// choice outlives a reload; looking at the case clears its count.
func TestBrowserNewCaseAlerts(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t)
	if err := chromedp.Do(ctx, beforePage(fakeAlerts)); err != nil {
		t.Fatal(err)
	}
	loginAs(t, ctx, f, "admin")
	base := "网格通 · 工作台"
	if title := evalJS[string](t, ctx, `document.title`); title != base {
		t.Fatalf("title %q", title)
	}
	// Sound and title are on by default; switch the desktop on.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("alerts-toggle")), chromedp.WaitVisible(chromedp.ID("alerts-panel")),
		chromedp.Click(chromedp.ID("alert-desktop"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById('alert-desktop').checked`, "the desktop switch")

	first := f.fileAndPublish(t, "g2", "楼道灯不亮")
	waitFor(t, ctx, `document.title === '(1) `+base+`'`, "the count in the title")
	waitFor(t, ctx, `window.notes.length === 1`, "the notification")
	if n := evalJS[string](t, ctx, `window.notes[0]`); !strings.HasPrefix(n, "新案件 "+first+"|环境卫生 · 东山村 · 二网格") || !strings.Contains(n, "楼道灯不亮") {
		t.Errorf("notification %q", n)
	}
	if b := evalJS[int](t, ctx, `window.beeps`); b != 2 {
		t.Errorf("%d tones, want 2", b)
	}
	// A reply on a case is not a new case.
	f.replyAndPublish(t, first, "admin", "收到")
	second := f.fileAndPublish(t, "g1", "路面塌陷")
	waitFor(t, ctx, `document.title === '(2) `+base+`'`, "the count of two")
	if n := evalJS[int](t, ctx, `window.notes.length`); n != 2 {
		t.Errorf("%d notifications for two new cases", n)
	}

	// Sound off, title off: the next case only notifies.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("alert-sound")), chromedp.Click(chromedp.ID("alert-title"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.title === '`+base+`'`, "the title without a count")
	beeps := evalJS[int](t, ctx, `window.beeps`)
	f.fileAndPublish(t, "g3", "井盖丢了")
	waitFor(t, ctx, `window.notes.length === 3`, "the third notification")
	if b := evalJS[int](t, ctx, `window.beeps`); b != beeps {
		t.Errorf("rang with the sound off (%d → %d)", beeps, b)
	}
	if title := evalJS[string](t, ctx, `document.title`); title != base {
		t.Errorf("title %q with the count off", title)
	}

	// The switches outlive a reload.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("list-view"))); err != nil {
		t.Fatal(err)
	}
	got := evalJS[string](t, ctx, `['alert-sound','alert-title','alert-desktop'].map((id) => document.getElementById(id).checked).join()`)
	if got != "false,false,true" {
		t.Errorf("after a reload the switches read %s", got)
	}

	// Looking at a new case clears its count.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("alerts-toggle")), chromedp.Click(chromedp.ID("alert-title"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById('conn-state').textContent === '已连接'`, "the feed")
	third := f.fileAndPublish(t, "g1", "又有一处塌陷")
	f.fileAndPublish(t, "g1", "第三处塌陷")
	waitFor(t, ctx, `document.title === '(2) `+base+`'`, "two unseen")
	openCasePage(t, ctx, f, third)
	waitFor(t, ctx, `document.title === '(1) `+base+`'`, "one unseen after opening one")
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`location.hash = '#/'`), chromedp.WaitVisible(chromedp.ID("list-view"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.title === '`+base+`'`, "none unseen after the queue")
	_ = second
}

// TestBrowserOfflineDisablesSteps: while the live feed is down the page
// says so and takes no step; back online, it does again.
func TestBrowserOfflineDisablesSteps(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t)
	loginAs(t, ctx, f, "lead1")
	openCasePage(t, ctx, f, f.cases["g1"])
	if evalJS[bool](t, ctx, `document.getElementById('reply-send').disabled`) {
		t.Fatal("reply is disabled while connected")
	}
	block := func(patterns ...string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			var ps []*network.BlockPattern
			for _, p := range patterns {
				ps = append(ps, &network.BlockPattern{URLPattern: p, Block: true})
			}
			_, err := cdp.Call(ctx, tg, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: ps})
			return err
		})
	}
	if err := chromedp.Do(ctx, block("*://*:*/api/ws*")); err != nil {
		t.Fatal(err)
	}
	f.hub.dropAll()
	waitFor(t, ctx, `!document.getElementById('offline-banner').hidden`, "the offline banner")
	for _, id := range []string{"reply-send", "resolve-send", "act-transfer"} {
		if !evalJS[bool](t, ctx, `document.getElementById('`+id+`').disabled`) {
			t.Errorf("%s is enabled while disconnected", id)
		}
	}
	if err := chromedp.Do(ctx, block()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById('conn-state').textContent === '已连接'`, "the reconnection")
	if evalJS[bool](t, ctx, `document.getElementById('reply-send').disabled || !document.getElementById('offline-banner').hidden`) {
		t.Error("still disabled after reconnecting")
	}
}

// TestBrowserPhoneWidth: at a phone's width the console fits the screen,
// the queue is a list of cards, and a leader works a case with a thumb.
func TestBrowserPhoneWidth(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		t.Fatal(err)
	}
	loginAs(t, ctx, f, "lead1")
	fits := func(where string) {
		t.Helper()
		if w := evalJS[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("%s is %d px wide on a 390 px screen", where, w)
		}
	}
	fits("the queue")
	row := fmt.Sprintf(`#case-list .case-row[data-number=%q]`, f.cases["g1"])
	card := evalJS[string](t, ctx, `(() => { const tr = document.querySelector('`+row+`');
		const td = tr.querySelector('.cell-text');
		return getComputedStyle(tr).display + '|' + getComputedStyle(td, '::before').content + '|' + Math.round(tr.getBoundingClientRect().width); })()`)
	if parts := strings.Split(card, "|"); parts[0] != "block" || parts[1] != `"内容"` {
		t.Errorf("a queue row on a phone: %q", card)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(row)), chromedp.WaitVisible(chromedp.ID("reply-form"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelectorAll('#case-timeline li').length > 0`, "the case")
	fits("the case")
	if h := evalJS[float64](t, ctx, `document.getElementById('reply-send').getBoundingClientRect().height`); h < 40 {
		t.Errorf("the send button is %.0f px high", h)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("reply-text"), "明早派人来修"),
		chromedp.Click(chromedp.ID("reply-send"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById('case-notice').textContent !== ''`, "the reply")
	events, err := f.store.Events(context.Background(), f.cases["g1"])
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; last.Kind != core.EventReplied || last.Text != "明早派人来修" {
		t.Errorf("last event %+v", last)
	}
	for _, view := range []string{"#/map", "#/board", "#/figures"} {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`location.hash = '`+view+`'`), chromedp.Sleep(300e6)); err != nil {
			t.Fatal(err)
		}
		if view == "#/figures" {
			waitFor(t, ctx, `!!(window.echarts && echarts.getInstanceByDom(document.getElementById('chart-trend')))`, "the charts")
		}
		fits(view)
	}
}
