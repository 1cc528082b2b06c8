package wechatsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"gridbot/bot"
	"gridbot/wechatsim"
)

// A page's wx-open-subscribe grants only after the page passed wx.config
// with a ticket the simulator issued; the grant reaches the account as a
// subscribe_msg_popup_event with PopupScene 1 (a page), the phone's own
// button (an article's component) with 2.
func TestOpenTagNeedsAVerifiedPage(t *testing.T) {
	var mu sync.Mutex
	var events []string
	account := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		events = append(events, string(body))
		mu.Unlock()
		io.WriteString(w, "success")
	}))
	defer account.Close()
	sim := wechatsim.New(wechatsim.Config{Token: token, AppID: appID, AppSecret: secret,
		SubscribeTemplates: wechatsim.SubscribeLibrary(), CallbackURL: account.URL})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	post := func(path string, body any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	const page = "https://grid.example.org/wx/cases/ST1"
	ask := map[string]any{"openid": "o_res", "accept": true, "templates": []string{"sub-progress"}, "page": page}
	if code, out := post("/sim/subscribe", ask); code != http.StatusForbidden {
		t.Fatalf("a page that never passed wx.config asked: %d %v", code, out)
	}

	tokens := bot.NewTokenSource(bot.TokenConfig{AppID: appID, AppSecret: secret, APIBase: srv.URL})
	tickets, _ := bot.NewTicketSource(bot.TicketConfig{AppID: appID, Tokens: tokens, APIBase: srv.URL})
	c, err := (&bot.JSSigner{AppID: appID, Tickets: tickets}).Config(context.Background(), page)
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"openid": "o_res", "url": page, "appId": c.AppID, "timestamp": fmt.Sprint(c.Timestamp),
		"nonceStr": c.NonceStr, "signature": c.Signature}
	// Verified, but without the open tag in openTagList: still no button.
	if _, out := post("/sim/jsconfig", cfg); out["ok"] != true {
		t.Fatalf("wx.config: %v", out)
	}
	if code, _ := post("/sim/subscribe", ask); code != http.StatusForbidden {
		t.Fatalf("a page that did not ask for wx-open-subscribe asked: %d", code)
	}
	cfg["openTagList"] = []string{"wx-open-subscribe"}
	if _, out := post("/sim/jsconfig", cfg); out["ok"] != true {
		t.Fatalf("wx.config with the open tag: %v", out)
	}
	// Another user's phone has not configured that page.
	other := map[string]any{"openid": "o_other", "accept": true, "templates": []string{"sub-progress"}, "page": page}
	if code, _ := post("/sim/subscribe", other); code != http.StatusForbidden {
		t.Fatalf("another phone used the page's configuration: %d", code)
	}
	code, out := post("/sim/subscribe", ask)
	if code != http.StatusOK || !strings.Contains(fmt.Sprint(out["subscribeDetails"]), `\"status\":\"accept\"`) {
		t.Fatalf("tap on the open tag: %d %v", code, out)
	}
	if sim.Grants("o_res", "sub-progress") != 1 {
		t.Fatal("no grant")
	}
	// The phone's own button: an article's subscribe component.
	if code, _ := post("/sim/subscribe", map[string]any{"openid": "o_res", "accept": true}); code != http.StatusOK {
		t.Fatalf("the phone's button: %d", code)
	}
	// A forged configuration does not pass.
	cfg["signature"] = strings.Repeat("a", 40)
	if _, out := post("/sim/jsconfig", cfg); out["ok"] != false || out["errMsg"] != "config:invalid signature" {
		t.Fatalf("forged wx.config: %v", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || !strings.Contains(events[0], "<PopupScene>1</PopupScene>") ||
		!strings.Contains(events[1], "<PopupScene>2</PopupScene>") || !strings.Contains(events[0], "subscribe_msg_popup_event") {
		t.Fatalf("popup events: %q", events)
	}
	// getticket wants type=jsapi and a valid token.
	for _, q := range []string{"?access_token=nope&type=jsapi", "?type=jsapi"} {
		resp, err := http.Get(srv.URL + "/cgi-bin/ticket/getticket" + q)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ ErrCode int }
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if e.ErrCode == 0 {
			t.Fatalf("getticket%s answered a ticket", q)
		}
	}
}
