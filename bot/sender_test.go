package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridbot/bot"
	"gridbot/core"
	"gridbot/store/embedded"
)

const testSecret = "s3cr3t-app-secret"

// fakeAPI is a scripted WeChat API: answers are taken from per-path queues
// (then errcode 0), and requests are recorded.
type fakeAPI struct {
	mu       sync.Mutex
	answers  map[string][]map[string]any
	requests []apiRequest
	tokens   atomic.Int64 // stable_token calls
	token    string       // the token stable_token hands out
	delay    time.Duration
}

type apiRequest struct {
	Path  string
	Token string
	Body  map[string]any
}

func (f *fakeAPI) script(path string, answers ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.answers == nil {
		f.answers = map[string][]map[string]any{}
	}
	f.answers[path] = append(f.answers[path], answers...)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	f.requests = append(f.requests, apiRequest{Path: r.URL.Path, Token: r.URL.Query().Get("access_token"), Body: body})
	var answer map[string]any
	if q := f.answers[r.URL.Path]; len(q) > 0 {
		answer, f.answers[r.URL.Path] = q[0], q[1:]
	}
	tok := f.token
	f.mu.Unlock()
	if s, ok := answer["status"].(int); ok {
		w.WriteHeader(s)
		return
	}
	if answer == nil {
		answer = map[string]any{"errcode": 0, "errmsg": "ok"}
		if r.URL.Path == "/cgi-bin/stable_token" {
			answer = map[string]any{"access_token": tok, "expires_in": 7200}
		}
	}
	if r.URL.Path == "/cgi-bin/stable_token" {
		f.tokens.Add(1)
		time.Sleep(f.delay)
	}
	_ = json.NewEncoder(w).Encode(answer)
}

func (f *fakeAPI) paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		out = append(out, r.Path)
	}
	return out
}

func (f *fakeAPI) last(path string) apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].Path == path {
			return f.requests[i]
		}
	}
	return apiRequest{}
}

func newFakeAPI(t *testing.T) (*fakeAPI, *httptest.Server) {
	api := &fakeAPI{token: "TOKEN-1"}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return api, srv
}

func newSender(t *testing.T, base, templateID string) *bot.Sender {
	t.Helper()
	tokens := bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: base})
	cfg := bot.SenderConfig{Tokens: tokens, APIBase: base, PublicBase: "https://grid.example.org/"}
	if templateID != "" {
		cfg.Templates = map[core.NoticeKind]bot.NoticeTemplate{core.NoticeStaffCase: {ID: templateID, Fields: staffCaseFields}}
	}
	s, err := bot.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	custom   = "/cgi-bin/message/custom/send"
	template = "/cgi-bin/message/template/send"
	stable   = "/cgi-bin/stable_token"
)

// staffCaseFields maps the library's 工单待办提醒 as the README says.
var staffCaseFields = map[string]string{"thing1": "category", "character_string2": "number", "thing3": "place", "time4": "deadline"}

