package bot_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/silenceper/wechat/v2/officialaccount/config"
	oacontext "github.com/silenceper/wechat/v2/officialaccount/context"
	"github.com/silenceper/wechat/v2/officialaccount/js"

	"gridbot/bot"
	"gridbot/wechatsim"
)

// The JS-SDK's documented example (JS-SDK 附录1, and WeCom's copy of it with
// a query in the URL).
func TestJSSignatureDocumentedExample(t *testing.T) {
	const ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
	for _, tt := range []struct{ url, want string }{
		{"http://mp.weixin.qq.com", "f4d90daf4b3bca3078ab155816175ba34c443a7b"},
		{"http://mp.weixin.qq.com?params=value", "0f9de62fce790f9a083d5c99e95740ceb90c27ed"},
		{"http://mp.weixin.qq.com?params=value#fragment", "0f9de62fce790f9a083d5c99e95740ceb90c27ed"}, // the fragment is not signed
	} {
		if got := bot.JSSignature(ticket, "Wm3WZYTPz0wzccnW", 1414587457, tt.url); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.url, got, tt.want)
		}
	}
}

// jsSim is the simulator with a token source and a ticket source on it.
func jsSim(t *testing.T) (*wechatsim.Sim, string, *bot.TokenSource) {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{AppID: testAppID, AppSecret: testSecret, Token: "t"})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return sim, srv.URL, bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL})
}

// A signature made with the ticket passes the simulator's check of
// wx.config, for the page it was made for only; the ticket is fetched once
// for many pages at once, and instances sharing a store fetch it once.
func TestTicketSourceSignsWhatWeChatAccepts(t *testing.T) {
	ctx := context.Background()
	sim, base, tokens := jsSim(t)
	shared := &memEphemeral{}
	tickets, err := bot.NewTicketSource(bot.TicketConfig{AppID: testAppID, Tokens: tokens, APIBase: base, Shared: shared})
	if err != nil {
		t.Fatal(err)
	}
	signer := &bot.JSSigner{AppID: testAppID, Tickets: tickets}
	const page = "https://grid.example.org/wx/cases/ST202612030001"
	var wg sync.WaitGroup
	configs := make([]bot.JSConfig, 50)
	for i := range configs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := signer.Config(ctx, page)
			if err != nil {
				t.Error(err)
			}
			configs[i] = c
		}()
	}
	wg.Wait()
	if n := sim.TicketRequests(); n != 1 {
		t.Fatalf("%d getticket requests for 50 pages", n)
	}
	c := configs[0]
	ts := fmt.Sprint(c.Timestamp)
	if msg := sim.CheckJSConfig("o1", page+"#top", c.AppID, ts, c.NonceStr, c.Signature, []string{"wx-open-subscribe"}); msg != "config:ok" {
		t.Fatalf("a signed page: %s", msg)
	}
	for _, tt := range []struct{ what, page, appID, nonce, sig, want string }{
		{"another page", page + "?x=1", c.AppID, c.NonceStr, c.Signature, "config:invalid signature"},
		{"a forged signature", page, c.AppID, c.NonceStr, strings.Repeat("0", 40), "config:invalid signature"},
		{"another nonce", page, c.AppID, c.NonceStr + "x", c.Signature, "config:invalid signature"},
		{"another account", page, "wxother", c.NonceStr, c.Signature, "config:fail, invalid appid"},
	} {
		if msg := sim.CheckJSConfig("o1", tt.page, tt.appID, ts, tt.nonce, tt.sig, nil); msg != tt.want {
			t.Errorf("%s: %s, want %s", tt.what, msg, tt.want)
		}
	}
	// A second instance on the same store uses the same ticket.
	other, _ := bot.NewTicketSource(bot.TicketConfig{AppID: testAppID, Tokens: tokens, APIBase: base, Shared: shared})
	if _, err := other.Ticket(ctx); err != nil || sim.TicketRequests() != 1 {
		t.Fatalf("second instance: %v, %d requests", err, sim.TicketRequests())
	}

	// silenceper/wechat's own JS-SDK config, backed by these sources,
	// signs the same way.
	sdk := js.NewJs(&oacontext.Context{Config: &config.Config{AppID: testAppID}, AccessTokenHandle: tokens})
	sdk.SetJsTicketHandle(tickets)
	sc, err := sdk.GetConfigContext(ctx, page)
	if err != nil {
		t.Fatal(err)
	}
	ticket, _ := tickets.Ticket(ctx)
	if want := bot.JSSignature(ticket, sc.NonceStr, sc.Timestamp, page); sc.Signature != want {
		t.Fatalf("the SDK signs %s, we sign %s", sc.Signature, want)
	}
}

