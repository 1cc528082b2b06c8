package wecom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"gridbot/core"
	"gridbot/store/embedded"
	"gridbot/wecom"
	"gridbot/wecomsim"
)

const (
	corpID = "wwsimcorp0001"
	secret = "sim-secret"
	token  = "simtoken"
	aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

type rig struct {
	sim  *wecomsim.Sim
	app  *wecom.App
	api  *httptest.Server
	keys *embedded.MemoryKeys
}

func newRig(t testing.TB) *rig {
	t.Helper()
	sim := wecomsim.New(wecomsim.Config{CorpID: corpID, AgentID: 1000002, Secret: secret, Token: token, AESKey: aesKey,
		Members: []wecomsim.Member{{UserID: "zhangwei", Name: "网格长 张伟"}, {UserID: "lina", Name: "李娜"}},
		Robots:  map[string]string{"key-l10": "第十网格群"}})
	api := httptest.NewServer(sim.Handler())
	t.Cleanup(api.Close)
	app, err := wecom.NewApp(wecom.Config{CorpID: corpID, AgentID: "1000002", Secret: secret, Token: token, AESKey: aesKey,
		APIBase: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{sim: sim, app: app, api: api, keys: &embedded.MemoryKeys{}}
}

// A notice reaches a member as a card that opens the case page; a member
// the app cannot reach is refused for good; a stale token is renewed once.
func TestSenderCards(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	s := &wecom.Sender{App: r.app, Counts: r.keys, PublicBase: "https://grid.example.org"}
	n := core.Notice{To: "zhangwei", Title: "新事项：环境卫生", Case: "ST202612030001",
		Text: "地点：以东村 · 第一网格\n内容：垃圾<没人>清\n请回复“受理”接单。", Values: map[string]string{core.ValueTime: "2026-12-03 09:00"}}
	if ch, err := s.Notify(ctx, n); err != nil || ch != "wecom" {
		t.Fatalf("notify: %q %v", ch, err)
	}
	cards := r.sim.Cards("zhangwei")
	if len(cards) != 1 || cards[0].Card == nil {
		t.Fatalf("cards: %+v", cards)
	}
	c := cards[0].Card
	if c.URL != "https://grid.example.org/wx/cases/ST202612030001?via=wecom" || c.Title != n.Title ||
		!strings.Contains(c.Description, "垃圾&lt;没人&gt;清") || !strings.Contains(c.Description, "编号：ST202612030001") {
		t.Errorf("card: %+v", c)
	}
	// A long notice still fits WeCom's 512 bytes.
	long := n
	long.Text = strings.Repeat("很长的描述", 200)
	if _, err := s.Notify(ctx, long); err != nil {
		t.Errorf("a long notice: %v", err)
	}
	_, err := s.Notify(ctx, core.Notice{To: "nobody", Title: "x", Text: "y", Case: "ST1"})
	pe, ok := errors.AsType[*core.PushError](err)
	if !ok || !pe.Permanent() || pe.Code != 81013 {
		t.Errorf("unknown member: %v", err)
	}
	for _, to := range []string{"zhangwei|lina", "@all", "@ALL", "", "张伟", strings.Repeat("a", 65)} {
		if _, err := s.Notify(ctx, core.Notice{To: to, Title: "x", Text: "y"}); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("recipient %q: %v", to, err)
		}
	}
	calls := r.sim.TokenCalls()
	r.sim.ExpireTokens()
	if _, err := s.Notify(ctx, n); err != nil {
		t.Errorf("after the token expired: %v", err)
	}
	if got := r.sim.TokenCalls(); got != calls+1 {
		t.Errorf("token calls %d → %d, want one more", calls, got)
	}
}

// Forty notices to one member in a minute: thirty are sent, the rest are
// refused by the sender (a retry later may pass) before WeCom would drop
// them without a word; twenty senders at once share one token.
func TestSenderKeepsMemberRate(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	s := &wecom.Sender{App: r.app, Counts: r.keys, PublicBase: "https://grid.example.org"}
	var sent, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			_, err := s.Notify(ctx, core.Notice{To: "lina", Title: "新事项", Text: "第" + strconv.Itoa(i) + "件", Case: fmt.Sprint("ST", i)})
			pe, ok := errors.AsType[*core.PushError](err)
			switch {
			case err == nil:
				sent.Add(1)
			case ok && pe.Code == 45009 && !pe.Permanent():
				limited.Add(1)
			default:
				t.Errorf("send %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if sent.Load() != wecom.MemberPerMinute || limited.Load() != 10 || r.sim.Dropped("lina") != 0 || len(r.sim.Cards("lina")) != 30 {
		t.Errorf("sent %d, limited %d, dropped by WeCom %d, cards %d", sent.Load(), limited.Load(), r.sim.Dropped("lina"), len(r.sim.Cards("lina")))
	}
	if r.sim.TokenCalls() != 1 {
		t.Errorf("%d token calls for one burst", r.sim.TokenCalls())
	}
}

// fakeDesk answers staff it knows and counts what it was asked.
type fakeDesk struct {
	mu    sync.Mutex
	asked []core.Message
	fail  bool
}

func (d *fakeDesk) Answer(_ context.Context, m core.Message) (string, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, m)
	if d.fail {
		return "", false, errors.New("store down")
	}
	if m.From != "wecom:zhangwei" {
		return "", false, nil
	}
	switch m.Kind {
	case core.MessageLocation:
		return "已把位置转给群众。", true, nil
	case core.MessageImage:
		return "照片 " + m.MediaID + " " + m.PicURL, true, nil
	case core.MessageOther:
		return "", true, nil
	}
	return "已受理：" + m.Text, true, nil
}

func (d *fakeDesk) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.asked)
}

