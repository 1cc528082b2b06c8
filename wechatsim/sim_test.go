package wechatsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/core"
	"gridbot/store/embedded"
	"gridbot/wechatsim"
)

const (
	token  = "simtoken"
	appID  = "wxsim0000000001"
	secret = "simsecret"
	aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// echoResponder answers with a description of what it got.
type echoResponder struct {
	mu  sync.Mutex
	got []core.Message
}

func (e *echoResponder) Respond(_ context.Context, m core.Message) (string, error) {
	e.mu.Lock()
	e.got = append(e.got, m)
	n := len(e.got)
	e.mu.Unlock()
	switch m.Kind {
	case core.MessageText:
		return fmt.Sprintf("#%d 收到：%s", n, m.Text), nil
	case core.MessageLocation:
		return fmt.Sprintf("#%d 位置 %.2f,%.2f %s", n, m.Location.Lat, m.Location.Lng, m.Location.Label), nil
	case core.MessageImage:
		return fmt.Sprintf("#%d 图片 %t", n, m.MediaID != "" && m.PicURL != ""), nil
	case core.MessageEvent:
		if m.Event == core.EventNameUnsubscribe {
			return "", nil
		}
		return fmt.Sprintf("#%d 事件 %s %s", n, m.Event, m.EventKey), nil
	}
	return "", nil
}

func (e *echoResponder) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.got)
}

// world is a simulator wired to a bot callback and the bot's sender.
type world struct {
	sim    *wechatsim.Sim
	resp   *echoResponder
	sender *bot.Sender
}

