package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbot/internal/browsertest"
)

// inFrame runs query against the document shown in the phone's page frame,
// waiting for the frame to hold a document where the query succeeds.
func inFrame[T any](t *testing.T, ctx context.Context, what string, query func(*chromedp.Node) chromedp.Action[T]) T {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("#pageFrame")))
		if err == nil && len(nodes) == 1 && nodes[0].ContentDocument != nil {
			qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			v, err := chromedp.Run(qctx, query(nodes[0].ContentDocument))
			cancel()
			if err == nil {
				return v
			}
			lastErr = err
		} else {
			lastErr = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("in the phone's page: %s: %v", what, lastErr)
	var zero T
	return zero
}

// frameText waits until the element in the phone's page shows want.
func frameText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	inFrame(t, ctx, sel+" shows "+want, func(doc *chromedp.Node) chromedp.Action[bool] {
		return func(ctx context.Context, tg *chromedp.Target) (bool, error) {
			text, err := chromedp.TextContent(chromedp.CSS(sel), chromedp.FromNode(doc))(ctx, tg)
			if err != nil {
				return false, err
			}
			if !strings.Contains(text, want) {
				return false, fmt.Errorf("shows %q", text)
			}
			return true, nil
		}
	})
}

func frameClick(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	inFrame(t, ctx, "click "+sel, func(doc *chromedp.Node) chromedp.Action[chromedp.Void] {
		return chromedp.Click(chromedp.CSS(sel), chromedp.FromNode(doc))
	})
}

// TestBrowserPagesInsidePhone plays the demo as a newcomer would: in the
// simulator's phone a leader taps 详情 on the template notice, the case's
// page opens inside the phone through web authorisation, and the leader
// accepts and replies there; the resident's page, in the phone too, rates
// the case and asks for 订阅通知 through the phone.
func TestBrowserPagesInsidePhone(t *testing.T) {
	browsertest.Require(t)
	r, base := bootPages(t)
	const leader, resident = "osample-L10-a", "oresident-phone-1"
	number := r.fileByLocation(resident)
	r.waitPush(leader, "工单编号："+number)

	ctx := browsertest.Start(t, 90*time.Second)

	// The leader's phone: the notice's 详情 opens the page inside it.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(r.apiURL+"/"),
		chromedp.WaitReady(chromedp.CSS("#openid")),
		chromedp.SetValue(chromedp.CSS("#openid"), leader),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('openid').dispatchEvent(new Event('change'))`),
		chromedp.WaitVisible(chromedp.CSS(".card button")),
		chromedp.Click(chromedp.CSS(".card button")),
	); err != nil {
		t.Fatalf("the leader's phone: %v", err)
	}
	frameText(t, ctx, "#s-number", number)
	frameText(t, ctx, "#s-state", "已派单")
	frameClick(t, ctx, `#s-actions button[data-step="accept"]`)
	frameText(t, ctx, "#s-state", "办理中")
	frameClick(t, ctx, `#s-actions button[data-step="reply"]`)
	inFrame(t, ctx, "type the reply", func(doc *chromedp.Node) chromedp.Action[chromedp.Void] {
		return chromedp.SendKeys(chromedp.CSS("#s-text"), "电工明早到", chromedp.FromNode(doc))
	})
	frameClick(t, ctx, "#s-submit")
	frameText(t, ctx, "#s-timeline", "电工明早到")
	r.waitPush(resident, "电工明早到")
	if status := r.login("gl-L10-a").post("/api/cases/"+number+"/resolve", map[string]string{"result": "已更换路灯"}, nil); status != 200 {
		t.Fatalf("resolve on the console: %d", status)
	}

	// The resident's phone (another phone: its own cookies) opens their
	// page inside it: they ask for 订阅通知 through the phone, and rate.
	ctx, cancelPhone := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelPhone()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(r.apiURL+"/"),
		chromedp.WaitReady(chromedp.CSS("#openid")),
		chromedp.SetValue(chromedp.CSS("#openid"), resident),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('openid').dispatchEvent(new Event('change'));
			document.getElementById('pageFrame').src = '/sim/open?openid=`+resident+`&url=`+url.QueryEscape(base+"/wx/cases/"+number)+`';
			document.getElementById('page').hidden = false;`),
	); err != nil {
		t.Fatal(err)
	}
	frameText(t, ctx, "#r-state", "已办结")
	// WeChat's own button (wx-open-subscribe) shows once the page's
	// wx.config, signed by gridbot with the jsapi_ticket, passed the
	// simulator's check; a tap grants one notice, which WeChat reports to
	// gridbot (subscribe_msg_popup_event), and the tag says so on the page.
	frameClick(t, ctx, "#r-open-subscribe")
	deadline := time.Now().Add(10 * time.Second)
	for r.api.Grants(resident, "sub-progress") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the page's subscribe button granted nothing")
		}
		time.Sleep(100 * time.Millisecond)
	}
	frameText(t, ctx, "#r-subscribe-note", "已订阅")
	if n := r.api.TicketRequests(); n != 1 {
		t.Fatalf("%d jsapi_ticket requests for one page", n)
	}
	frameClick(t, ctx, `#r-rate button[data-score="5"]`)
	frameText(t, ctx, "#r-state", "已结案")
}