func newCallback(t *testing.T, r *rig, desk wecom.Desk) string {
	t.Helper()
	cb, err := wecom.NewCallback(wecom.CallbackConfig{App: r.app, Desk: desk, Dedupe: r.keys, MaxBody: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(cb)
	t.Cleanup(srv.Close)
	r.sim.SetCallbackURL(srv.URL)
	return srv.URL
}

// Members' messages reach the desk as their WeCom address; one not linked
// to staff is asked to bind; a retried or replayed message is answered the
// same and reaches the desk once; a failing desk gets a polite answer and
// the retry another try.
func TestCallbackMessages(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	desk := &fakeDesk{}
	newCallback(t, r, desk)
	if got, err := r.sim.SendText(ctx, "zhangwei", "受理"); err != nil || got != "已受理：受理" {
		t.Fatalf("reply %q %v", got, err)
	}
	if got, _ := r.sim.SendText(ctx, "lina", "受理"); got != wecom.NotStaffReply {
		t.Errorf("not staff: %q", got)
	}
	res, err := r.sim.Post(ctx, "zhangwei", wecomsim.Message{MsgType: "text", Content: "办结 ST1 已清理"})
	if err != nil || res.Reply == "" {
		t.Fatal(res, err)
	}
	before := desk.count()
	again, err := r.sim.Post(ctx, "zhangwei", wecomsim.Message{MsgType: "text", Content: "办结 ST1 已清理", MsgID: res.MsgID, CreateTime: res.CreateTime})
	if err != nil || again.Reply != res.Reply || desk.count() != before {
		t.Errorf("a retry: %q (first %q), desk asked %d → %d", again.Reply, res.Reply, before, desk.count())
	}
	// A photo reaches the desk with WeCom's media ID, which the desk's
	// photo bridge fetches; one whose ID WeCom cannot have made, and a
	// video, are what the chat cannot carry.
	if res, _ := r.sim.Post(ctx, "zhangwei", wecomsim.Message{MsgType: "image", MediaID: "2-m1_x", PicURL: "https://x/p.jpg"}); res.Reply != "照片 2-m1_x https://x/p.jpg" {
		t.Errorf("photo: %q", res.Reply)
	}
	for _, m := range []wecomsim.Message{{MsgType: "image", MediaID: "../../etc/passwd"}, {MsgType: "video", MediaID: "v1"}} {
		if res, _ := r.sim.Post(ctx, "zhangwei", m); res.Reply != wecom.OtherReply {
			t.Errorf("%s %q: %q", m.MsgType, m.MediaID, res.Reply)
		}
	}
	if res, _ := r.sim.Post(ctx, "zhangwei", wecomsim.Message{MsgType: "location", Lat: 22.35, Lng: 112.56, Label: "幸福路"}); res.Reply != "已把位置转给群众。" {
		t.Errorf("location: %q", res.Reply)
	}
	desk.mu.Lock()
	desk.fail = true
	desk.mu.Unlock()
	res, _ = r.sim.Post(ctx, "zhangwei", wecomsim.Message{MsgType: "text", Content: "我的"})
	if res.Reply != wecom.BusyReply {
		t.Errorf("desk down: %q", res.Reply)
	}
	desk.mu.Lock()
	desk.fail = false
	desk.mu.Unlock()
	again, _ = r.sim.Post(ctx, "zhangwei", wecomsim.Message{MsgType: "text", Content: "我的", MsgID: res.MsgID, CreateTime: res.CreateTime})
	if again.Reply != "已受理：我的" {
		t.Errorf("the retry after a failure: %q", again.Reply)
	}
}

// Bad input changes nothing and is answered before anything is decrypted
// or read: a bad signature, a stale timestamp, a huge body, a message for
// another app, garbage, a sender posing as another channel.
func TestCallbackRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	desk := &fakeDesk{}
	var mu sync.Mutex
	seen := map[string]int{}
	cb, err := wecom.NewCallback(wecom.CallbackConfig{App: r.app, Desk: desk, Dedupe: r.keys, MaxBody: 8 << 10,
		Observe: func(kind, outcome string, _ time.Duration) { mu.Lock(); seen[kind+" "+outcome]++; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(cb)
	t.Cleanup(srv.Close)
	r.sim.SetCallbackURL(srv.URL)
	url0 := srv.URL
	inner := []byte("<xml><ToUserName>" + corpID + "</ToUserName><FromUserName>zhangwei</FromUserName><CreateTime>" +
		strconv.FormatInt(time.Now().Unix(), 10) + "</CreateTime><MsgType>text</MsgType><Content>受理</Content><MsgId>9</MsgId><AgentID>1000002</AgentID></xml>")
	if res, err := r.sim.PostRaw(ctx, url0, inner, strings.Repeat("0", 40)); err != nil || res.Status != http.StatusForbidden {
		t.Errorf("bad signature: %d %v", res.Status, err)
	}
	other := []byte(strings.Replace(string(inner), "<AgentID>1000002", "<AgentID>1000003", 1))
	if res, _ := r.sim.PostRaw(ctx, url0, other, ""); res.Status != http.StatusForbidden {
		t.Errorf("another app: %d", res.Status)
	}
	posing := []byte(strings.Replace(string(inner), "zhangwei", "wecom:zhangwei", 1))
	if res, _ := r.sim.PostRaw(ctx, url0, posing, ""); res.Status != http.StatusBadRequest {
		t.Errorf("a userid with a colon: %d", res.Status)
	}
	if res, _ := r.sim.PostRaw(ctx, url0, []byte("not xml <<<"), ""); res.Status != http.StatusBadRequest {
		t.Errorf("garbage inside: %d", res.Status)
	}
	post := func(query, body string) int {
		resp, err := http.Post(url0+"?"+query, "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	now := strconv.FormatInt(time.Now().Unix(), 10)
	huge := "<xml><Encrypt>" + strings.Repeat("A", 1<<20) + "</Encrypt></xml>"
	if got := post("msg_signature=abc&timestamp="+now+"&nonce=n", huge); got != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d", got)
	}
	old := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	enc := "QUJD"
	sig := util.Signature(token, old, "n", enc)
	if got := post("msg_signature="+sig+"&timestamp="+old+"&nonce=n", "<xml><Encrypt>"+enc+"</Encrypt></xml>"); got != http.StatusForbidden {
		t.Errorf("stale timestamp: %d", got)
	}
	if got := post("timestamp="+now, "<xml/>"); got != http.StatusForbidden {
		t.Errorf("no signature: %d", got)
	}
	if desk.count() != 0 {
		t.Errorf("bad input reached the desk %d times", desk.count())
	}
	// /metrics hears of every refusal, as of WeChat's.
	mu.Lock()
	defer mu.Unlock()
	if seen["unknown forbidden"] != 4 || seen["unknown bad_request"] != 2 || seen["unknown too_large"] != 1 {
		t.Errorf("observed %v", seen)
	}
}

// WeCom checks the URL with an encrypted echostr; the answer is its
// plaintext, and only when signed.
func TestCallbackVerifiesURL(t *testing.T) {
	r := newRig(t)
	u := newCallback(t, r, &fakeDesk{})
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte("echo-4321"), corpID, aesKey)
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	for _, tt := range []struct {
		sig    string
		status int
		body   string
	}{
		{util.Signature(token, ts, "n1", string(enc)), 200, "echo-4321"},
		{util.Signature("wrong", ts, "n1", string(enc)), 403, ""},
	} {
		q := url.Values{"msg_signature": {tt.sig}, "timestamp": {ts}, "nonce": {"n1"}, "echostr": {string(enc)}}
		resp, err := http.Get(u + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, _ = fmt.Fprint(&b, readAll(resp))
		if resp.StatusCode != tt.status || (tt.body != "" && b.String() != tt.body) {
			t.Errorf("verify: %d %q, want %d %q", resp.StatusCode, b.String(), tt.status, tt.body)
		}
	}
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// Web authorisation: the member comes back with a code that stands for
// their WeCom address, once.
func TestWebAuth(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	auth := &wecom.WebAuth{App: r.app, OAuthBase: r.api.URL}
	var got string
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got = req.URL.Query().Get("code")
	}))
	defer back.Close()
	resp, err := r.sim.MemberBrowser("zhangwei").Get(auth.AuthorizeURL(back.URL+"/wx/auth", "st1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got == "" {
		t.Fatal("no code came back")
	}
	if who, err := auth.OpenID(ctx, got); err != nil || who != "wecom:zhangwei" {
		t.Errorf("code → %q %v", who, err)
	}
	if _, err := auth.OpenID(ctx, got); err == nil {
		t.Error("a used code was taken again")
	}
}

// The member's bound holds for every minute, not only the clock's: thirty
// cards at 12:00:50 leave none for 12:01:05, when a minute counted from
// 12:01:00 would have had room and WeCom would have dropped them; at
// 12:02:01 there is room again.
func TestSenderRateAcrossTheMinute(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 3, 12, 0, 50, 0, time.UTC)}
	sim := wecomsim.New(wecomsim.Config{CorpID: corpID, AgentID: 1000002, Secret: secret, Token: token, AESKey: aesKey,
		Members: []wecomsim.Member{{UserID: "lina", Name: "李娜"}}, Now: clk.Now})
	api := httptest.NewServer(sim.Handler())
	defer api.Close()
	app, err := wecom.NewApp(wecom.Config{CorpID: corpID, AgentID: "1000002", Secret: secret, Token: token, AESKey: aesKey,
		APIBase: api.URL, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	s := &wecom.Sender{App: app, Counts: &embedded.MemoryKeys{Now: clk.Now}}
	n := core.Notice{To: "lina", Title: "新事项", Text: "x"}
	for i := range 30 {
		if _, err := s.Notify(ctx, n); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	clk.Add(15 * time.Second)
	if _, err := s.Notify(ctx, n); err == nil {
		t.Error("a 31st card within a minute was sent")
	}
	clk.Add(56 * time.Second)
	if _, err := s.Notify(ctx, n); err != nil {
		t.Errorf("a minute later: %v", err)
	}
	if sim.Dropped("lina") != 0 || len(sim.Cards("lina")) != 31 {
		t.Errorf("dropped %d, cards %d", sim.Dropped("lina"), len(sim.Cards("lina")))
	}
}

// A hundred copies of one message at once (WeCom's retries and a replayer
// racing them) reach the desk once; every copy answered gets the first
// copy's answer, or an empty body while it is being made.
func TestCallbackHundredReplaysAtOnce(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	desk := &fakeDesk{}
	newCallback(t, r, desk)
	at := time.Now().Unix()
	var wg sync.WaitGroup
	var mu sync.Mutex
	replies := map[string]int{}
	for range 100 {
		wg.Go(func() {
			res, err := r.sim.Post(ctx, "zhangwei", wecomsim.Message{MsgType: "text", Content: "受理 ST1", MsgID: 424242, CreateTime: at})
			mu.Lock()
			defer mu.Unlock()
			if err != nil || res.Status != http.StatusOK {
				replies[fmt.Sprintf("error %d %v", res.Status, err)]++
				return
			}
			replies[res.Reply]++
		})
	}
	wg.Wait()
	delete(replies, "") // a copy that came while the first was answered
	if desk.count() != 1 || len(replies) != 1 || replies["已受理：受理 ST1"] == 0 {
		t.Errorf("desk asked %d times; answers %v", desk.count(), replies)
	}
}