func newWorld(t *testing.T, safe bool, mutate func(*wechatsim.Config)) world {
	t.Helper()
	key := ""
	if safe {
		key = aesKey
	}
	cfg := wechatsim.Config{Token: token, AppID: appID, AppSecret: secret, AESKey: key}
	if mutate != nil {
		mutate(&cfg)
	}
	sim := wechatsim.New(cfg)
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)

	resp := &echoResponder{}
	cb, err := bot.NewCallback(bot.CallbackConfig{
		Token: token, AppID: appID, AESKey: key,
		Responder: resp, Dedupe: &embedded.MemoryKeys{}, Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/wechat", cb)
	botSrv := httptest.NewServer(mux)
	t.Cleanup(botSrv.Close)
	sim.SetCallbackURL(botSrv.URL + "/wechat")

	tokens := bot.NewTokenSource(bot.TokenConfig{AppID: appID, AppSecret: secret, APIBase: simSrv.URL})
	sender, err := bot.NewSender(bot.SenderConfig{Tokens: tokens, APIBase: simSrv.URL, TemplateID: "TPL_NOTICE"})
	if err != nil {
		t.Fatal(err)
	}
	return world{sim: sim, resp: resp, sender: sender}
}

func TestRoundTrip(t *testing.T) {
	for _, safe := range []bool{false, true} {
		t.Run(fmt.Sprintf("safe=%v", safe), func(t *testing.T) {
			w := newWorld(t, safe, nil)
			ctx := context.Background()
			if err := w.sim.Handshake(ctx); err != nil {
				t.Fatalf("handshake: %v", err)
			}
			steps := []struct {
				name string
				send func() (string, error)
				want string
			}{
				{"text", func() (string, error) { return w.sim.SendText(ctx, "o_zhang", "路灯坏了 ]]> <b>&") }, "#1 收到：路灯坏了 ]]> <b>&"},
				{"location", func() (string, error) { return w.sim.SendLocation(ctx, "o_zhang", 22.35, 112.56, "村委会") }, "#2 位置 22.35,112.56 村委会"},
				{"image", func() (string, error) { return w.sim.SendImage(ctx, "o_zhang") }, "#3 图片 true"},
				{"click", func() (string, error) { return w.sim.Click(ctx, "o_zhang", "REPORT") }, "#4 事件 CLICK REPORT"},
				{"subscribe", func() (string, error) { return w.sim.SendEvent(ctx, "o_li", "subscribe", "qrscene_g1") }, "#5 事件 subscribe qrscene_g1"},
				{"nothing to say", func() (string, error) { return w.sim.SendEvent(ctx, "o_li", "unsubscribe", "") }, ""},
			}
			for _, st := range steps {
				got, err := st.send()
				if err != nil || got != st.want {
					t.Fatalf("%s: reply %q, %v; want %q", st.name, got, err, st.want)
				}
			}
			chat := w.sim.Chat("o_zhang", 0)
			if len(chat) != 8 || chat[0].Kind != "sent" || chat[1].Kind != "reply" || chat[1].Text != steps[0].want {
				t.Fatalf("chat %+v", chat)
			}
		})
	}
}

func TestRetrySameMessage(t *testing.T) {
	for _, safe := range []bool{false, true} {
		w := newWorld(t, safe, nil)
		ctx := context.Background()
		first, err := w.sim.Post(ctx, "o_zhang", wechatsim.OutgoingMessage{MsgType: "text", Content: "水管爆了"})
		if err != nil {
			t.Fatal(err)
		}
		retry, err := w.sim.Post(ctx, "o_zhang", wechatsim.OutgoingMessage{MsgType: "text", Content: "水管爆了",
			MsgID: first.MsgID, CreateTime: first.CreateTime})
		if err != nil {
			t.Fatal(err)
		}
		evt := wechatsim.OutgoingMessage{MsgType: "event", Event: "CLICK", EventKey: "REPORT", CreateTime: 1714036504}
		e1, err1 := w.sim.Post(ctx, "o_zhang", evt)
		e2, err2 := w.sim.Post(ctx, "o_zhang", evt)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if first.Reply == "" || retry.Reply != first.Reply || e2.Reply != e1.Reply || w.resp.count() != 2 {
			t.Fatalf("safe=%v: replies %q %q %q %q after %d calls", safe, first.Reply, retry.Reply, e1.Reply, e2.Reply, w.resp.count())
		}
	}
}

func TestMismatchedConfigIsRefused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		mutate func(*wechatsim.Config)
		status int
	}{
		{"wrong token", func(c *wechatsim.Config) { c.Token = "other" }, 403},
		{"wrong AppID", func(c *wechatsim.Config) { c.AppID = "wxother" }, 400},
		{"wrong key", func(c *wechatsim.Config) { c.AESKey = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG" }, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, true, tt.mutate)
			res, err := w.sim.Post(ctx, "o_zhang", wechatsim.OutgoingMessage{MsgType: "text", Content: "x"})
			if err != nil || res.Status != tt.status {
				t.Fatalf("status %d, %v; want %d", res.Status, err, tt.status)
			}
			if _, err := w.sim.SendText(ctx, "o_zhang", "x"); err == nil {
				t.Fatal("SendText succeeded")
			}
			if w.resp.count() != 0 {
				t.Fatal("responder called")
			}
			if chat := w.sim.Chat("o_zhang", 0); chat[len(chat)-1].Kind != "error" {
				t.Fatalf("chat %+v", chat)
			}
		})
	}
	w := newWorld(t, false, func(c *wechatsim.Config) { c.Token = "other" })
	if err := w.sim.Handshake(ctx); err == nil {
		t.Fatal("handshake with the wrong token succeeded")
	}
}

func TestRawBody(t *testing.T) {
	w := newWorld(t, true, nil)
	res, err := w.sim.Post(context.Background(), "o_x", wechatsim.OutgoingMessage{Raw: []byte("<xml><Content>")})
	if err != nil || res.Status != 400 {
		t.Fatalf("status %d, %v", res.Status, err)
	}
}

// api calls the simulator's WeChat API.
func api(t *testing.T, base, method, path string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: http %d", path, resp.StatusCode)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func code(m map[string]any) int {
	f, _ := m["errcode"].(float64)
	return int(f)
}

