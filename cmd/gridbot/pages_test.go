package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridbot/internal/valkeytest"
)

// bootPages boots a rig whose pages are reached at a known address, with
// web authorisation played by the simulator: the notices' 详情 links lead
// to this very instance.
func bootPages(t *testing.T) (*rig, string) { return bootPagesWith(t, rigOptions{}) }

// bootPagesWith is bootPages with the rig's options (Valkey, safe mode).
func bootPagesWith(t *testing.T, opts rigOptions) (*rig, string) {
	t.Helper()
	r := prepare(t, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	ready := make(chan URLs, 1)
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() {
		r.done <- Run(ctx, []string{"serve", "-config", r.cfgPath}, Env{
			Stdout: io.Discard, Stderr: r.log,
			Environ: []string{"GRIDBOT_WECHAT_APP_SECRET=e2esecret", "GRIDBOT_HTTP_ADDR=" + addr,
				"GRIDBOT_WECHAT_PUBLIC_BASE=" + base, "GRIDBOT_WECHAT_OAUTH_BASE=" + r.apiURL},
			Ready: func(u URLs) { ready <- u },
		})
	}()
	select {
	case r.urls = <-ready:
	case err := <-r.done:
		t.Fatalf("Run ended before it was ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not become ready")
	}
	r.sim.SetCallbackURL(r.urls.WeChat)
	t.Cleanup(r.shutdown)
	return r, base
}

// pageBrowser is the browser inside openid's WeChat: the simulator's web
// authorisation knows who it is; the pages know only what it proves.
type pageBrowser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func (r *rig) pageBrowser(t *testing.T, base, openid string) *pageBrowser {
	c := r.api.PhoneBrowser(openid)
	c.Jar, _ = cookiejar.New(nil)
	return &pageBrowser{t: t, base: base, c: c}
}

// open follows a link as WeChat's browser does, through web authorisation.
func (b *pageBrowser) open(url string) int {
	b.t.Helper()
	resp, err := b.c.Get(url)
	if err != nil {
		b.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (b *pageBrowser) get(path string, into any) int {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, into); err != nil {
			b.t.Fatalf("%s: %v", path, err)
		}
		var tok struct{ CSRF string }
		json.Unmarshal(body, &tok)
		if tok.CSRF != "" {
			b.csrf = tok.CSRF
		}
	}
	return resp.StatusCode
}

// post takes a step as the page does: a form from the page's own origin
// with the session's CSRF token, and a photo when given.
func (b *pageBrowser) post(path string, fields map[string]string, photo []byte) (int, map[string]any) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if photo != nil {
		w, _ := mw.CreateFormFile("photo", "fix.png")
		w.Write(photo)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.base)
	req.Header.Set("X-CSRF-Token", b.csrf)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// pngPhoto is a 1×1 PNG.
var pngPhoto = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

// A leader who has not written in 48 hours gets the case as a template,
// taps 详情, is known through web authorisation at the simulator, and
// accepts, replies and resolves on the page; the resident follows the case
// on their page and rates it there.
func TestPagesInsideWeChat(t *testing.T) {
	for _, mode := range []struct {
		name  string
		store func(t *testing.T) rigOptions
	}{
		{"embedded, plain mode", func(*testing.T) rigOptions { return rigOptions{} }},
		{"valkey, safe mode", func(t *testing.T) rigOptions {
			return rigOptions{valkey: valkeytest.Addr(t), prefix: valkeytest.Prefix(t), safeMode: true}
		}},
	} {
		t.Run(mode.name, func(t *testing.T) { pagesLoop(t, mode.store(t)) })
	}
}

func pagesLoop(t *testing.T, opts rigOptions) {
	r, base := bootPagesWith(t, opts)
	const leader, resident = "osample-L10-a", "oresident-pages-1"
	number := r.fileByLocation(resident)
	push := r.waitPush(leader, "工单编号："+number)
	if push.Channel != "template" || push.URL != base+"/wx/cases/"+number {
		t.Fatalf("leader's notice: %+v", push)
	}

	lead := r.pageBrowser(t, base, leader)
	if status := lead.open(push.URL); status != http.StatusOK {
		t.Fatalf("详情: %d", status)
	}
	var v map[string]any
	if status := lead.get("/wx/api/cases/"+number, &v); status != http.StatusOK || v["role"] != "staff" ||
		v["phone"] != "13812345678" || !strings.Contains(v["text"].(string), "路灯") {
		t.Fatalf("the leader's page: %d %v", status, v)
	}
	if status, out := lead.post("/wx/api/cases/"+number+"/accept", nil, nil); status != http.StatusOK || out["state"] != "in_progress" {
		t.Fatalf("受理: %d %v", status, out)
	}
	// The resident writes in traditional characters now: the leader's
	// reply, pushed later, reaches them in traditional too (the script is
	// remembered in the store, embedded or Valkey).
	if got := r.say(resident, "多謝你哋，辛苦晒"); got == "" {
		t.Fatal("no answer to thanks")
	}
	if status, out := lead.post("/wx/api/cases/"+number+"/reply", map[string]string{"text": "已通知电工，明早维修"}, nil); status != http.StatusOK {
		t.Fatalf("回复: %d %v", status, out)
	}
	r.waitPush(resident, "已通知電工，明早維修")
	if status, out := lead.post("/wx/api/cases/"+number+"/resolve", map[string]string{"result": "已更换路灯"}, pngPhoto); status != http.StatusOK ||
		out["state"] != "resolved" {
		t.Fatalf("办结: %d %v", status, out)
	}

	// Someone else who got hold of the link sees nothing of the case.
	other := r.pageBrowser(t, base, "ostranger-pages")
	if status := other.open(base + "/wx/cases/" + number); status != http.StatusOK {
		t.Fatalf("the page itself: %d", status)
	}
	if status := other.get("/wx/api/cases/"+number, &v); status != http.StatusNotFound {
		t.Fatalf("a stranger reads the case: %d", status)
	}

	res := r.pageBrowser(t, base, resident)
	if status := res.open(base + "/wx/cases/" + number); status != http.StatusOK {
		t.Fatalf("the resident's page: %d", status)
	}
	if status := res.get("/wx/api/cases/"+number, &v); status != http.StatusOK || v["role"] != "resident" ||
		v["result"] != "已更换路灯" || v["can"].(map[string]any)["rate"] != true {
		t.Fatalf("the resident's view: %d %v", status, v)
	}
	// WeChat's subscribe button: the page's wx.config, signed with the
	// jsapi_ticket the store shares, passes the simulator's check.
	var js struct {
		AppID     string `json:"appId"`
		Timestamp int64  `json:"timestamp"`
		NonceStr  string `json:"nonceStr"`
		Signature string `json:"signature"`
	}
	page := base + "/wx/cases/" + number
	if status := res.get("/wx/api/jsconfig?url="+url.QueryEscape(page), &js); status != http.StatusOK {
		t.Fatalf("wx.config: %d", status)
	}
	if msg := r.api.CheckJSConfig(resident, page, js.AppID, strconv.FormatInt(js.Timestamp, 10), js.NonceStr, js.Signature,
		[]string{"wx-open-subscribe"}); msg != "config:ok" {
		t.Fatalf("the simulator refused the page's wx.config: %s", msg)
	}
	if status, out := res.post("/wx/api/cases/"+number+"/rate", map[string]string{"score": "5"}, nil); status != http.StatusOK ||
		out["state"] != "closed" {
		t.Fatalf("评价: %d %v", status, out)
	}
	staff := r.login("gl-L10-a")
	var view caseView
	if status := staff.get("/api/cases/"+number, &view); status != 200 || view.Case.State != "closed" || view.Case.Rating != 5 {
		t.Fatalf("the case on the console: %d %+v", status, view.Case)
	}
	r.shutdown()
	if log := r.log.String(); strings.Contains(log, "13812345678") || strings.Contains(log, "e2esecret") {
		t.Error("the log holds personal data or the secret")
	}
}
