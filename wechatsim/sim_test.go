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
	"slices"
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

func (e *echoResponder) messages() []core.Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

func (e *echoResponder) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.got)
}

// world is a simulator wired to a bot callback and the bot's sender, as
// cmd/gridbot wires them: one window shared by both, on one clock.
type world struct {
	sim    *wechatsim.Sim
	resp   *echoResponder
	sender *bot.Sender
	window *bot.Window
	clock  *clock
	srv    string // the simulator's URL
}

// clock is a settable time for the simulator and the window.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// libraryFields maps the simulator's library templates as the README
// tells an official to map them.
var libraryFields = map[core.NoticeKind]bot.NoticeTemplate{
	core.NoticeStaffCase: {ID: "tpl-staff-case", Fields: map[string]string{"thing1": "category", "character_string2": "number", "thing3": "place", "time4": "deadline"}},
	core.NoticeResidentProgress: {ID: "tpl-progress", Fields: map[string]string{"character_string1": "number", "thing2": "category",
		"phrase3": "state", "thing4": "handler", "time5": "time"}},
}

var subscribeFields = map[core.NoticeKind]bot.NoticeTemplate{
	core.NoticeResidentProgress: {ID: "sub-progress", Fields: map[string]string{"character_string1": "number", "phrase2": "state",
		"thing3": "handler", "time4": "time"}},
}

func newWorld(t *testing.T, safe bool, mutate func(*wechatsim.Config)) world {
	t.Helper()
	key := ""
	if safe {
		key = aesKey
	}
	clk := &clock{now: time.Now()}
	cfg := wechatsim.Config{Token: token, AppID: appID, AppSecret: secret, AESKey: key, Now: clk.Now,
		Templates: wechatsim.Library(), SubscribeTemplates: wechatsim.SubscribeLibrary()}
	if mutate != nil {
		mutate(&cfg)
	}
	sim := wechatsim.New(cfg)
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)

	keys := &embedded.MemoryKeys{}
	window := &bot.Window{Store: keys, Now: clk.Now}
	resp := &echoResponder{}
	cb, err := bot.NewCallback(bot.CallbackConfig{
		Token: token, AppID: appID, AESKey: key, Window: window, Now: clk.Now,
		Responder: resp, Dedupe: keys, Log: slog.New(slog.DiscardHandler),
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
	sender, err := bot.NewSender(bot.SenderConfig{Tokens: tokens, APIBase: simSrv.URL, Window: window,
		Templates: libraryFields, Subscribe: subscribeFields, PublicBase: "https://grid.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	return world{sim: sim, resp: resp, sender: sender, window: window, clock: clk, srv: simSrv.URL}
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
			// Three messages and their replies, then the menu tap's reply
			// alone: WeChat shows no line for a tap.
			chat := w.sim.Chat("o_zhang", 0)
			if len(chat) != 7 || chat[0].Kind != "sent" || chat[1].Kind != "reply" || chat[1].Text != steps[0].want ||
				chat[5].Kind != "reply" || chat[6].Kind != "reply" || chat[6].Text != steps[3].want {
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
	quiet := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("success")) }))
	defer quiet.Close()
	sim.SetCallbackURL(quiet.URL)
	if _, err := sim.SendText(context.Background(), "o1", "在吗"); err != nil {
		t.Fatal(err)
	}
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

// Templates as they are since 2023-05-04: the account's library templates
// only (40037), each value within its field's type and length (47003),
// first and remark dropped, once per client_msg_id.
func TestTemplateLibrary(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{AppID: appID, AppSecret: secret, Templates: wechatsim.Library()})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	tok := api(t, srv.URL, "POST", "/cgi-bin/stable_token", map[string]any{"grant_type": "client_credential", "appid": appID, "secret": secret})["access_token"].(string)
	good := map[string]string{"thing1": "道路照明", "character_string2": "ST202612030001", "thing3": "石桥村 · 石桥大网格",
		"time4": "2026-12-06 17:15", "first": "新的群众诉求", "remark": "请及时处理"}
	send := func(tpl, clientID string, change map[string]string) map[string]any {
		data := map[string]any{}
		for k, v := range good {
			data[k] = map[string]string{"value": v}
		}
		for k, v := range change {
			if v == "-" {
				delete(data, k)
				continue
			}
			data[k] = map[string]string{"value": v}
		}
		return api(t, srv.URL, "POST", "/cgi-bin/message/template/send?access_token="+tok, map[string]any{
			"touser": "o1", "template_id": tpl, "client_msg_id": clientID, "url": "https://grid.example.org/wx/cases/ST202612030001",
			"data": data})
	}
	a, b := send("tpl-staff-case", "k1", nil), send("tpl-staff-case", "k1", nil)
	if code(a) != 0 || a["msgid"] != b["msgid"] {
		t.Fatalf("answers %v %v", a, b)
	}
	for _, tt := range []struct {
		name   string
		change map[string]string
		code   int
	}{
		{"thing of 20 characters", map[string]string{"thing3": strings.Repeat("路", 20)}, 0},
		{"thing of 21 characters", map[string]string{"thing3": strings.Repeat("路", 21)}, 47003},
		{"thing with a line break", map[string]string{"thing1": "道路\n照明"}, 47003},
		{"empty thing", map[string]string{"thing1": ""}, 47003},
		{"missing field", map[string]string{"thing1": "-"}, 47003},
		{"character_string with Chinese", map[string]string{"character_string2": "编号ST1"}, 47003},
		{"character_string of 33", map[string]string{"character_string2": strings.Repeat("A", 33)}, 47003},
		{"time as words", map[string]string{"time4": "三天内"}, 47003},
		{"time in Chinese form", map[string]string{"time4": "2026年12月6日 17:15"}, 0},
		{"time of day", map[string]string{"time4": "17:15"}, 0},
	} {
		if got := send("tpl-staff-case", "", tt.change); code(got) != tt.code {
			t.Errorf("%s: %v, want errcode %d", tt.name, got, tt.code)
		}
	}
	if got := send("OTHER", "k3", nil); code(got) != 40037 {
		t.Fatalf("unknown template %v", got)
	}
	ps := sim.Pushes("o1")
	want := "工单待办提醒\n事项类别：道路照明\n工单编号：ST202612030001\n事发地点：石桥村 · 石桥大网格\n办理期限：2026-12-06 17:15\n详情"
	if len(ps) != 4 || ps[0].Text != want || ps[0].URL == "" || ps[0].Title != "工单待办提醒" || len(ps[0].Fields) != 4 || ps[0].ClientMsgID != "k1" {
		t.Fatalf("pushes %+v", ps)
	}
	if strings.Contains(ps[0].Text, "新的群众诉求") || strings.Contains(ps[0].Text, "请及时处理") {
		t.Fatalf("first or remark shown: %q", ps[0].Text)
	}
	for _, e := range sim.Chat("o1", 0) {
		if e.Kind == "push" && (e.Card == nil || e.Card.Title != "工单待办提醒" || e.Card.URL == "") {
			t.Fatalf("chat line without its card: %+v", e)
		}
	}
}