func TestTokenAPI(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{AppID: appID, AppSecret: secret})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	good := map[string]any{"grant_type": "client_credential", "appid": appID, "secret": secret}
	tests := []struct {
		name string
		body map[string]any
		code int
	}{
		{"ok", good, 0},
		{"wrong appid", map[string]any{"grant_type": "client_credential", "appid": "wx0", "secret": secret}, 40013},
		{"wrong secret", map[string]any{"grant_type": "client_credential", "appid": appID, "secret": "x"}, 40125},
		{"wrong grant", map[string]any{"grant_type": "password", "appid": appID, "secret": secret}, 40002},
	}
	for _, tt := range tests {
		if got := api(t, srv.URL, "POST", "/cgi-bin/stable_token", tt.body); code(got) != tt.code {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
	a := api(t, srv.URL, "POST", "/cgi-bin/stable_token", good)
	b := api(t, srv.URL, "POST", "/cgi-bin/stable_token", good)
	if a["access_token"] == "" || a["access_token"] != b["access_token"] || a["expires_in"].(float64) < 7000 || a["expires_in"].(float64) > 7200 {
		t.Fatalf("stable tokens %v %v", a, b)
	}
	g := api(t, srv.URL, "GET", "/cgi-bin/token?"+url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}}.Encode(), nil)
	if g["access_token"] == "" || g["access_token"] == a["access_token"] {
		t.Fatalf("/cgi-bin/token %v", g)
	}
	if g := api(t, srv.URL, "GET", "/cgi-bin/token?grant_type=client_credential&appid="+appID+"&secret=x", nil); code(g) != 40125 {
		t.Fatalf("/cgi-bin/token wrong secret %v", g)
	}
	send := func(tok string) int {
		return code(api(t, srv.URL, "POST", "/cgi-bin/message/custom/send?access_token="+tok,
			map[string]any{"touser": "o1", "msgtype": "text", "text": map[string]any{"content": "hi"}}))
	}
	tok := a["access_token"].(string)
	if c := send(tok); c != 0 {
		t.Fatalf("send with a good token: %d", c)
	}
	if c := send("bogus"); c != 40001 {
		t.Fatalf("send with a bogus token: %d", c)
	}
	if c := code(api(t, srv.URL, "POST", "/cgi-bin/message/custom/send", map[string]any{"touser": "o1"})); c != 41001 {
		t.Fatalf("send without a token: %d", c)
	}
	sim.ExpireTokens()
	if c := send(tok); c != 40001 {
		t.Fatalf("send with an expired token: %d", c)
	}
	c := api(t, srv.URL, "POST", "/cgi-bin/stable_token", good)
	if c["access_token"] == tok || send(c["access_token"].(string)) != 0 {
		t.Fatalf("token after expiry %v", c)
	}
	if n := len(sim.Pushes("o1")); n != 2 {
		t.Fatalf("%d pushes recorded, want 2", n)
	}
}

func TestTemplateDedupe(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{AppID: appID, AppSecret: secret, TemplateIDs: []string{"TPL"}})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	tok := api(t, srv.URL, "POST", "/cgi-bin/stable_token", map[string]any{"grant_type": "client_credential", "appid": appID, "secret": secret})["access_token"].(string)
	send := func(tpl, clientID string) map[string]any {
		return api(t, srv.URL, "POST", "/cgi-bin/message/template/send?access_token="+tok, map[string]any{
			"touser": "o1", "template_id": tpl, "client_msg_id": clientID,
			"data": map[string]any{"first": map[string]string{"value": "标题"}, "keyword2": map[string]string{"value": "正文"},
				"keyword1": map[string]string{"value": "GB-1"}, "remark": map[string]string{"value": "备注"}}})
	}
	a, b, c := send("TPL", "k1"), send("TPL", "k1"), send("TPL", "k2")
	if code(a) != 0 || a["msgid"] != b["msgid"] || a["msgid"] == c["msgid"] {
		t.Fatalf("answers %v %v %v", a, b, c)
	}
	if got := send("OTHER", "k3"); code(got) != 40037 {
		t.Fatalf("unknown template %v", got)
	}
	ps := sim.Pushes("o1")
	if len(ps) != 2 || ps[0].Text != "标题\nGB-1\n正文\n备注" || ps[0].Data["keyword1"] != "GB-1" || ps[0].ClientMsgID != "k1" {
		t.Fatalf("pushes %+v", ps)
	}
}

