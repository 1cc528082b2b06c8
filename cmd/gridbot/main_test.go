package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"gridbot/console"
	"gridbot/totp"
	"gridbot/wechatsim"
)

// rig is one gridbot booted through Run on :0 ports, with a simulated WeChat.
type rig struct {
	t   testing.TB
	sim *wechatsim.Sim // sends this instance's callbacks
	// api plays WeChat's API (tokens, pushes); instances of one service
	// share it, each with its own sim for callbacks.
	api     *wechatsim.Sim
	apiURL  string
	urls    URLs
	stop    context.CancelFunc
	done    chan error
	dataDir string
	cfgPath string
	log     *testLog
	// peer is the instance whose store this one shares; secrets are the
	// TOTP secrets of the people enrolled through the rig, usedCodes the
	// codes it sent (kept on the first instance of a service).
	peer      *rig
	secrets   sync.Map
	usedCodes sync.Map
}

const testPassword = "E2e-password"

// townFile writes the sample town with a password for the L10 leaders and
// the admin, and A of L10 marked away when away is set.
func townFile(t testing.TB, dir string, away bool) string {
	t.Helper()
	raw, err := os.ReadFile("../../configs/town.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, id := range []string{"gl-L10-a", "gl-L10-b", "town-admin", "sys-admin", "audit-admin", "sec-admin"} {
		re := regexp.MustCompile(`(\{id: ` + id + `, [^}]*)\}`)
		extra := `, password_hash: "` + string(hash) + `"`
		if away && id == "gl-L10-a" {
			extra += ", away: true"
		}
		text = re.ReplaceAllString(text, "${1}"+strings.ReplaceAll(extra, "$", "$$")+"}")
	}
	p := filepath.Join(dir, "town.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type rigOptions struct {
	away     bool
	safeMode bool
	dataDir  string // reuse a store; "" makes a new one
	// valkey and prefix, when set, run on the Valkey store.
	valkey, prefix string
	// peer, when set, is an instance of the same service: share its API.
	peer *rig
	// joinRadius offers 附议 for cases this near; the tests that file many
	// alike cases leave it 0 (off).
	joinRadius int
	// extra is appended to the configuration file; environ to the
	// environment.
	extra   string
	environ []string
	// secondFactor asks console logins for a TOTP code, as serve does by
	// default; the tests that are not about logins run without it, and
	// login answers the code itself when it is on.
	secondFactor bool
}

func boot(t testing.TB, o rigOptions) *rig {
	t.Helper()
	r := prepare(t, o)
	ready := make(chan URLs, 1)
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() {
		r.done <- Run(ctx, []string{"serve", "-config", r.cfgPath}, Env{
			Stdout: io.Discard, Stderr: r.log,
			// The secret comes from the environment, as in production.
			Environ: append([]string{"GRIDBOT_WECHAT_APP_SECRET=e2esecret", secondFactorEnv(o.secondFactor),
				// Tests log one person in on several instances at once;
				// TestServeEndsOlderSessions runs serve's default.
				"GRIDBOT_SECURITY_CONCURRENT_SESSIONS=allow"}, o.environ...),
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
	return r
}

// prepare makes an instance's simulator and configuration file.
func prepare(t testing.TB, o rigOptions) *rig {
	t.Helper()
	r := &rig{t: t, dataDir: o.dataDir, done: make(chan error, 1), log: &testLog{}, peer: o.peer}
	if r.dataDir == "" {
		r.dataDir = t.TempDir()
	}
	aesKey := ""
	if o.safeMode {
		aesKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))[:43]
	}
	r.sim = wechatsim.New(wechatsim.Config{Token: "e2etoken", AppID: "wxe2e", AppSecret: "e2esecret", AESKey: aesKey,
		Templates: wechatsim.Library(), SubscribeTemplates: wechatsim.SubscribeLibrary(),
		ASRSecretID: "AKIDe2e", ASRSecretKey: "e2easrkey"})
	if o.peer != nil {
		r.api, r.apiURL = o.peer.api, o.peer.apiURL
	} else {
		simSrv := httptest.NewServer(r.sim.Handler())
		t.Cleanup(simSrv.Close)
		r.api, r.apiURL = r.sim, simSrv.URL
	}
	storeCfg := "store:\n  path: " + filepath.Join(r.dataDir, "gridbot.db") + "\n"
	if o.valkey != "" {
		// The path places the admin token file (admin-token beside it).
		storeCfg = fmt.Sprintf("store:\n  kind: valkey\n  path: "+filepath.Join(r.dataDir, "gridbot.db")+"\nvalkey:\n  addr: [%s]\n  prefix: %q\n  claim_idle: 2s\n", o.valkey, o.prefix)
	}

	cfgPath := filepath.Join(r.dataDir, "gridbot.yaml")
	cfg := fmt.Sprintf(`http:
  addr: 127.0.0.1:0
wechat:
  app_id: wxe2e
  token: e2etoken
  aes_key: %q
  api_base: %s
  public_base: https://grid.example.org
%sasr:
  provider: tencent
  secret_id: AKIDe2e
  secret_key: e2easrkey
  engine: 16k_yue
  endpoint: %s
%stown:
  directory: %s
  categories: ../../configs/categories.yaml
log:
  level: debug
admin:
  addr: 127.0.0.1:0
dialog:
  join_radius_m: %d
%s`, aesKey, r.apiURL, templatesYAML(t), r.apiURL, storeCfg, townFile(t, r.dataDir, o.away), o.joinRadius, o.extra)
	r.cfgPath = cfgPath
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return r
}

// shutdown stops Run and checks it returns cleanly; safe to call twice.
func (r *rig) shutdown() {
	if r.stop == nil {
		return
	}
	r.stop()
	r.stop = nil
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("Run returned %v", err)
		}
	case <-time.After(20 * time.Second):
		r.t.Error("Run did not stop")
	}
}