func TestSender(t *testing.T) {
	notice := core.Notice{To: "o_leader", Title: "新事项待处理", Text: "幸福路路灯不亮", Case: "GB-2025-0001", Key: "evt-17",
		Kind: core.NoticeStaffCase, Values: map[string]string{"category": "道路照明", "number": "GB-2025-0001",
			"place": "石桥村 · 石桥大网格 村口往东第三根电线杆旁边的小卖部门口", "deadline": "2026-12-06 17:15"}}
	tests := []struct {
		name       string
		templateID string
		script     map[string][]map[string]any
		channel    string
		code       int // expected PushError code; 0 = success
		paths      []string
	}{
		{"custom ok", "TPL", nil, "custom", 0, []string{stable, custom}},
		{"window closed falls back", "TPL",
			map[string][]map[string]any{custom: {{"errcode": 45015, "errmsg": "response out of time limit"}}},
			"template", 0, []string{stable, custom, template}},
		{"quota spent falls back", "TPL",
			map[string][]map[string]any{custom: {{"errcode": 45047, "errmsg": "out of response count limit"}}},
			"template", 0, []string{stable, custom, template}},
		{"no template configured", "",
			map[string][]map[string]any{custom: {{"errcode": 45015, "errmsg": "response out of time limit"}}},
			"", 45015, []string{stable, custom}},
		{"not following is permanent", "TPL",
			map[string][]map[string]any{custom: {{"errcode": 43004, "errmsg": "require subscribe"}}},
			"", 43004, []string{stable, custom}},
		{"template fails too", "TPL",
			map[string][]map[string]any{
				custom:   {{"errcode": 45015, "errmsg": "x"}},
				template: {{"errcode": 40037, "errmsg": "invalid template_id"}}},
			"", 40037, []string{stable, custom, template}},
		{"stale token refreshed once", "TPL",
			map[string][]map[string]any{
				custom: {{"errcode": 40001, "errmsg": "invalid credential"}},
				stable: {{"access_token": "TOKEN-1", "expires_in": 7200}, {"access_token": "TOKEN-2", "expires_in": 7200}}},
			"custom", 0, []string{stable, custom, stable, custom}},
		{"stale token twice gives up", "TPL",
			map[string][]map[string]any{
				custom: {{"errcode": 42001, "errmsg": "access_token expired"}, {"errcode": 42001, "errmsg": "access_token expired"}},
				stable: {{"access_token": "TOKEN-1", "expires_in": 7200}, {"access_token": "TOKEN-2", "expires_in": 7200}}},
			"", 42001, []string{stable, custom, stable, custom}},
		{"busy server", "TPL",
			map[string][]map[string]any{custom: {{"errcode": -1, "errmsg": "system error"}}},
			"", -1, []string{stable, custom}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, srv := newFakeAPI(t)
			for p, a := range tt.script {
				api.script(p, a...)
			}
			ch, err := newSender(t, srv.URL, tt.templateID).Notify(context.Background(), notice)
			if tt.code == 0 {
				if err != nil || ch != tt.channel {
					t.Fatalf("Notify = %q, %v; want %q", ch, err, tt.channel)
				}
			} else {
				pe, ok := errors.AsType[*core.PushError](err)
				if !ok || pe.Code != tt.code {
					t.Fatalf("Notify error %v, want PushError %d", err, tt.code)
				}
			}
			if got := strings.Join(api.paths(), " "); got != strings.Join(tt.paths, " ") {
				t.Fatalf("calls %s\nwant  %s", got, strings.Join(tt.paths, " "))
			}
			c := api.last(custom)
			if c.Body["touser"] != "o_leader" || c.Body["msgtype"] != "text" {
				t.Fatalf("custom body %v", c.Body)
			}
			if text := c.Body["text"].(map[string]any)["content"]; text != "新事项待处理\n幸福路路灯不亮\n编号：GB-2025-0001" {
				t.Fatalf("custom text %q", text)
			}
			if ch == "template" {
				tp := api.last(template)
				data, _ := json.Marshal(tp.Body["data"])
				want := `{"character_string2":{"value":"GB-2025-0001"},"thing1":{"value":"道路照明"},"thing3":{"value":"石桥村 · 石桥大网格 村口往东第三根…"},"time4":{"value":"2026-12-06 17:15"}}`
				if tp.Body["template_id"] != "TPL" || tp.Body["client_msg_id"] != "evt-17" || tp.Body["touser"] != "o_leader" ||
					string(data) != want || tp.Body["url"] != "https://grid.example.org/wx/cases/GB-2025-0001" {
					t.Fatalf("template body %v\n%s", tp.Body, data)
				}
			}
			if tt.name == "stale token refreshed once" && api.last(custom).Token != "TOKEN-2" {
				t.Fatalf("retry used token %q", api.last(custom).Token)
			}
		})
	}
}

func TestSenderTransportErrors(t *testing.T) {
	api, srv := newFakeAPI(t)
	api.token = "TOKEN-SECRET-123"
	api.script(custom, map[string]any{"status": 502})
	s := newSender(t, srv.URL, "TPL")
	_, err := s.Notify(context.Background(), core.Notice{To: "o", Text: "x"})
	if err == nil || errors.As(err, new(*core.PushError)) {
		t.Fatalf("http 502: err %v, want a plain error", err)
	}
	srv.Close() // now the network fails
	_, err = s.Notify(context.Background(), core.Notice{To: "o", Text: "x"})
	if err == nil || errors.As(err, new(*core.PushError)) {
		t.Fatalf("closed server: err %v, want a plain error", err)
	}
	if strings.Contains(err.Error(), "TOKEN-SECRET-123") {
		t.Fatalf("error leaks the token: %v", err)
	}
	if _, err := s.Notify(context.Background(), core.Notice{Text: "x"}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("no recipient: %v", err)
	}
}

