package console

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"gridbot/core"
)

// TestBrowserChannelChoice: a leader bound on both channels chooses in the
// 新案提醒 panel where their notices go first; the system administrator's
// staff list moves another member's with one button; a member bound on one
// channel only is offered no choice.
func TestBrowserChannelChoice(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t, withBook(t))
	f.srv.Roster.Channels = []core.Channel{core.ChannelWeCom, core.ChannelWeChat}
	bg := context.Background()
	for _, b := range []struct{ id, addr string }{{"lead1", "o-lead1"}, {"lead1", "wecom:zhang1"}, {"lead2", "o-lead2"}, {"lead2", "wecom:zhao2"}, {"cadre1", "o-cadre1"}} {
		code, err := f.srv.Roster.IssueBindCode(bg, b.id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.srv.Roster.Bind(bg, b.addr, code); err != nil {
			t.Fatal(err)
		}
	}
	loginAs(t, ctx, f, "lead1")
	waitFor(t, ctx, `!document.getElementById('channel-choice').hidden`, "the choice for a member on both channels")
	if !evalJS[bool](t, ctx, `document.querySelector('input[name=notify-channel][value=wecom]').checked`) {
		t.Error("WeCom, tried first, is not the one checked")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("alerts-toggle")),
		chromedp.Click(chromedp.CSS(`input[name=notify-channel][value=wechat]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById('channel-note').textContent.includes('已设置：通知先发到微信')`, "the answer")
	if as, _ := f.srv.Roster.Addresses(bg, "lead1"); len(as) != 2 || as[0].Channel != core.ChannelWeChat {
		t.Errorf("lead1's addresses: %v", as)
	}

	ctx2 := newTab(t)
	loginAs(t, ctx2, f, "cadre1")
	waitFor(t, ctx2, `document.getElementById('channel-choice').dataset.loaded === 'yes'`, "the channels read")
	if !evalJS[bool](t, ctx2, `document.getElementById('channel-choice').hidden`) {
		t.Error("a member on WeChat alone is offered a choice")
	}

	ctx3 := newTab(t)
	loginAs(t, ctx3, f, "sysadm")
	if err := chromedp.Do(ctx3, chromedp.Evaluate[chromedp.Void](`location.hash = '#/staff'`)); err != nil {
		t.Fatal(err)
	}
	button := `[...document.querySelectorAll('#staff-rows tr[data-id="lead2"] .ops button')].find((b) => b.textContent.startsWith('通知先发'))`
	waitFor(t, ctx3, `(`+button+` || {}).textContent === '通知先发企业微信'`, "lead2's channel button")
	if evalJS[bool](t, ctx3, `!![...document.querySelectorAll('#staff-rows tr[data-id="cadre1"] .ops button')].find((b) => b.textContent.startsWith('通知先发'))`) {
		t.Error("a button for a member on one channel")
	}
	if err := chromedp.Do(ctx3, chromedp.Evaluate[chromedp.Void](button+`.click()`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx3, `(`+button+` || {}).textContent === '通知先发微信'`, "the button after the change")
	if as, _ := f.srv.Roster.Addresses(bg, "lead2"); len(as) != 2 || as[0].Channel != core.ChannelWeChat {
		t.Errorf("lead2's addresses: %v", as)
	}
}