// metrics scrapes /metrics into series → value.
func (r *rig) metrics() map[string]float64 {
	r.t.Helper()
	resp, err := http.Get(r.urls.Console + "metrics")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		var v float64
		fmt.Sscan(line[i+1:], &v)
		out[line[:i]] = v
	}
	return out
}

// testLog keeps the process log for checks.
type testLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *testLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (r *rig) say(openid, text string) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := r.sim.SendText(ctx, openid, text)
	if err != nil {
		r.t.Fatalf("send %q: %v", text, err)
	}
	return reply
}

func (r *rig) waitPush(openid string, contains string) wechatsim.Push {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := r.api.WaitPush(ctx, openid, func(p wechatsim.Push) bool { return strings.Contains(p.Text, contains) })
	if err != nil {
		r.t.Fatalf("no push to %s containing %q: %v (pushes: %+v)", openid, contains, err, r.api.Pushes(""))
	}
	return p
}

var caseNumber = regexp.MustCompile(`编号：(ST\d{12})`)

// anyCaseNumber is a case number of any town in an answer.
var anyCaseNumber = regexp.MustCompile(`编号：([A-Z]+\d{12})`)

// fileByLocation walks a resident through the intake, placing the case by
// a WeChat location in grid L10, and returns the case number.
func (r *rig) fileByLocation(openid string) string {
	r.t.Helper()
	return r.fileAt(openid, 22.355, 112.545, "石桥村口", "石桥")
}

// fileAt walks a resident through the intake of a streetlight out, placing
// the case by a WeChat location labelled label at lat, lng (whose grid's
// name the answer shows: place), and returns the case number.
func (r *rig) fileAt(openid string, lat, lng float64, label, place string) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	steps := []struct {
		send func() (string, error)
		want string
	}{
		{func() (string, error) { return r.sim.SendText(ctx, openid, "报事") }, "道路照明"},
		{func() (string, error) { return r.sim.SendText(ctx, openid, "道路照明") }, "描述"},
		{func() (string, error) { return r.sim.SendText(ctx, openid, label+"的路灯一到晚上就不亮") }, "位置"},
		{func() (string, error) { return r.sim.SendLocation(ctx, openid, lat, lng, label) }, place},
		{func() (string, error) { return r.sim.SendText(ctx, openid, "13812345678") }, "确认"},
		{func() (string, error) { return r.sim.SendText(ctx, openid, "确认") }, "编号："},
	}
	var reply string
	for i, s := range steps {
		var err error
		if reply, err = s.send(); err != nil {
			r.t.Fatalf("step %d: %v", i, err)
		}
		if !strings.Contains(reply, s.want) {
			r.t.Fatalf("step %d: reply %q does not contain %q", i, reply, s.want)
		}
	}
	m := anyCaseNumber.FindStringSubmatch(reply)
	if m == nil {
		r.t.Fatalf("no case number in %q", reply)
	}
	return m[1]
}

