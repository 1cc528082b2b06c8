package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/wecomsim"
)

// The e2e WeCom app, as the simulator and the configuration know it.
const (
	e2eCorpID = "wwe2ecorp"
	e2eAgent  = 1000002
	e2eAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// weComRig is a gridbot booted through Run with WeCom on: leader A of L10
// (何家豪) has a WeCom userid, everyone else is on WeChat alone.
type weComRig struct {
	*rig
	wecom *wecomsim.Sim
}

// bootWeCom boots like boot, with the wecom section set and directory
// edits applied to the town file (each a regexp and its replacement).
func bootWeCom(t *testing.T, o rigOptions, edits ...[2]string) *weComRig {
	t.Helper()
	sim, api := newWeComSim(t, nil)
	return bootWeComOn(t, o, sim, api, edits...)
}

// newWeComSim is the e2e WeCom on a server of its own; now, when set, is
// its clock.
func newWeComSim(t *testing.T, now func() time.Time) (*wecomsim.Sim, *httptest.Server) {
	t.Helper()
	sim := wecomsim.New(wecomsim.Config{CorpID: e2eCorpID, AgentID: e2eAgent, Secret: "e2e-wecom-secret", Token: "e2ewecomtoken",
		AESKey: e2eAESKey, Members: []wecomsim.Member{{UserID: "hejiahao", Name: "网格长 何家豪"}, {UserID: "outsider", Name: "未绑定"}},
		Robots: map[string]string{"e2e-l10": "石桥网格群", "e2e-v10": "石桥村群"}, Now: now})
	api := httptest.NewServer(sim.Handler())
	t.Cleanup(api.Close)
	return sim, api
}

// bootWeComOn is bootWeCom with the WeCom sim given: instances one after
// another on the same store and the same WeCom.
func bootWeComOn(t *testing.T, o rigOptions, sim *wecomsim.Sim, api *httptest.Server, edits ...[2]string) *weComRig {
	t.Helper()
	o.extra += "wecom:\n  corp_id: " + e2eCorpID + "\n  agent_id: \"1000002\"\n  token: e2ewecomtoken\n  aes_key: " + e2eAESKey +
		"\n  api_base: " + api.URL + "\n"
	o.environ = append(o.environ, "GRIDBOT_WECOM_SECRET=e2e-wecom-secret")
	r := prepare(t, o)
	townPath := filepath.Join(r.dataDir, "town.yaml")
	raw, err := os.ReadFile(townPath)
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(\{id: gl-L10-a, [^}]*)\}`).ReplaceAllString(string(raw), "${1}, wecom_userid: hejiahao}")
	for _, e := range edits {
		text = regexp.MustCompile(e[0]).ReplaceAllString(text, strings.ReplaceAll(e[1], "API", api.URL))
	}
	if err := os.WriteFile(townPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ready := make(chan URLs, 1)
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() {
		r.done <- Run(ctx, []string{"serve", "-config", r.cfgPath}, Env{Stdout: io.Discard, Stderr: r.log,
			Environ: append([]string{"GRIDBOT_WECHAT_APP_SECRET=e2esecret"}, o.environ...), Ready: func(u URLs) { ready <- u }})
	}()
	select {
	case r.urls = <-ready:
	case err := <-r.done:
		t.Fatalf("Run ended before it was ready: %v\n%s", err, r.log)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not become ready")
	}
	r.sim.SetCallbackURL(r.urls.WeChat)
	sim.SetCallbackURL(strings.TrimSuffix(r.urls.Console, "/") + "/wecom")
	t.Cleanup(r.shutdown)
	return &weComRig{rig: r, wecom: sim}
}

// waitCard waits for a WeCom card to userid that mentions what.
func (r *weComRig) waitCard(userid, what string) wecomsim.Entry {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := r.wecom.WaitCard(ctx, userid, func(e wecomsim.Entry) bool {
		return strings.Contains(e.Text, what) || (e.Card != nil && strings.Contains(e.Card.Title+e.Card.Description, what))
	})
	if err != nil {
		r.t.Fatalf("no card to %s with %q: %v (cards: %+v)", userid, what, err, r.wecom.Cards(userid))
	}
	return e
}

// tell sends text from a WeCom member and returns the app's reply.
func (r *weComRig) tell(userid, text string) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := r.wecom.SendText(ctx, userid, text)
	if err != nil {
		r.t.Fatalf("%s says %q: %v", userid, text, err)
	}
	return reply
}

// The whole leader loop with the leader on WeCom and the department on
// WeChat (a mixed town): the new case reaches the leader as a WeCom card
// linking to the case page (not on WeChat); 受理, 回复, 吹哨 and 办结 in the
// app's chat, with the same words and replies as in WeChat; the department
// takes charge from WeChat; the resident gets the reply and rates; every
// push is on the case with its channel.
func TestLeaderLoopOnWeCom(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { leaderLoopOnWeCom(t, rigOptions{}) })
	// On Valkey the member's minute counts, the callback's marks and the
	// robot's counts are the shared store's.
	t.Run("valkey", func(t *testing.T) {
		leaderLoopOnWeCom(t, rigOptions{valkey: valkeytest.Addr(t), prefix: valkeytest.Prefix(t)})
	})
}

func leaderLoopOnWeCom(t *testing.T, o rigOptions) {
	r := bootWeCom(t, o, [2]string{`(?m)^(    leader_a: gl-L10-a)$`,
		"${1}\n    robot_webhook: API/cgi-bin/webhook/send?key=e2e-l10\n    robot_each_case: true"})
	resident := "oresident-wecom-1"
	number := r.fileByLocation(resident)
	card := r.waitCard("hejiahao", number)
	if card.Card == nil || card.Card.URL != "https://grid.example.org/wx/cases/"+number+"?via=wecom" ||
		!strings.Contains(card.Card.Description, "石桥") {
		t.Errorf("the new case's card: %+v", card.Card)
	}
	if got := r.tell("outsider", "受理"); !strings.Contains(got, "绑定") {
		t.Errorf("a member not linked to staff: %q", got)
	}
	// Their photo is not even fetched from WeCom.
	octx, ocancel := context.WithTimeout(context.Background(), 5*time.Second)
	if res, _, err := r.wecom.SendImage(octx, "outsider", "image/jpeg", wecomsim.Photo("outsider")); err != nil ||
		!strings.Contains(res.Reply, "绑定") || r.wecom.MediaGets() != 0 {
		t.Errorf("a photo from a member not linked: %+v %v, %d downloads", res, err, r.wecom.MediaGets())
	}
	ocancel()
	for _, step := range []struct{ say, want string }{
		{"受理", "已受理"},
		{"回复 明天上午派电工来修", "已回复群众"},
		{"吹哨 " + number + " 城建办 线路老化需要城建办换线", "吹哨"},
	} {
		if got := r.tell("hejiahao", step.say); !strings.Contains(got, step.want) || !strings.Contains(got, number) && step.want != "吹哨" {
			t.Fatalf("%s → %q, want %q", step.say, got, step.want)
		}
	}
	r.waitPush(resident, "明天上午派电工来修")
	// A photo from the app's chat reaches the resident as a WeChat photo:
	// fetched from WeCom, uploaded to WeChat, kept with the case. So does
	// a location.
	photo := wecomsim.Photo("石桥路灯")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, _, err := r.wecom.SendImage(ctx, "hejiahao", "image/jpeg", photo)
	if err != nil || !strings.Contains(res.Reply, "已把照片转给群众") || !strings.Contains(res.Reply, number) {
		t.Fatalf("a photo from WeCom: %+v %v", res, err)
	}
	pushed := r.waitPush(resident, "[image sim_upload_")
	id := strings.TrimSuffix(strings.TrimPrefix(pushed.Text, "[image "), "]")
	if got, ok := r.api.Uploaded(id); !ok || !bytes.Equal(got, photo) {
		t.Errorf("the resident's photo %s is not the leader's (%d bytes)", id, len(got))
	}
	if res, err := r.wecom.Post(ctx, "hejiahao", wecomsim.Message{MsgType: "location", Lat: 22.5, Lng: 113.2, Label: "石桥村口"}); err != nil || !strings.Contains(res.Reply, "已把位置转给群众") {
		t.Fatalf("a location from WeCom: %+v %v", res, err)
	}
	r.waitPush(resident, "石桥村口")
	r.waitPush("osample-dept-chengjian", number)
	if got := r.say("osample-dept-chengjian", "领办 "+number); !strings.Contains(got, number) {
		t.Fatalf("the department's 领办 on WeChat: %q", got)
	}
	r.waitCard("hejiahao", "已领办")
	if got := r.tell("hejiahao", "办结 "+number+" 已更换线路和路灯"); !strings.Contains(got, "已办结") {
		t.Fatalf("办结 on WeCom: %q", got)
	}
	r.waitPush(resident, "已更换线路和路灯")
	if got := r.say(resident, "5"); !strings.Contains(got, number) {
		t.Fatalf("rating: %q", got)
	}
	var view struct {
		Case struct {
			State  string       `json:"state"`
			Rating int          `json:"rating"`
			Photos []core.Media `json:"photos"`
		} `json:"case"`
		Events []struct {
			Kind string            `json:"kind"`
			Data map[string]string `json:"data"`
		} `json:"events"`
	}
	r.login("town-admin").get("/api/cases/"+number, &view)
	if view.Case.State != "closed" || view.Case.Rating != 5 {
		t.Fatalf("after the loop: %+v", view.Case)
	}
	relayed := false
	for _, e := range view.Events {
		relayed = relayed || e.Kind == "replied" && e.Data["media_id"] == id
	}
	if !relayed {
		t.Errorf("the relayed photo %s is not on the case", id)
	}
	// It is kept with the case's photos, so staff see it on the console
	// (and retention erases it with the others).
	kept := 0
	for _, p := range view.Case.Photos {
		if p.MediaID == id {
			kept++
		}
	}
	if kept != 1 {
		t.Errorf("the relayed photo %s is among the case's photos %d times: %+v", id, kept, view.Case.Photos)
	}
	if code := r.login("town-admin").get("/api/media/"+id, nil); code != http.StatusOK {
		t.Errorf("the relayed photo on the console: %d", code)
	}
	channels := map[string]string{}
	for _, e := range view.Events {
		if e.Kind == "delivered" {
			channels[e.Data["to"]] += e.Data["channel"] + " "
		}
	}
	if !strings.Contains(channels["gl-L10-a"], "wecom") || strings.Contains(channels["gl-L10-a"], "custom") ||
		strings.Contains(channels["gl-L10-a"], "template") || channels["dept-chengjian"] == "" || strings.Contains(channels["dept-chengjian"], "wecom") {
		t.Errorf("deliveries by recipient: %v", channels)
	}
	for _, p := range r.api.Pushes("osample-L10-a") {
		t.Errorf("the WeCom leader was pushed on WeChat too: %+v", p)
	}
	// The grid's team group heard of the new case, without the resident.
	var posts []string
	for deadline := time.Now().Add(5 * time.Second); len(posts) == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		posts = posts[:0]
		for _, p := range r.wecom.RobotPosts("e2e-l10") {
			if strings.Contains(p.Content, "新事项") {
				posts = append(posts, p.Content)
			}
		}
	}
	if len(posts) != 1 || !strings.Contains(posts[0], number) || strings.Contains(posts[0], "13812345678") ||
		strings.Contains(posts[0], "路灯一到晚上") {
		t.Errorf("the group's new-case posts: %q", posts)
	}
	// /metrics counts WeCom's callbacks, pushes and robot posts as it
	// counts WeChat's.
	m := r.metrics()
	for series, least := range map[string]float64{
		`gridbot_wecom_callbacks_total{outcome="answered",type="text"}`:          4,
		`gridbot_wecom_callbacks_total{outcome="answered",type="image"}`:         1,
		`gridbot_wecom_callbacks_total{outcome="not_staff",type="text"}`:         1,
		`gridbot_wecom_reply_seconds_count`:                                      7,
		`gridbot_pushes_total{channel="wecom",errcode="0",outcome="delivered"}`:  2,
		`gridbot_wecom_robot_posts_total{kind="new_case",outcome="posted"}`:      1,
		`gridbot_pushes_total{channel="custom",errcode="0",outcome="delivered"}`: 1,
	} {
		if m[series] < least {
			t.Errorf("%s = %v, want at least %v", series, m[series], least)
		}
	}
}

// postJSON posts body to u and decodes the answer into out.
func postJSON(t *testing.T, u string, body, out any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d", u, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// The demo runs the leader loop with 石桥's leader A on WeCom, through the
// simulators' own pages: a resident files on the phone, the card reaches
// 何家豪's WeCom, he accepts, replies and resolves there, the grid's group
// hears of the case, and the resident rates.
func TestDemoLeaderOnWeCom(t *testing.T) {
	urls, _, _ := startDemo(t, 10*time.Second, "-data", t.TempDir(), "-history", "0")
	resident := func(kind, text string, extra map[string]any) string {
		body := map[string]any{"openid": "oresident-demo-01", "kind": kind, "text": text}
		maps.Copy(body, extra)
		var out struct{ Reply string }
		postJSON(t, urls.SimAPI+"/sim/send", body, &out)
		return out.Reply
	}
	leader := func(text string) string {
		var out struct{ Reply string }
		postJSON(t, urls.WeCom+"sim/send", map[string]string{"userid": demoWeComLeader, "text": text}, &out)
		return out.Reply
	}
	resident("text", "报事", nil)
	resident("text", "道路照明", nil)
	resident("text", "石桥村口的路灯坏了", nil)
	resident("location", "", map[string]any{"lat": demoLat, "lng": demoLng, "label": "石桥村口"})
	resident("text", "13812345678", nil)
	m := caseNumber.FindStringSubmatch(resident("text", "确认", nil))
	if m == nil {
		t.Fatal("the resident's case was not filed")
	}
	number := m[1]
	var chat []struct {
		Kind string
		Text string
		Card *struct{ URL string }
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get(urls.WeCom + "sim/chat?userid=" + demoWeComLeader)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&chat)
		resp.Body.Close()
		if len(chat) > 0 && chat[0].Card != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no card in 何家豪's WeCom: %+v", chat)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.HasSuffix(chat[0].Card.URL, "/wx/cases/"+number+"?via=wecom") {
		t.Errorf("the card opens %q", chat[0].Card.URL)
	}
	for _, step := range []struct{ say, want string }{{"受理", "已受理"}, {"回复 电工下午就到", "已回复群众"}, {"照片", "已把照片转给群众"},
		{"吹哨 " + number + " 城建办 线路老化需要换线", "吹哨"}, {"领办", "已领办"}, {"办结 " + number + " 已修好", "已办结"}} {
		got := ""
		switch step.say {
		case "照片":
			// The page's 照片 button: a photo from the app's chat.
			var out struct{ Reply string }
			postJSON(t, urls.WeCom+"sim/send", map[string]any{"userid": demoWeComLeader, "photo": true}, &out)
			got = out.Reply
		case "领办":
			// 城建办, on WeChat, takes charge once the whistle reaches it.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				var out struct{ Reply string }
				postJSON(t, urls.SimAPI+"/sim/send", map[string]any{"openid": "osample-dept-chengjian", "kind": "text", "text": "领办 " + number}, &out)
				if got = out.Reply; strings.Contains(got, step.want) || time.Now().After(deadline) {
					break
				}
			}
		default:
			got = leader(step.say)
		}
		if !strings.Contains(got, step.want) || !strings.Contains(got, number) {
			t.Fatalf("%s → %q", step.say, got)
		}
	}
	var inbox struct {
		Entries []struct{ Kind, Text, Image string }
	}
	photoPushed := false
	for deadline := time.Now().Add(10 * time.Second); !photoPushed && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(urls.SimAPI + "/sim/inbox?openid=oresident-demo-01")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&inbox)
		resp.Body.Close()
		for _, e := range inbox.Entries {
			photoPushed = photoPushed || e.Kind == "push" && strings.HasPrefix(e.Image, "/sim/media/sim_upload_")
		}
	}
	if !photoPushed {
		t.Errorf("the leader's photo did not reach the resident's WeChat: %+v", inbox.Entries)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if got := resident("text", "5", nil); strings.Contains(got, number) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the resident could not rate")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A leader on WeCom chooses WeChat in the app's chat, and the next case
// reaches them on WeChat and not on WeCom; they choose WeCom again from
// WeChat's chat; when the app can no longer reach them (taken out of its
// visible range: a permanent refusal) the case goes by WeChat at once, and
// both tries are on the case.
func TestChannelChoiceOnWeCom(t *testing.T) {
	r := bootWeCom(t, rigOptions{})
	if got := r.tell("hejiahao", "帮助"); !strings.Contains(got, "通知走企业微信 / 通知走微信") {
		t.Errorf("帮助 in the app: %q", got)
	}
	if got := r.tell("hejiahao", "通知走微信"); !strings.Contains(got, "先发到微信") {
		t.Fatalf("通知走微信 in the app: %q", got)
	}
	first := r.fileByLocation("oresident-choice-1")
	r.waitPush("osample-L10-a", first)
	for _, c := range r.wecom.Cards("hejiahao") {
		if strings.Contains(c.Text+fmt.Sprint(c.Card), first) {
			t.Errorf("a leader who chose WeChat got the case on WeCom: %+v", c)
		}
	}
	if got := r.say("osample-L10-a", "通知走企业微信"); !strings.Contains(got, "先发到企业微信") {
		t.Fatalf("通知走企业微信 on WeChat: %q", got)
	}
	r.wecom.OutOfRange("hejiahao", true)
	second := r.fileByLocation("oresident-choice-2")
	r.waitPush("osample-L10-a", second)
	var view struct {
		Events []struct {
			Kind string            `json:"kind"`
			Data map[string]string `json:"data"`
		} `json:"events"`
	}
	var tries []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r.login("town-admin").get("/api/cases/"+second, &view)
		tries = tries[:0]
		for _, e := range view.Events {
			if (e.Kind == "delivered" || e.Kind == "undeliverable") && e.Data["to"] == "gl-L10-a" {
				tries = append(tries, e.Kind+" "+e.Data["channel"]+" "+e.Data["errcode"])
			}
		}
		if len(tries) >= 2 {
			break
		}
	}
	if len(tries) != 2 || tries[0] != "undeliverable wecom 81013" || !strings.HasPrefix(tries[1], "delivered custom") {
		t.Errorf("the leader's tries: %q", tries)
	}
}

// A member bound to another grid's leader acts on a case that is not
// theirs, from the app's chat and from the case page: every command is
// answered as if the case did not exist, the page does not open, and the
// case is as it was.
func TestWeComStaffCannotTouchOthersCases(t *testing.T) {
	r := bootWeCom(t, rigOptions{}, [2]string{`(\{id: gl-L11-a, [^}]*)\}`, "${1}, wecom_userid: outsider}"})
	number := r.fileByLocation("oresident-intrude-1")
	r.waitCard("hejiahao", number)
	for _, cmd := range []string{"受理 " + number, "回复 " + number + " 我来处理", "办结 " + number + " 已处理",
		"吹哨 " + number + " 城建办 需要协助", "转B " + number, "延期 " + number + " 3 等配件", "会商 " + number + " 需要会商"} {
		if got := r.tell("outsider", cmd); !strings.Contains(got, "没有找到编号："+number) {
			t.Errorf("another grid's leader: %s → %q", cmd, got)
		}
	}
	// Nothing was relayed by them: a photo has no case to go to.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if res, _, err := r.wecom.SendImage(ctx, "outsider", "image/jpeg", wecomsim.Photo("intruder")); err != nil || strings.Contains(res.Reply, "已把照片转给群众") {
		t.Errorf("their photo: %+v %v", res, err)
	}
	var view struct {
		Case struct {
			State string `json:"state"`
		} `json:"case"`
		Events []struct {
			Kind  string `json:"kind"`
			Actor string `json:"actor"`
		} `json:"events"`
	}
	r.login("town-admin").get("/api/cases/"+number, &view)
	if view.Case.State != "assigned" {
		t.Errorf("the case is %s", view.Case.State)
	}
	for _, e := range view.Events {
		if e.Actor == "gl-L11-a" {
			t.Errorf("an event by the intruder: %+v", e)
		}
	}
	// Through WeCom's web authorisation the case's leader reads the case;
	// the other grid's leader does not.
	console, err := url.Parse(r.urls.Console)
	if err != nil {
		t.Fatal(err)
	}
	read := func(userid string) int {
		c := r.wecom.MemberBrowser(userid)
		c.Jar, _ = cookiejar.New(nil)
		// The pages' public base (grid.example.org) is this instance.
		c.Transport = publicBaseTransport{next: c.Transport, to: console.Host}
		const page = "https://grid.example.org/wx/"
		resp, err := c.Get(page + "cases/" + number + "?via=wecom")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp, err = c.Get(page + "api/cases/" + number); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := read("hejiahao"); got != http.StatusOK {
		t.Errorf("the case's leader reads it through WeCom: %d", got)
	}
	if got := read("outsider"); got == http.StatusOK {
		t.Error("another grid's leader read the case through WeCom")
	}
}

// publicBaseTransport sends what is addressed to the public base
// (grid.example.org) to the instance at to, over plain HTTP.
type publicBaseTransport struct {
	next http.RoundTripper
	to   string
}

func (p publicBaseTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == "grid.example.org" {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = "http", p.to
		r.Host = p.to
	}
	return p.next.RoundTrip(r)
}

// A new case for a group whose robot is busy waits in the store's queue;
// the service stops before it is posted, and the next one on the same
// store posts it, once.
func TestGroupPostSurvivesARestart(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sim, api := newWeComSim(t, clock)
	webhook := api.URL + "/cgi-bin/webhook/send?key=e2e-l10"
	// Someone else spent the robot's minute: WeCom refuses gridbot's post.
	for range wecomsim.RobotPerMinute {
		resp, err := http.Post(webhook, "application/json", strings.NewReader(`{"msgtype":"text","text":{"content":"别的消息"}}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	edit := [2]string{`(?m)^(    leader_a: gl-L10-a)$`, "${1}\n    robot_webhook: API/cgi-bin/webhook/send?key=e2e-l10\n    robot_each_case: true"}
	dir := t.TempDir()
	first := bootWeComOn(t, rigOptions{dataDir: dir}, sim, api, edit)
	number := first.fileByLocation("oresident-queue-1")
	for deadline := time.Now().Add(10 * time.Second); sim.RobotRefused("e2e-l10") == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("gridbot never tried to post the new case")
		}
	}
	first.shutdown()
	mu.Lock()
	now = now.Add(2 * time.Minute) // the robot's minute is over
	mu.Unlock()
	// Only the new-case posts count: from 08:00 to 10:00 in the town the
	// morning digest goes out at start-up too, and lists the case.
	posted := func() int {
		n := 0
		for _, p := range sim.RobotPosts("e2e-l10") {
			if strings.HasPrefix(p.Content, "**新事项") {
				n += strings.Count(p.Content, "["+number+"]")
			}
		}
		return n
	}
	if posted() != 0 {
		t.Fatalf("posted before the restart")
	}
	bootWeComOn(t, rigOptions{dataDir: dir}, sim, api, edit)
	for deadline := time.Now().Add(10 * time.Second); posted() == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the queued case was not posted after the restart")
		}
	}
	time.Sleep(2500 * time.Millisecond) // two more flushes
	if n := posted(); n != 1 {
		t.Errorf("the case was posted %d times", n)
	}
}
