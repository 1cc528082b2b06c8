package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbot/internal/browsertest"
)

// In Chromium, the demo's WeCom page shows 何家豪's chat with the app: the
// new case arrives as a card, its 详情 opens the case page through WeCom's
// web authorisation as the staff member, who accepts there; a command typed
// in the chat is answered; the grid's group shows the new case.
func TestBrowserWeComPage(t *testing.T) {
	browsertest.Require(t)
	urls, _, _ := startDemo(t, 10*time.Second, "-data", t.TempDir(), "-history", "0")
	resident := func(kind, text string, extra map[string]any) string {
		body := map[string]any{"openid": "oresident-demo-02", "kind": kind, "text": text}
		for k, v := range extra {
			body[k] = v
		}
		var out struct{ Reply string }
		postJSON(t, urls.SimAPI+"/sim/send", body, &out)
		return out.Reply
	}
	for _, s := range []string{"报事", "道路照明", "石桥村口的路灯坏了"} {
		resident("text", s, nil)
	}
	resident("location", "", map[string]any{"lat": demoLat, "lng": demoLng, "label": "石桥村口"})
	resident("text", "13812345678", nil)
	m := caseNumber.FindStringSubmatch(resident("text", "确认", nil))
	if m == nil {
		t.Fatal("no case filed")
	}
	number := m[1]

	ctx := browsertest.Start(t, 90*time.Second)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(urls.WeCom),
		chromedp.WaitVisible(chromedp.CSS(".card a")),
	); err != nil {
		t.Fatalf("the WeCom page: %v", err)
	}
	card, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.card').innerText`))
	if err != nil || !strings.Contains(card, number) {
		t.Fatalf("the card: %q %v", card, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		group, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('posts').innerText`))
		if strings.Contains(group, number) && strings.Contains(group, "石桥大网格 工作群") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the group's posts: %q", group)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A command typed in the app's chat is answered there.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#text"), "我的"),
		chromedp.Click(chromedp.CSS("#say button")),
	); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		chat, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('chat').innerText`))
		if strings.Contains(chat, "我的") && strings.Count(chat, number) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer to 我的 in the chat: %q", chat)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// 详情 opens the case page as 何家豪, who accepts the case there.
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.card a').href`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(href),
		chromedp.WaitVisible(chromedp.CSS(`#s-actions button[data-step="accept"]`)),
		chromedp.Click(chromedp.CSS(`#s-actions button[data-step="accept"]`)),
	); err != nil {
		t.Fatalf("the case page from the card: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('s-state').innerText`))
		if strings.Contains(state, "办理中") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 受理 on the page the state reads %q", state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