// staffClient is a logged-in console session.
type staffClient struct {
	r    *rig
	http *http.Client
	base string
}

func (r *rig) login(user string) *staffClient {
	r.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &staffClient{r: r, http: &http.Client{Jar: jar, Timeout: 5 * time.Second}, base: strings.TrimSuffix(r.urls.Console, "/")}
	var out map[string]any
	if status := c.post("/api/login", map[string]string{"username": user, "password": testPassword}, &out); status != 200 {
		r.t.Fatalf("login %s: %d %v", user, status, out)
	}
	if out["second_factor"] != nil {
		c.secondFactor(user, out)
	}
	return c
}

// secondFactor answers the code step of a login: enrols (keeping the
// secret for the rig's later logins) or sends the current code.
func (c *staffClient) secondFactor(user string, answer map[string]any) {
	c.r.t.Helper()
	first := c.r
	for first.peer != nil {
		first = first.peer
	}
	secrets := &first.secrets
	if s, ok := answer["secret"].(string); ok {
		secrets.Store(user, s)
	}
	secret, ok := secrets.Load(user)
	if !ok {
		c.r.t.Fatalf("login %s: a code is asked and the rig never enrolled them", user)
	}
	// A step's code is good once: wait for a fresh step when this one was
	// used by an earlier login of the same person.
	var code string
	for {
		var err error
		if code, err = totp.Code(secret.(string), time.Now()); err != nil {
			c.r.t.Fatal(err)
		}
		if _, used := first.usedCodes.LoadOrStore(user+code, true); !used {
			break
		}
		time.Sleep(time.Second)
	}
	var out map[string]any
	if status := c.post("/api/login/code", map[string]string{"code": code}, &out); status != 200 {
		c.r.t.Fatalf("login %s, code: %d %v", user, status, out)
	}
}

// secondFactorEnv is the setting of rigOptions.secondFactor.
func secondFactorEnv(on bool) string {
	if on {
		return "GRIDBOT_SECURITY_SECOND_FACTOR=required"
	}
	return "GRIDBOT_SECURITY_SECOND_FACTOR=off"
}

func (c *staffClient) post(path string, body any, out any) int {
	c.r.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.base)
	req.Header.Set("X-Requested-With", "gridbot")
	return c.do(req, out)
}

func (c *staffClient) get(path string, out any) int {
	c.r.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req, out)
}

func (c *staffClient) do(req *http.Request, out any) int {
	c.r.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// feed opens the console websocket with the client's cookie.
func (c *staffClient) feed() *websocket.Conn {
	c.r.t.Helper()
	u, _ := http.NewRequest("GET", c.base, nil)
	header := http.Header{"Origin": {c.base}}
	for _, ck := range c.http.Jar.Cookies(u.URL) {
		header.Add("Cookie", ck.String())
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(c.base, "http")+"/api/ws", header)
	if err != nil {
		c.r.t.Fatalf("websocket: %v", err)
	}
	c.r.t.Cleanup(func() { ws.Close() })
	return ws
}

// waitEvent reads the feed until an event of kind for number arrives.
func waitEvent(t testing.TB, ws *websocket.Conn, number, kind string) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s of %s on the feed: %v", kind, number, err)
		}
		evs, err := console.DecodeFeed(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Case == number && ev.Kind == kind {
				return
			}
		}
	}
}

type caseView struct {
	Case struct {
		Number   string `json:"number"`
		State    string `json:"state"`
		Assignee string `json:"assignee"`
		Rating   int    `json:"rating"`
		Result   string `json:"result"`
	} `json:"case"`
	Events []struct {
		Kind string `json:"kind"`
	} `json:"events"`
}