func TestTokenSource(t *testing.T) {
	t.Run("cached and shared", func(t *testing.T) {
		api, srv := newFakeAPI(t)
		api.delay = 50 * time.Millisecond
		ts := bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL})
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if tok, err := ts.GetAccessTokenContext(context.Background()); err != nil || tok != "TOKEN-1" {
					t.Errorf("token %q, %v", tok, err)
				}
			})
		}
		wg.Wait()
		if tok, _ := ts.GetAccessToken(); tok != "TOKEN-1" {
			t.Fatalf("token %q", tok)
		}
		if n := api.tokens.Load(); n != 1 {
			t.Fatalf("%d fetches, want 1", n)
		}
		b := api.last(stable).Body
		if b["grant_type"] != "client_credential" || b["appid"] != testAppID || b["secret"] != testSecret || b["force_refresh"] != nil {
			t.Fatalf("stable_token body %v", b)
		}
	})
	t.Run("refreshed ahead of expiry", func(t *testing.T) {
		api, srv := newFakeAPI(t)
		var mu sync.Mutex
		now := fixedNow
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		ts := bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL, Now: clock, Margin: 5 * time.Minute})
		ts.GetAccessToken()
		for _, step := range []struct {
			at      time.Duration
			fetches int64
		}{{time.Hour, 1}, {7200*time.Second - 5*time.Minute - time.Second, 1}, {7200*time.Second - 5*time.Minute, 2}} {
			mu.Lock()
			now = fixedNow.Add(step.at)
			mu.Unlock()
			ts.GetAccessToken()
			if n := api.tokens.Load(); n != step.fetches {
				t.Fatalf("at %v: %d fetches, want %d", step.at, n, step.fetches)
			}
		}
	})
	t.Run("invalidate only the rejected token", func(t *testing.T) {
		api, srv := newFakeAPI(t)
		ts := bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL})
		ts.GetAccessToken()
		ts.Invalidate(context.Background(), "SOME-OLDER-TOKEN")
		ts.GetAccessToken()
		if n := api.tokens.Load(); n != 1 {
			t.Fatalf("%d fetches after invalidating another token", n)
		}
		api.mu.Lock()
		api.token = "TOKEN-2"
		api.mu.Unlock()
		ts.Invalidate(context.Background(), "TOKEN-1")
		if tok, _ := ts.GetAccessToken(); tok != "TOKEN-2" || api.tokens.Load() != 2 {
			t.Fatalf("token %q after %d fetches", tok, api.tokens.Load())
		}
	})
	t.Run("forced when WeChat hands back the rejected token", func(t *testing.T) {
		api, srv := newFakeAPI(t)
		api.script(stable, map[string]any{"access_token": "TOKEN-1", "expires_in": 7200},
			map[string]any{"access_token": "TOKEN-1", "expires_in": 7200},
			map[string]any{"access_token": "TOKEN-2", "expires_in": 7200})
		ts := bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL})
		ts.GetAccessToken()
		ts.Invalidate(context.Background(), "TOKEN-1")
		if tok, err := ts.GetAccessToken(); tok != "TOKEN-2" || err != nil {
			t.Fatalf("token %q, %v", tok, err)
		}
		if api.last(stable).Body["force_refresh"] != true {
			t.Fatal("no force_refresh")
		}
	})
	t.Run("errors are typed and scrubbed", func(t *testing.T) {
		api, srv := newFakeAPI(t)
		api.script(stable, map[string]any{"errcode": 40125, "errmsg": "invalid appsecret " + testSecret})
		ts := bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL})
		_, err := ts.GetAccessTokenContext(context.Background())
		te, ok := errors.AsType[*bot.TokenError](err)
		if !ok || te.Code != 40125 {
			t.Fatalf("err %v, want TokenError 40125", err)
		}
		if strings.Contains(err.Error(), testSecret) {
			t.Fatalf("error leaks the secret: %v", err)
		}
		// A failure is not cached.
		if tok, err := ts.GetAccessToken(); err != nil || tok != "TOKEN-1" {
			t.Fatalf("second try %q, %v", tok, err)
		}
	})
	t.Run("caller gives up, fetch goes on", func(t *testing.T) {
		api, srv := newFakeAPI(t)
		api.delay = 100 * time.Millisecond
		ts := bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		if _, err := ts.GetAccessTokenContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v", err)
		}
		if tok, err := ts.GetAccessToken(); err != nil || tok != "TOKEN-1" || api.tokens.Load() != 1 {
			t.Fatalf("token %q, %v after %d fetches", tok, err, api.tokens.Load())
		}
	})
}