// The JS-safe domain is the account's: a page elsewhere does not pass.
func TestJSConfigOutsideTheJSSafeDomain(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{AppID: testAppID, AppSecret: testSecret, Token: "t", JSDomains: []string{"grid.example.org"}})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	tokens := bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL})
	tickets, _ := bot.NewTicketSource(bot.TicketConfig{AppID: testAppID, Tokens: tokens, APIBase: srv.URL})
	signer := &bot.JSSigner{AppID: testAppID, Tickets: tickets}
	const page = "https://evil.example.com/wx/cases/ST1"
	c, err := signer.Config(context.Background(), page)
	if err != nil {
		t.Fatal(err)
	}
	if msg := sim.CheckJSConfig("o1", page, c.AppID, fmt.Sprint(c.Timestamp), c.NonceStr, c.Signature, nil); msg != "config:invalid url domain" {
		t.Fatalf("a page outside the JS-safe domain: %s", msg)
	}
}

// An access token WeChat rejects while the ticket is fetched is given back
// and the fetch tried once more; errors never carry the token.
func TestTicketSourceRetriesAStaleToken(t *testing.T) {
	var tokenCalls, ticketCalls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cgi-bin/stable_token":
			n := tokenCalls.Add(1)
			fmt.Fprintf(w, `{"access_token":"TOKEN-%d","expires_in":7200}`, n)
		case "/cgi-bin/ticket/getticket":
			ticketCalls.Add(1)
			switch r.URL.Query().Get("access_token") {
			case "TOKEN-1":
				fmt.Fprint(w, `{"errcode":40001,"errmsg":"invalid credential TOKEN-1"}`)
			case "TOKEN-2":
				fmt.Fprint(w, `{"errcode":0,"errmsg":"ok","ticket":"TICKET","expires_in":7200}`)
			default:
				fmt.Fprintf(w, `{"errcode":45009,"errmsg":"reach max api daily quota limit %s"}`, r.URL.Query().Get("access_token"))
			}
		}
	}))
	defer srv.Close()
	tokens := bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL})
	tickets, _ := bot.NewTicketSource(bot.TicketConfig{AppID: testAppID, Tokens: tokens, APIBase: srv.URL})
	got, err := tickets.Ticket(context.Background())
	if err != nil || got != "TICKET" || ticketCalls.Load() != 2 || tokenCalls.Load() != 2 {
		t.Fatalf("ticket %q (%v) after %d ticket and %d token calls", got, err, ticketCalls.Load(), tokenCalls.Load())
	}
	// A refusal naming the token is reported without it.
	tokens3 := bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL})
	tickets3, _ := bot.NewTicketSource(bot.TicketConfig{AppID: testAppID, Tokens: tokens3, APIBase: srv.URL})
	if _, err := tickets3.Ticket(context.Background()); err == nil || !strings.Contains(err.Error(), "45009") ||
		strings.Contains(err.Error(), "TOKEN-3") {
		t.Fatalf("a refused ticket: %v", err)
	}
	if _, err := bot.NewTicketSource(bot.TicketConfig{AppID: testAppID}); err == nil {
		t.Fatal("a ticket source without tokens")
	}
}