// The whole loop: a resident files a case by location, the A-post leader of
// the right grid gets the push, a console sees it live, a console reply
// reaches the resident, resolve → rating → closed. With A away, B gets it.
func TestWholeLoop(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   rigOptions
		leader string
		staff  string
	}{
		{"plain mode, post A", rigOptions{}, "osample-L10-a", "gl-L10-a"},
		{"safe mode, A away so post B", rigOptions{away: true, safeMode: true}, "osample-L10-b", "gl-L10-b"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := boot(t, tt.opts)
			staff := r.login(tt.staff)
			ws := staff.feed()
			resident := "oresident-e2e-1"

			number := r.fileByLocation(resident)
			// The leader has not written in 48 hours: the case reaches them
			// as a template the simulator accepted (every field within its
			// type), linked to the case's page.
			push := r.waitPush(tt.leader, "工单编号："+number)
			if push.Channel != "template" || !strings.Contains(push.Text, "道路照明") || !strings.Contains(push.Text, "石桥") ||
				push.URL != "https://grid.example.org/wx/cases/"+number {
				t.Errorf("leader push lacks the category, place or link: %+v", push)
			}
			waitEvent(t, ws, number, "assigned")

			var view caseView
			if status := staff.get("/api/cases/"+number, &view); status != 200 || view.Case.Assignee != tt.staff {
				t.Fatalf("case as %s: %d %+v", tt.staff, status, view.Case)
			}
			if status := staff.post("/api/cases/"+number+"/reply", map[string]string{"text": "已通知电工，明早维修"}, nil); status != 200 {
				t.Fatalf("reply: %d", status)
			}
			reply := r.waitPush(resident, "已通知电工，明早维修")
			if strings.Contains(reply.Text, "何家豪") || !strings.Contains(reply.Text, "石桥") {
				t.Errorf("the resident should see the grid, not the leader: %q", reply.Text)
			}
			if status := staff.post("/api/cases/"+number+"/resolve", map[string]string{"result": "已更换路灯"}, nil); status != 200 {
				t.Fatalf("resolve: %d", status)
			}
			r.waitPush(resident, "1-5")
			if got := r.say(resident, "5"); !strings.Contains(got, number) {
				t.Fatalf("rating reply %q does not name the case", got)
			}
			waitEvent(t, ws, number, "closed")
			staff.get("/api/cases/"+number, &view)
			if view.Case.State != "closed" || view.Case.Rating != 5 || view.Case.Result != "已更换路灯" {
				t.Fatalf("case after rating: %+v", view.Case)
			}
			if got := len(r.api.Pushes(tt.leader)); got != 1 {
				t.Errorf("the leader got %d pushes, want exactly 1", got)
			}
			// The metrics counted this run.
			metrics := r.metrics()
			for _, want := range []struct {
				series string
				min    float64
			}{
				{`gridbot_dialogs_total{outcome="started"}`, 1},
				{`gridbot_dialogs_total{outcome="finished"}`, 1},
				{`gridbot_callbacks_total{outcome="replied",type="text"}`, 6},
				{`gridbot_callbacks_total{outcome="replied",type="location"}`, 1},
				{`gridbot_pushes_total{channel="template",errcode="0",outcome="delivered"}`, 1},
				{`gridbot_pushes_total{channel="custom",errcode="0",outcome="delivered"}`, 2},
				{`gridbot_cases{state="closed"}`, 1},
				{`gridbot_websocket_clients`, 1},
				{`gridbot_router_handler_seconds_count{handler="assign",outcome="ok"}`, 1},
			} {
				if got, ok := metrics[want.series]; !ok || got < want.min {
					t.Errorf("metric %s = %v (present %v), want at least %v", want.series, got, ok, want.min)
				}
			}
			if got := metrics[`gridbot_cases{state="submitted"}`]; got != 0 {
				t.Errorf("%v cases still submitted", got)
			}

			// Personal data never reaches the log, even at debug level.
			r.shutdown() // and with it the log's last lines
			log := r.log.String()
			if !strings.Contains(log, number) {
				t.Fatalf("the log does not follow the case at all:\n%s", log)
			}
			for _, secret := range []string{"13812345678", "路灯一到晚上", "石桥村口", "已通知电工", "已更换路灯", "e2esecret"} {
				if strings.Contains(log, secret) {
					t.Errorf("the log contains %q", secret)
				}
			}
		})
	}
}