func TestSenderAgainstSim(t *testing.T) {
	ctx := context.Background()
	notice := core.Notice{To: "o_leader", Title: "新事项", Text: "幸福路路灯不亮", Case: "GB-7", Key: "evt-1"}
	t.Run("custom", func(t *testing.T) {
		w := newWorld(t, false, nil)
		ch, err := w.sender.Notify(ctx, notice)
		if err != nil || ch != "custom" {
			t.Fatalf("Notify %q %v", ch, err)
		}
		p, err := w.sim.WaitPush(ctx, "o_leader", nil)
		if err != nil || p.Channel != "custom" || p.Text != "新事项\n幸福路路灯不亮\n编号：GB-7" {
			t.Fatalf("push %+v %v", p, err)
		}
	})
	t.Run("window closed", func(t *testing.T) {
		w := newWorld(t, false, nil)
		w.sim.FailNext("o_leader", "custom", 45015)
		ch, err := w.sender.Notify(ctx, notice)
		if err != nil || ch != "template" {
			t.Fatalf("Notify %q %v", ch, err)
		}
		ps := w.sim.Pushes("o_leader")
		if len(ps) != 1 || ps[0].Channel != "template" || ps[0].TemplateID != "TPL_NOTICE" || ps[0].ClientMsgID != "evt-1" || ps[0].Data["keyword1"] != "GB-7" {
			t.Fatalf("pushes %+v", ps)
		}
		// A retried notice is one template message at WeChat.
		w.sim.FailNext("o_leader", "custom", 45047)
		if ch, err := w.sender.Notify(ctx, notice); err != nil || ch != "template" || len(w.sim.Pushes("o_leader")) != 1 {
			t.Fatalf("retry %q %v, %d pushes", ch, err, len(w.sim.Pushes("o_leader")))
		}
	})
	t.Run("expired token", func(t *testing.T) {
		w := newWorld(t, false, nil)
		if _, err := w.sender.Notify(ctx, notice); err != nil {
			t.Fatal(err)
		}
		w.sim.ExpireTokens()
		if ch, err := w.sender.Notify(ctx, notice); err != nil || ch != "custom" {
			t.Fatalf("after expiry %q %v", ch, err)
		}
	})
	t.Run("permanent failure", func(t *testing.T) {
		w := newWorld(t, false, nil)
		w.sim.FailNext("o_leader", "custom", 43004)
		_, err := w.sender.Notify(ctx, notice)
		pe, ok := errors.AsType[*core.PushError](err)
		if !ok || pe.Code != 43004 || !pe.Permanent() || len(w.sim.Pushes("o_leader")) != 0 {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("enforced window", func(t *testing.T) {
		w := newWorld(t, false, func(c *wechatsim.Config) { c.EnforceWindow = true })
		if ch, err := w.sender.Notify(ctx, notice); err != nil || ch != "template" {
			t.Fatalf("before any message: %q %v", ch, err)
		}
		if _, err := w.sim.SendText(ctx, "o_leader", "在"); err != nil {
			t.Fatal(err)
		}
		var channels []string
		for range 6 {
			ch, err := w.sender.Notify(ctx, core.Notice{To: "o_leader", Text: "x"})
			if err != nil {
				t.Fatal(err)
			}
			channels = append(channels, ch)
		}
		if got := strings.Join(channels, " "); got != "custom custom custom custom custom template" {
			t.Fatalf("channels %s", got)
		}
		if _, err := w.sim.SendEvent(ctx, "o_leader", "unsubscribe", ""); err != nil {
			t.Fatal(err)
		}
		_, err := w.sender.Notify(ctx, notice)
		if pe, ok := errors.AsType[*core.PushError](err); !ok || pe.Code != 43004 {
			t.Fatalf("after unsubscribe: %v", err)
		}
	})
}

func TestWaitPush(t *testing.T) {
	w := newWorld(t, false, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan wechatsim.Push, 1)
	go func() {
		p, err := w.sim.WaitPush(ctx, "o_a", func(p wechatsim.Push) bool { return strings.Contains(p.Text, "第二") })
		if err != nil {
			t.Error(err)
		}
		got <- p
	}()
	for _, text := range []string{"第一条", "给别人"} {
		to := "o_a"
		if text == "给别人" {
			to = "o_b"
		}
		if _, err := w.sender.Notify(ctx, core.Notice{To: to, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case p := <-got:
		t.Fatalf("returned early with %+v", p)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := w.sender.Notify(ctx, core.Notice{To: "o_a", Text: "第二条"}); err != nil {
		t.Fatal(err)
	}
	if p := <-got; p.Text != "第二条" || p.To != "o_a" {
		t.Fatalf("push %+v", p)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := w.sim.WaitPush(short, "o_nobody", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}

func TestPhonePage(t *testing.T) {
	w := newWorld(t, false, func(c *wechatsim.Config) {
		c.Contacts = []wechatsim.Contact{{OpenID: "o_zhang", Label: "居民 张三"}}
	})
	srv := httptest.NewServer(w.sim.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, p := range []string{"/", "/phone.js", "/phone.css"} {
		if status, body := get(p); status != 200 || len(body) < 100 {
			t.Fatalf("%s: %d", p, status)
		}
	}
	if _, js := get("/phone.js"); strings.Contains(js, "innerHTML") {
		t.Fatal("phone.js uses innerHTML")
	}
	post := func(ct string, body any) (int, map[string]string) {
		b, _ := json.Marshal(body)
		resp, err := http.Post(srv.URL+"/sim/send", ct, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	tests := []struct {
		name   string
		ct     string
		body   map[string]any
		status int
		reply  string
	}{
		{"text", "application/json", map[string]any{"openid": "o_zhang", "kind": "text", "text": "你好"}, 200, "#1 收到：你好"},
		{"location", "application/json", map[string]any{"openid": "o_zhang", "kind": "location", "lat": 22.35, "lng": 112.56, "label": "村口"}, 200, "#2 位置 22.35,112.56 村口"},
		{"click", "application/json", map[string]any{"openid": "o_zhang", "kind": "click", "key": "REPORT"}, 200, "#3 事件 CLICK REPORT"},
		{"subscribe", "application/json", map[string]any{"openid": "o_zhang", "kind": "subscribe"}, 200, "#4 事件 subscribe "},
		{"image", "application/json", map[string]any{"openid": "o_zhang", "kind": "image"}, 200, "#5 图片 true"},
		{"form post", "application/x-www-form-urlencoded", map[string]any{"openid": "o_zhang", "kind": "text", "text": "x"}, 415, ""},
		{"no openid", "application/json", map[string]any{"kind": "text", "text": "x"}, 400, ""},
		{"unknown kind", "application/json", map[string]any{"openid": "o_zhang", "kind": "fax"}, 400, ""},
	}
	for _, tt := range tests {
		status, out := post(tt.ct, tt.body)
		if status != tt.status || out["reply"] != tt.reply {
			t.Fatalf("%s: %d %v", tt.name, status, out)
		}
	}
	if _, err := w.sender.Notify(context.Background(), core.Notice{To: "o_zhang", Title: "进展", Text: "已派单"}); err != nil {
		t.Fatal(err)
	}
	_, body := get("/sim/inbox?openid=o_zhang&after=10")
	var inbox struct{ Entries []wechatsim.Entry }
	if err := json.Unmarshal([]byte(body), &inbox); err != nil {
		t.Fatal(err)
	}
	if len(inbox.Entries) != 1 || inbox.Entries[0].Kind != "push" || inbox.Entries[0].N != 11 || inbox.Entries[0].Channel != "custom" {
		t.Fatalf("inbox %s", body)
	}
	_, body = get("/sim/contacts")
	if !strings.Contains(body, "gh_gridbot") || !strings.Contains(body, "居民 张三") {
		t.Fatalf("contacts %s", body)
	}
}