// Instances sharing a store share one token: one fetch between them, and
// after WeChat rejects it one refresh between them.
func TestTokenSourceShared(t *testing.T) {
	api, srv := newFakeAPI(t)
	api.delay = 50 * time.Millisecond
	shared := &memEphemeral{}
	var sources []*bot.TokenSource
	for range 3 {
		sources = append(sources, bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL, Shared: shared}))
	}
	get := func(want string) {
		t.Helper()
		var wg sync.WaitGroup
		for _, ts := range sources {
			for range 5 {
				wg.Go(func() {
					if tok, err := ts.GetAccessTokenContext(context.Background()); err != nil || tok != want {
						t.Errorf("token %q, %v; want %s", tok, err, want)
					}
				})
			}
		}
		wg.Wait()
	}
	get("TOKEN-1")
	if n := api.tokens.Load(); n != 1 {
		t.Fatalf("%d fetches for three instances, want 1", n)
	}
	api.mu.Lock()
	api.token = "TOKEN-2"
	api.mu.Unlock()
	for _, ts := range sources {
		ts.Invalidate(context.Background(), "TOKEN-1")
	}
	get("TOKEN-2")
	if n := api.tokens.Load(); n != 2 {
		t.Fatalf("%d fetches after a rejection, want 2", n)
	}
}

// The window and quota are tracked per openid: inside the window five
// customer-service messages go out, the sixth goes straight to the
// template; a new message from the user opens a fresh quota; 48 hours later
// the window is closed and the template goes first.
func TestSenderSpendsTheQuota(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := embedded.Open(filepath.Join(t.TempDir(), "w.db"), embedded.Options{CasePrefix: "ST", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	window := &bot.Window{Store: st, Now: clock}
	api, srv := newFakeAPI(t)
	tokens := bot.NewTokenSource(bot.TokenConfig{AppID: testAppID, AppSecret: testSecret, APIBase: srv.URL})
	s, err := bot.NewSender(bot.SenderConfig{Tokens: tokens, APIBase: srv.URL, Window: window,
		Templates: map[core.NoticeKind]bot.NoticeTemplate{core.NoticeStaffCase: {ID: "TPL", Fields: staffCaseFields}}})
	if err != nil {
		t.Fatal(err)
	}
	send := func() string {
		t.Helper()
		ch, err := s.Notify(ctx, core.Notice{To: "o_res", Title: "t", Text: "x", Case: "ST1", Kind: core.NoticeStaffCase})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	customs := func() int {
		n := 0
		for _, p := range api.paths() {
			if p == custom {
				n++
			}
		}
		return n
	}
	if ch := send(); ch != bot.ChannelTemplate || customs() != 0 {
		t.Fatalf("never wrote: %s after %d custom tries; want the template only", ch, customs())
	}
	if err := window.Inbound(ctx, core.Message{From: "o_res", Kind: core.MessageText}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 6 {
		got = append(got, send())
	}
	if strings.Join(got, " ") != "custom custom custom custom custom template" || customs() != 5 {
		t.Fatalf("after one message: %v with %d custom tries", got, customs())
	}
	if err := window.Inbound(ctx, core.Message{From: "o_res", Kind: core.MessageText}); err != nil {
		t.Fatal(err)
	}
	if ch := send(); ch != bot.ChannelCustom {
		t.Fatalf("a new message did not renew the quota: %s", ch)
	}
	now = now.Add(48 * time.Hour)
	if ch := send(); ch != bot.ChannelTemplate || customs() != 6 {
		t.Fatalf("48 h later: %s after %d custom tries", ch, customs())
	}
}