// A retried WeChat message (same MsgId) files one case, and a restart of
// Main on the same data file keeps every case.
func TestRetryAndRestart(t *testing.T) {
	dir := t.TempDir()
	r := boot(t, rigOptions{dataDir: dir})
	resident := "oresident-e2e-2"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, text := range []string{"报事", "1", "垃圾堆在路边", "10", "1", "跳过"} {
		r.say(resident, text)
	}
	first, err := r.sim.Post(ctx, resident, wechatsim.OutgoingMessage{MsgType: "text", Content: "确认"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.sim.Post(ctx, resident, wechatsim.OutgoingMessage{MsgType: "text", Content: "确认", MsgID: first.MsgID, CreateTime: first.CreateTime})
	if err != nil {
		t.Fatal(err)
	}
	if first.Reply != again.Reply || !strings.Contains(first.Reply, "编号：") {
		t.Fatalf("retry answered %q, first %q", again.Reply, first.Reply)
	}
	number := caseNumber.FindStringSubmatch(first.Reply)[1]
	second := r.fileByLocation(resident)

	admin := r.login("town-admin")
	var list struct {
		Cases []struct {
			Number string `json:"number"`
		} `json:"cases"`
	}
	admin.get("/api/cases", &list)
	if len(list.Cases) != 2 {
		t.Fatalf("cases after a retried 确认 and a second case: %+v", list.Cases)
	}
	r.waitPush("osample-L10-a", second)
	r.shutdown()

	r2 := boot(t, rigOptions{dataDir: dir})
	admin = r2.login("town-admin")
	for _, n := range []string{number, second} {
		var view caseView
		if status := admin.get("/api/cases/"+n, &view); status != 200 || view.Case.Number != n {
			t.Fatalf("case %s after restart: %d", n, status)
		}
	}
	if got := r2.say(resident, "我的"); !strings.Contains(got, number) || !strings.Contains(got, second) {
		t.Fatalf("我的 after restart: %q", got)
	}
}

// The demo boots on :0 ports, serves the console and the phone, and the
// logins it prints work. Its first run writes a month of history; a second
// run on the same folder keeps the history and the logins.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	first := runDemoOnce(t, dir, true)
	if !strings.Contains(first, "首次运行") || !strings.Contains(first, "已写入 40 件") || !strings.Contains(first, "dept-chengjian") ||
		!strings.Contains(first, "上手指南") {
		t.Errorf("the first run's output:\n%s", first)
	}
	second := runDemoOnce(t, dir, false)
	if strings.Contains(second, "首次运行") {
		t.Errorf("the second run wrote history again:\n%s", second)
	}
	login := regexp.MustCompile(`town-admin\s+(\S+)`)
	if a, b := login.FindStringSubmatch(first), login.FindStringSubmatch(second); a == nil || b == nil || a[1] != b[1] {
		t.Errorf("the login changed between runs: %v %v", a, b)
	}
}

// startDemo runs `gridbot demo args…` on loopback until it is ready
// (within wait), and returns its URLs, what it prints, and its stop, which
// the test's end calls too and which fails the test if the demo ended badly.
func startDemo(t *testing.T, wait time.Duration, args ...string) (URLs, *bytes.Buffer, func()) {
	t.Helper()
	ready := make(chan URLs, 1)
	out := new(bytes.Buffer)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append(append([]string{"demo"}, args...), "-addr", "127.0.0.1:0", "-sim-addr", "127.0.0.1:0"),
			Env{Stdout: out, Stderr: io.Discard, Ready: func(u URLs) { ready <- u }})
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("demo returned %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case urls := <-ready:
		return urls, out, stop
	case err := <-done:
		done <- err // for the stop
		t.Fatalf("demo ended: %v", err)
	case <-time.After(wait):
		t.Fatal("demo not ready")
	}
	return URLs{}, nil, nil
}

