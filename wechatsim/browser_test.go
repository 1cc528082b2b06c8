package wechatsim_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbot/bot"
	"gridbot/core"
	"gridbot/internal/browsertest"
	"gridbot/wechatsim"
)

// The phone page in headless Chromium: a template push is drawn as WeChat
// draws it (title, labelled fields, 详情), and 详情 opens the linked page
// inside the phone, where web authorisation knows the reader without
// anything in the link.
func TestPhonePageShowsTemplateAndOpensPage(t *testing.T) {
	browsertest.Require(t)
	w := newWorld(t, false, func(c *wechatsim.Config) {
		c.Contacts = []wechatsim.Contact{{OpenID: "o_leader", Label: "网格员 何家豪"}}
	})
	auth := &bot.WebAuth{AppID: appID, AppSecret: secret, APIBase: w.srv, OAuthBase: w.srv}
	// The page a notice links to: it knows its reader only through web
	// authorisation, and tells the test whom it served.
	served := make(chan string, 4)
	page := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		code := r.URL.Query().Get("code")
		if code == "" {
			http.Redirect(rw, r, auth.AuthorizeURL("http://"+r.Host+r.URL.Path, "s1"), http.StatusFound)
			return
		}
		openid, err := auth.OpenID(r.Context(), code)
		if err != nil {
			http.Error(rw, "未能识别身份", http.StatusForbidden)
			return
		}
		served <- openid
		_, _ = rw.Write([]byte(`<!doctype html><meta charset="utf-8"><p id="who">` + html.EscapeString(openid) + `</p>`))
	}))
	defer page.Close()
	n := core.Notice{To: "o_leader", Title: "新的群众诉求", Text: "x", Case: "ST1", Key: "k1", Kind: core.NoticeStaffCase,
		Values: map[string]string{"category": "道路照明", "number": "ST1", "place": "石桥村 · 石桥大网格", "deadline": "2026-12-06 17:15"}}
	sender, err := bot.NewSender(bot.SenderConfig{Tokens: bot.NewTokenSource(bot.TokenConfig{AppID: appID, AppSecret: secret, APIBase: w.srv}),
		APIBase: w.srv, Window: w.window, Templates: libraryFields, PublicBase: page.URL})
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := sender.Notify(context.Background(), n); err != nil || ch != "template" {
		t.Fatalf("Notify %q %v", ch, err)
	}

	ctx := browsertest.Start(t, 30*time.Second)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(w.srv+"/"),
		chromedp.WaitVisible(chromedp.CSS(".msg.card .card-more")),
	); err != nil {
		t.Fatalf("no template card: %v", err)
	}
	card, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(".msg.card")))
	if err != nil || !strings.HasPrefix(card, "工单待办提醒") || !strings.Contains(card, "工单编号ST1") ||
		!strings.Contains(card, "事项类别道路照明") || !strings.HasSuffix(card, "详情") {
		t.Fatalf("card %q %v", card, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".msg.card .card-more")), chromedp.WaitVisible(chromedp.ID("page"))); err != nil {
		t.Fatalf("详情: %v", err)
	}
	select {
	case who := <-served:
		if who != "o_leader" {
			t.Fatalf("the page inside the phone was read by %q, want o_leader", who)
		}
	case <-ctx.Done():
		t.Fatal("详情 never reached the page through web authorisation")
	}
}