func TestSenderAgainstSim(t *testing.T) {
	ctx := context.Background()
	notice := core.Notice{To: "o_leader", Title: "新事项", Text: "幸福路路灯不亮", Case: "GB-7", Key: "evt-1",
		Kind: core.NoticeStaffCase, Values: map[string]string{"category": "道路照明", "number": "GB-7",
			"place": "石桥村 · 石桥大网格（村口往东第三根电线杆旁）", "deadline": "2026-12-06 17:15"}}
	wrote := func(t *testing.T, w world) {
		t.Helper()
		if _, err := w.sim.SendText(ctx, "o_leader", "在"); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("custom", func(t *testing.T) {
		w := newWorld(t, false, nil)
		wrote(t, w)
		ch, err := w.sender.Notify(ctx, notice)
		if err != nil || ch != "custom" {
			t.Fatalf("Notify %q %v", ch, err)
		}
		p, err := w.sim.WaitPush(ctx, "o_leader", nil)
		if err != nil || p.Channel != "custom" || p.Text != "新事项\n幸福路路灯不亮\n编号：GB-7" {
			t.Fatalf("push %+v %v", p, err)
		}
	})
	t.Run("window closed: the template, every field within its type", func(t *testing.T) {
		w := newWorld(t, false, nil)
		ch, err := w.sender.Notify(ctx, notice)
		if err != nil || ch != "template" {
			t.Fatalf("Notify %q %v", ch, err)
		}
		ps := w.sim.Pushes("o_leader")
		if len(ps) != 1 || ps[0].Channel != "template" || ps[0].TemplateID != "tpl-staff-case" || ps[0].ClientMsgID != "evt-1" ||
			ps[0].Data["character_string2"] != "GB-7" || ps[0].URL != "https://grid.example.org/wx/cases/GB-7" {
			t.Fatalf("pushes %+v", ps)
		}
		// A retried notice is one template message at WeChat.
		if ch, err := w.sender.Notify(ctx, notice); err != nil || ch != "template" || len(w.sim.Pushes("o_leader")) != 1 {
			t.Fatalf("retry %q %v, %d pushes", ch, err, len(w.sim.Pushes("o_leader")))
		}
	})
	t.Run("window closed, no template for the kind", func(t *testing.T) {
		w := newWorld(t, false, nil)
		n := notice
		n.Kind = core.NoticeWarning
		_, err := w.sender.Notify(ctx, n)
		if pe, ok := errors.AsType[*core.PushError](err); !ok || pe.Code != 45015 || !pe.Permanent() {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		w := newWorld(t, false, nil)
		wrote(t, w)
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
		wrote(t, w)
		w.sim.FailNext("o_leader", "custom", 43004)
		_, err := w.sender.Notify(ctx, notice)
		pe, ok := errors.AsType[*core.PushError](err)
		if !ok || pe.Code != 43004 || !pe.Permanent() || len(w.sim.Pushes("o_leader")) != 0 {
			t.Fatalf("err %v", err)
		}
	})
	channels := func(t *testing.T, w world, n int) string {
		t.Helper()
		var out []string
		for range n {
			ch, err := w.sender.Notify(ctx, notice)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ch)
		}
		return strings.Join(out, " ")
	}
	t.Run("a message: 5 within 48 hours", func(t *testing.T) {
		w := newWorld(t, false, nil)
		wrote(t, w)
		if got := channels(t, w, 6); got != "custom custom custom custom custom template" {
			t.Fatalf("channels %s", got)
		}
		wrote(t, w)
		w.clock.Add(47 * time.Hour)
		if got := channels(t, w, 1); got != "custom" {
			t.Fatalf("47 hours after a message: %s", got)
		}
		w.clock.Add(time.Hour)
		if got := channels(t, w, 1); got != "template" {
			t.Fatalf("48 hours after a message: %s", got)
		}
		if _, err := w.sim.SendEvent(ctx, "o_leader", "unsubscribe", ""); err != nil {
			t.Fatal(err)
		}
		_, err := w.sender.Notify(ctx, notice)
		if pe, ok := errors.AsType[*core.PushError](err); !ok || pe.Code != 43004 {
			t.Fatalf("after unsubscribe: %v", err)
		}
	})
	for _, tap := range []struct{ name, event, key string }{
		{"a menu tap", "CLICK", "MINE"}, {"a follow", "subscribe", ""}, {"a QR scan", "SCAN", "g1"}} {
		t.Run(tap.name+": 3 within a minute", func(t *testing.T) {
			w := newWorld(t, false, nil)
			if _, err := w.sim.SendEvent(ctx, "o_leader", tap.event, tap.key); err != nil {
				t.Fatal(err)
			}
			if got := channels(t, w, 4); got != "custom custom custom template" {
				t.Fatalf("channels %s", got)
			}
			if _, err := w.sim.SendEvent(ctx, "o_leader", tap.event, tap.key); err != nil {
				t.Fatal(err)
			}
			w.clock.Add(time.Minute)
			if got := channels(t, w, 1); got != "template" {
				t.Fatalf("a minute after: %s", got)
			}
		})
	}
	t.Run("a tap within a message's window spends the tap's sends first", func(t *testing.T) {
		w := newWorld(t, false, nil)
		wrote(t, w)
		if _, err := w.sim.Click(ctx, "o_leader", "MINE"); err != nil {
			t.Fatal(err)
		}
		if got := channels(t, w, 9); got != "custom custom custom custom custom custom custom custom template" {
			t.Fatalf("channels %s", got)
		}
	})
	t.Run("events that open nothing", func(t *testing.T) {
		w := newWorld(t, false, nil)
		for _, ev := range []string{"LOCATION", "TEMPLATESENDJOBFINISH", "unsubscribe"} {
			if _, err := w.sim.SendEvent(ctx, "o_leader", ev, ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.sim.SendEvent(ctx, "o_leader", "subscribe", ""); err != nil {
			t.Fatal(err)
		}
		w.clock.Add(time.Minute)
		if got := channels(t, w, 1); got != "template" {
			t.Fatalf("channels %s", got)
		}
	})
}

// 订阅通知: a grant from the page's subscribe button (the pop-up event)
// lets one progress notice through when the window is closed; then the
// template again.
func TestSubscribeGrants(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, false, nil)
	progress := core.Notice{To: "o_res", Title: "您反映的事项已受理", Text: "石桥村网格长已受理", Case: "ST9", Key: "k",
		Kind: core.NoticeResidentProgress, Values: map[string]string{"number": "ST9", "category": "道路照明", "state": "已受理",
			"handler": "石桥村 · 石桥大网格网格长何家豪（由B岗接办）", "time": "2026-12-03 10:00"}}
	res, err := w.sim.Subscribe(ctx, "o_res", []string{"sub-progress"}, true)
	if err != nil || res.Status != 200 {
		t.Fatalf("subscribe: %v %+v", err, res)
	}
	if _, err := w.sim.Subscribe(ctx, "o_res", []string{"nope"}, true); err == nil {
		t.Fatal("a template the account has not got was granted")
	}
	var got []string
	for i := range 2 {
		progress.Key = fmt.Sprint("k", i)
		ch, err := w.sender.Notify(ctx, progress)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ch)
	}
	if strings.Join(got, " ") != "subscribe template" {
		t.Fatalf("channels %v", got)
	}
	p := w.sim.Pushes("o_res")[0]
	if p.Channel != "subscribe" || p.URL != "https://grid.example.org/wx/cases/ST9" || p.Data["phrase2"] != "已受理" ||
		p.Data["thing3"] != "石桥村 · 石桥大网格网格长何家豪（由…" {
		t.Fatalf("subscribe push %+v", p)
	}
	// A refusal grants nothing.
	if _, err := w.sim.Subscribe(ctx, "o_res", []string{"sub-progress"}, false); err != nil {
		t.Fatal(err)
	}
	if ch, _ := w.sender.Notify(ctx, progress); ch != "template" {
		t.Fatalf("after a refusal: %s", ch)
	}
	if w.sim.Grants("o_res", "sub-progress") != 0 {
		t.Fatal("grants left at WeChat")
	}
}

// Web authorisation: the page inside the phone is sent to authorize, comes
// back with a code, and the code gives the reader's openid once.
func TestWebAuthorisation(t *testing.T) {
	ctx := context.Background()
	var codes []string
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		codes = append(codes, r.URL.Query().Get("code")+"|"+r.URL.Query().Get("state"))
		_, _ = w.Write([]byte("ok"))
	}))
	defer page.Close()
	w := newWorld(t, false, func(c *wechatsim.Config) {
		c.OAuthDomains = []string{strings.TrimPrefix(page.URL, "http://")}
	})
	auth := &bot.WebAuth{AppID: appID, AppSecret: secret, APIBase: w.srv, OAuthBase: w.srv}
	open := func(client *http.Client, redirect string) int {
		t.Helper()
		resp, err := client.Get(auth.AuthorizeURL(redirect, "st8"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := open(w.sim.PhoneBrowser("o_reader"), page.URL+"/wx/cases/ST1"); status != 200 || len(codes) != 1 {
		t.Fatalf("authorize: %d %v", status, codes)
	}
	code, state, _ := strings.Cut(codes[0], "|")
	if state != "st8" {
		t.Fatalf("state %q", state)
	}
	if openid, err := auth.OpenID(ctx, code); err != nil || openid != "o_reader" {
		t.Fatalf("OpenID %q %v", openid, err)
	}
	if _, err := auth.OpenID(ctx, code); !errors.Is(err, bot.ErrBadCode) {
		t.Fatalf("a used code: %v", err)
	}
	if _, err := auth.OpenID(ctx, "made-up"); !errors.Is(err, bot.ErrBadCode) {
		t.Fatalf("a made-up code: %v", err)
	}
	if status := open(w.sim.PhoneBrowser("o_reader"), "https://evil.example.com/steal"); status != 400 {
		t.Fatalf("a redirect outside the domain: %d", status)
	}
	if status := open(http.DefaultClient, page.URL+"/wx/cases/ST1"); status != 403 {
		t.Fatalf("outside WeChat: %d", status)
	}
	wrong := &bot.WebAuth{AppID: appID, AppSecret: "wrong", APIBase: w.srv}
	if _, err := wrong.OpenID(ctx, "x"); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("a wrong secret: %v", err)
	}
}

func TestWaitPush(t *testing.T) {
	w := newWorld(t, false, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, openid := range []string{"o_a", "o_b"} {
		if _, err := w.sim.SendText(ctx, openid, "在"); err != nil {
			t.Fatal(err)
		}
	}
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
	// Five messages, four shown (a menu tap is not) with their five
	// replies: the push is the tenth line.
	_, body := get("/sim/inbox?openid=o_zhang&after=9")
	var inbox struct{ Entries []wechatsim.Entry }
	if err := json.Unmarshal([]byte(body), &inbox); err != nil {
		t.Fatal(err)
	}
	if len(inbox.Entries) != 1 || inbox.Entries[0].Kind != "push" || inbox.Entries[0].N != 10 || inbox.Entries[0].Channel != "custom" {
		t.Fatalf("inbox %s", body)
	}
	_, body = get("/sim/contacts")
	if !strings.Contains(body, "gh_gridbot") || !strings.Contains(body, "居民 张三") {
		t.Fatalf("contacts %s", body)
	}
}
