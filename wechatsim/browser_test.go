package wechatsim_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// The phone page in headless Chromium, as a resident uses it: a long chat
// opens on its newest message; 发照片 picks a real photo from the device,
// which reaches the account as an image message naming temporary media
// that holds the very bytes picked, and is shown as a photo (never as its
// media ID); nothing shown names an openid, a menu tap or another event.
func TestPhonePagePhotoScrollAndPrivacy(t *testing.T) {
	browsertest.Require(t)
	const resident = "o_resident_zhang"
	w := newWorld(t, false, func(c *wechatsim.Config) {
		c.Contacts = []wechatsim.Contact{{OpenID: resident, Label: "居民 张三"}}
	})
	ctx := context.Background()
	for i := range 30 {
		if _, err := w.sim.SendText(ctx, resident, fmt.Sprintf("第%d条消息", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.sim.Click(ctx, resident, "REPORT"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sim.SendEvent(ctx, resident, "VIEW", "https://grid.example.org/wx/mine"); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(t.TempDir(), "路灯.png")
	picked := wechatsim.MediaImage("picked-on-the-phone")
	if err := os.WriteFile(photo, picked, 0o600); err != nil {
		t.Fatal(err)
	}

	tab := browsertest.Start(t, 60*time.Second)
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(390, 700),
		chromedp.Navigate(w.srv+"/"),
		chromedp.WaitVisible(chromedp.CSS(".contacts button.on")),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `document.querySelectorAll('#chat .msg').length >= 60`, "the chat")
	atBottom := `(() => { const c = document.getElementById('chat');
		return c.scrollHeight > c.clientHeight + 100 && c.scrollTop + c.clientHeight >= c.scrollHeight - 2; })()`
	waitJS(t, tab, atBottom, "the chat to open on its newest message")

	if err := chromedp.Do(tab, chromedp.SetUploadFiles(chromedp.CSS("#photoFile"), []string{photo})); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `(() => { const img = document.querySelector('#chat .msg.sent.photo img');
		return !!img && img.complete && img.naturalWidth === 32; })()`, "the photo picked, shown in the chat")
	waitJS(t, tab, `[...document.querySelectorAll('#chat .msg.reply')].some((m) => m.textContent.endsWith('图片 true'))`, "the account's answer to the photo")
	waitJS(t, tab, atBottom, "the chat to follow the new message")

	var id string
	for _, m := range w.resp.messages() {
		if m.Kind == core.MessageImage {
			id = m.MediaID
		}
	}
	if got, ok := w.sim.Uploaded(id); !ok || !bytes.Equal(got, picked) {
		t.Fatalf("the image message names %q, holding %d bytes, not the %d picked", id, len(got), len(picked))
	}

	shown, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	sent, err := chromedp.Run(tab, chromedp.Evaluate[string](`[...document.querySelectorAll('#chat .msg.sent')].map((m) => m.innerText).join('\n')`))
	if err != nil {
		t.Fatal(err)
	}
	for _, never := range []string{resident, id, "sim_upload_"} {
		if strings.Contains(shown, never) {
			t.Errorf("the phone shows %q", never)
		}
	}
	for _, never := range []string{"REPORT", "CLICK", "VIEW", "菜单", "event"} {
		if strings.Contains(sent, never) {
			t.Errorf("the resident's own lines show %q: %s", never, sent)
		}
	}
	page, err := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page, resident) {
		i := strings.Index(page, resident)
		t.Errorf("an openid is in the phone's page: …%s…", page[max(0, i-200):i+20])
	}
}

func waitJS(t *testing.T, ctx context.Context, cond, what string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