// runDemoOnce runs the demo on dir until it is ready, checks its pages
// and its printed login (and, when cases, that the console lists the
// history), stops it, and returns what it printed.
func runDemoOnce(t *testing.T, dir string, cases bool) string {
	t.Helper()
	urls, out, stop := startDemo(t, 30*time.Second, "-data", dir, "-history", "40")
	defer stop()
	for _, u := range []string{urls.Console, urls.Phone} {
		resp, err := http.Get(u)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", u, err, resp)
		}
		resp.Body.Close()
	}
	m := regexp.MustCompile(`town-admin\s+(\S+)`).FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), urls.Phone) {
		t.Fatalf("demo output lacks the login or the phone URL:\n%s", out.String())
	}
	console := strings.TrimSuffix(urls.Console, "/")
	body, _ := json.Marshal(map[string]string{"username": "town-admin", "password": m[1]})
	req, _ := http.NewRequest("POST", console+"/api/login", bytes.NewReader(body))
	req.Header.Set("Origin", console)
	req.Header.Set("X-Requested-With", "gridbot")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("demo login: %v %v", err, resp)
	}
	resp.Body.Close()
	if cases {
		req, _ := http.NewRequest("GET", console+"/api/cases?state=", nil)
		for _, c := range resp.Cookies() {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list struct{ Cases []json.RawMessage }
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if len(list.Cases) < 40 {
			t.Errorf("the console lists %d cases of the history", len(list.Cases))
		}
	}
	return out.String()
}

// A neighbour reporting the same problem nearby joins the open case (附议)
// and is told the case is resolved, without the words staff wrote to the
// first resident.
func TestJoinSameProblem(t *testing.T) {
	r := boot(t, rigOptions{joinRadius: 200})
	number := r.fileByLocation("oresident-join-1")
	neighbour := "oresident-join-2"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.say(neighbour, "报事")
	r.say(neighbour, "道路照明")
	r.say(neighbour, "村口路灯坏了好几天")
	offer, err := r.sim.SendLocation(ctx, neighbour, 22.3551, 112.5451, "")
	// The offer shows category, place and date, never the case's words.
	if err != nil || !strings.Contains(offer, "道路照明 · 石桥村") || !strings.Contains(offer, "附议") {
		t.Fatalf("no 附议 offer for %s: %q %v", number, offer, err)
	}
	if got := r.say(neighbour, "附议"); !strings.Contains(got, number) {
		t.Fatalf("joining answered %q", got)
	}
	staff := r.login("gl-L10-a")
	if status := staff.post("/api/cases/"+number+"/resolve", map[string]string{"result": "已更换路灯"}, nil); status != 200 {
		t.Fatalf("resolve: %d", status)
	}
	r.waitPush("oresident-join-1", "已更换路灯")
	r.waitPush(neighbour, "您附议的事项已办结")
	for _, p := range r.sim.Pushes(neighbour) {
		if strings.Contains(p.Text, "已更换路灯") {
			t.Errorf("the neighbour read the result written to the first resident: %q", p.Text)
		}
	}
	var view struct {
		Case struct {
			Joined int `json:"joined"`
		} `json:"case"`
	}
	staff.get("/api/cases/"+number, &view)
	if view.Case.Joined != 1 {
		t.Fatalf("the console shows %d joined residents, want 1", view.Case.Joined)
	}
}

// A grid leader works the case from their own WeChat: the push, then 受理,
// 回复 and 办结 without typing the case number; the resident gets the reply
// under the grid's name and the rating question. A stranger's 办结 does
// nothing.
func TestLeaderWorksFromWeChat(t *testing.T) {
	r := boot(t, rigOptions{})
	resident, leader := "oresident-chat-1", "osample-L10-a"
	number := r.fileByLocation(resident)
	r.waitPush(leader, number)

	if got := r.say("ostranger-1", "办结 "+number+" 已处理"); strings.Contains(got, "已办结") {
		t.Fatalf("a stranger resolved the case: %q", got)
	}
	for _, step := range []struct{ say, want string }{
		{"受理", "已受理"},
		{"回复 明天上午派电工来修", "已回复群众"},
		{"办结 已更换路灯", "已办结"},
	} {
		if got := r.say(leader, step.say); !strings.Contains(got, step.want) || !strings.Contains(got, number) {
			t.Fatalf("%s → %q, want %q and the case number", step.say, got, step.want)
		}
	}
	reply := r.waitPush(resident, "明天上午派电工来修")
	if strings.Contains(reply.Text, "何家豪") {
		t.Errorf("the resident sees the leader's name: %q", reply.Text)
	}
	r.waitPush(resident, "已更换路灯")
	if got := r.say(resident, "4"); !strings.Contains(got, number) {
		t.Fatalf("rating: %q", got)
	}
	var view caseView
	r.login("town-admin").get("/api/cases/"+number, &view)
	if view.Case.State != "closed" || view.Case.Rating != 4 {
		t.Fatalf("after the leader's chat and the rating: %+v", view.Case)
	}
}
