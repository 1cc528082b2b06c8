package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"
	"golang.org/x/crypto/bcrypt"

	"gridbot/configs"
	"gridbot/console"
	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/store/embedded"
	"gridbot/wechatsim"
)

// cityTownFile writes the second sample town (configs/city/chishui.yaml)
// with a password for its town admin and the leaders of L02.
func cityTownFile(t testing.TB, dir string) string {
	t.Helper()
	raw, err := os.ReadFile("../../configs/city/chishui.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, id := range []string{"cs-gl-L02-a", "cs-gl-L02-b", "town-admin"} {
		re := regexp.MustCompile(`(\{id: ` + id + `, [^}]*)\}`)
		text = re.ReplaceAllString(text, "${1}"+strings.ReplaceAll(`, password_hash: "`+string(hash)+`"`, "$", "$$")+"}")
	}
	p := filepath.Join(dir, "chishui.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// cityStaffHash is testPassword's hash, for the city's staff.
func cityStaffHash(t testing.TB) string {
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(hash)
}

// Open311 keys of the two towns in bootCity.
const (
	shatangOpen311Key = "shatang-hotline-key-0001"
	chishuiOpen311Key = "chishui-hotline-key-0001"
)

// bootCity runs serve through Run on :0 with two towns, shatang (the
// sample town) and chishui, on one account and one listener; environ is
// added to the environment.
func bootCity(t *testing.T, storeCfg string, environ ...string) *rig {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{Token: "e2etoken", AppID: "wxe2e", AppSecret: "e2esecret"})
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	return bootCityWith(t, storeCfg, sim, simSrv.URL, environ...)
}

// bootCityWith is bootCity on the simulator sim serving at apiURL.
func bootCityWith(t *testing.T, storeCfg string, sim *wechatsim.Sim, apiURL string, environ ...string) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{t: t, dataDir: dir, done: make(chan error, 1), log: &testLog{}}
	r.sim, r.api, r.apiURL = sim, sim, apiURL
	if storeCfg == "" {
		storeCfg = "store:\n  path: " + filepath.Join(dir, "gridbot.db") + "\n"
	}
	cfg := fmt.Sprintf(`http:
  addr: 127.0.0.1:0
wechat:
  app_id: wxe2e
  token: e2etoken
  api_base: %s
  public_base: https://grid.example.org
%sadmin:
  addr: ""
log:
  level: debug
town:
  categories: ../../configs/categories.yaml
city:
  name: 开平市（测试）
  staff:
    - {id: city-viewer, name: 市级查看员, password_hash: "%s"}
towns:
  - key: shatang
    directory: %s
    open311_api_keys: ["hotline:%s"]
  - key: chishui
    directory: %s
    open311_api_keys: ["hotline:%s"]
`, r.apiURL, storeCfg, cityStaffHash(t), townFile(t, dir, false), shatangOpen311Key, cityTownFile(t, dir), chishuiOpen311Key)
	r.cfgPath = filepath.Join(dir, "gridbot.yaml")
	if err := os.WriteFile(r.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ready := make(chan URLs, 1)
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() {
		r.done <- Run(ctx, []string{"serve", "-config", r.cfgPath}, Env{Stdout: io.Discard, Stderr: r.log,
			Environ: append([]string{"GRIDBOT_WECHAT_APP_SECRET=e2esecret", secondFactorEnv(false)}, environ...),
			Ready:   func(u URLs) { ready <- u }})
	}()
	select {
	case r.urls = <-ready:
	case err := <-r.done:
		t.Fatalf("Run ended before it was ready: %v\n%s", err, r.log)
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not become ready")
	}
	r.sim.SetCallbackURL(r.urls.WeChat)
	t.Cleanup(r.shutdown)
	return r
}

// fileIn walks a routed resident through the intake, placing the case by a
// location, and returns the case number.
func (r *rig) fileIn(openid string, lat, lng float64, place string) string {
	r.t.Helper()
	return r.fileAt(openid, lat, lng, "村口", place)
}

// loginTown logs user in to town's console, choosing the town first as
// the login page does.
func (r *rig) loginTown(town, user string) *staffClient {
	r.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &staffClient{r: r, http: &http.Client{Jar: jar, Timeout: 5 * time.Second}, base: strings.TrimSuffix(r.urls.Console, "/")}
	if status := c.post("/api/town", map[string]string{"town": town}, nil); status != 200 {
		r.t.Fatalf("choose town %s: %d", town, status)
	}
	var out map[string]any
	if status := c.post("/api/login", map[string]string{"username": user, "password": testPassword}, &out); status != 200 {
		r.t.Fatalf("login %s/%s: %d %v", town, user, status, out)
	}
	return c
}

// cookie is the client's cookie of that name.
func (c *staffClient) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// raw sends a GET with exactly these cookies (no jar), as an attacker
// would put them together, and returns the status and body.
func (r *rig) raw(path string, cookies map[string]string) (int, string) {
	r.t.Helper()
	req, _ := http.NewRequest("GET", strings.TrimSuffix(r.urls.Console, "/")+path, nil)
	for k, v := range cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// open311 asks the city's Open311 endpoint, the key in the form body.
func (r *rig) open311(method, path, body string) (int, string) {
	r.t.Helper()
	req, _ := http.NewRequest(method, strings.TrimSuffix(r.urls.Console, "/")+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Points inside each town's grids: 石桥 (shatang L10) and 大同 (chishui L02).
const (
	shatangLat, shatangLng = 22.355, 112.545
	chishuiLat, chishuiLng = 22.29, 112.47
)

func TestCityTownsIsolated(t *testing.T) {
	r := bootCity(t, "")
	stCase, csCase := testCityTownsIsolated(t, r, true)
	r.shutdown()
	// The store commands take the town: its own file, nothing of another.
	out := filepath.Join(r.dataDir, "export.json")
	env := Env{Stdout: io.Discard, Stderr: io.Discard, Environ: []string{}}
	since := time.Now().AddDate(0, 0, -2).Format("2006-01-02")
	if err := Run(context.Background(), []string{"export", "-config", r.cfgPath, "-since", since, "-o", out}, env); err == nil ||
		!strings.Contains(err.Error(), "-town (shatang, chishui)") {
		t.Fatalf("export without -town: %v", err)
	}
	if err := Run(context.Background(), []string{"export", "-config", r.cfgPath, "-town", "nosuch", "-since", since, "-o", out}, env); err == nil {
		t.Fatal("export of an unknown town")
	}
	if err := Run(context.Background(), []string{"export", "-config", r.cfgPath, "-town", "chishui", "-since", since, "-o", out}, env); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(raw), csCase) || strings.Contains(string(raw), stCase) {
		t.Fatalf("chishui's export: %v %.300s", err, raw)
	}
	backup := filepath.Join(r.dataDir, "chishui-backup.db")
	if err := Run(context.Background(), []string{"backup", "-config", r.cfgPath, "-town", "chishui", "-o", backup}, env); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), []string{"backup", "-config", r.cfgPath, "-o", backup}, env); err == nil {
		t.Fatal("a city's backup without -town")
	}
	// Each town's audit trail is its own: chishui's holds its town admin's
	// login and nothing of shatang's.
	var trail bytes.Buffer
	if err := Run(context.Background(), []string{"audit", "export", "-config", r.cfgPath, "-town", "chishui"},
		Env{Stdout: &trail, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(trail.String(), "town-admin") || strings.Contains(trail.String(), stCase) {
		t.Fatalf("chishui's trail:\n%.500s", trail.String())
	}
}

// The same on Valkey: each town under keys of its own, the routes under
// the city's.
func TestCityTownsIsolatedOnValkey(t *testing.T) {
	cityOnValkey(t, []string{valkeytest.Addr(t)})
}

// The same on a cluster of three masters: each town's ledger on its own
// tag's master.
func TestCityTownsIsolatedOnThreeMasters(t *testing.T) {
	addrs := valkeytest.SharedCluster(t)
	// The sample towns' tags fall in slots 4992 and 5933: the first and
	// second masters of three.
	if a, b := valkeytest.NodeOf(t, addrs, "{gb:shatang}"), valkeytest.NodeOf(t, addrs, "{gb:chishui}"); a == b {
		t.Errorf("both towns on %s", a)
	}
	cityOnValkey(t, addrs)
}

func cityOnValkey(t *testing.T, addrs []string) {
	prefix := valkeytest.Prefix(t)
	dir := t.TempDir()
	r := bootCity(t, fmt.Sprintf("store:\n  kind: valkey\n  path: %s\nvalkey:\n  addr: [%s]\n  prefix: %q\n  claim_idle: 2s\n",
		filepath.Join(dir, "gridbot.db"), strings.Join(addrs, ", "), prefix))
	st, cs := testCityTownsIsolated(t, r, false)
	// Each town's case under its own hash tag and prefix, on its tag's
	// master; the routes under the city's.
	client, err := valkey.NewClient(valkey.ClientOption{InitAddress: addrs, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()
	for _, k := range []struct{ tag, key string }{
		{"gb:shatang", prefix + "town:shatang:{gb:shatang}:case:" + st},
		{"gb:chishui", prefix + "town:chishui:{gb:chishui}:case:" + cs},
		{"", prefix + "town:shatang:{gb:shatang}:case:" + cs},
		{"", prefix + "town:chishui:{gb:chishui}:case:" + st},
	} {
		found := 0
		for addr, node := range client.Nodes() {
			if n, err := node.Do(ctx, node.B().Exists().Key(k.key).Build()).AsInt64(); err == nil && n == 1 {
				found++
				if len(addrs) > 1 && addr != valkeytest.NodeOf(t, addrs, "{"+k.tag+"}") {
					t.Errorf("%s on %s, not its tag's master", k.key, addr)
				}
			}
		}
		if (found == 1) != (k.tag != "") {
			t.Errorf("%s found %d times", k.key, found)
		}
	}
	routes := 0
	for _, node := range client.Nodes() {
		keys, err := node.Do(ctx, node.B().Keys().Pattern(prefix+"city:rec:"+nsCityRoutes+"*").Build()).AsStrSlice()
		if err != nil {
			t.Fatal(err)
		}
		routes += len(keys)
	}
	if routes == 0 {
		t.Fatal("no routes under the city's keys")
	}
}

func testCityTownsIsolated(t *testing.T, r *rig, embedded bool) (stCase, csCase string) {
	// A town's staff are their town's without picking (and their message
	// opens the account's customer-service window for the push below).
	if reply := r.say("osample-cs-L02-a", "帮助"); strings.Contains(reply, "请回复序号或镇名") || reply == "" {
		t.Fatalf("staff asked to pick: %q", reply)
	}
	// A new resident is asked to pick, and never met with silence.
	if reply := r.say("o-res-st", "报事"); !strings.Contains(reply, "1. 沙塘镇") || !strings.Contains(reply, "2. 赤水镇") {
		t.Fatalf("first message: %q", reply)
	}
	if reply := r.say("o-res-st", "随便说点什么"); !strings.Contains(reply, "请回复序号或镇名") {
		t.Fatalf("unpicked: %q", reply)
	}
	if reply := r.say("o-res-st", "1"); !strings.Contains(reply, "已为您选择沙塘镇") {
		t.Fatalf("pick by number: %q", reply)
	}
	stCase = r.fileIn("o-res-st", shatangLat, shatangLng, "石桥")
	if !strings.HasPrefix(stCase, "ST") {
		t.Fatalf("shatang's case %s", stCase)
	}
	// A location routes a new resident to the town around it.
	if reply, err := r.sim.SendLocation(context.Background(), "o-res-cs", chishuiLat, chishuiLng, "大同"); err != nil ||
		!strings.Contains(reply, "已按您的位置为您转到赤水镇") {
		t.Fatalf("location first: %q %v", reply, err)
	}
	r.say("o-res-cs", "取消")
	csCase = r.fileIn("o-res-cs", chishuiLat, chishuiLng, "大同")
	if !strings.HasPrefix(csCase, "CS") {
		t.Fatalf("chishui's case %s", csCase)
	}
	// Each town's router pushes its own case to its own leader, through
	// the one account.
	r.waitPush("osample-cs-L02-a", csCase)
	// One scrape for the city: each town's figures under its label.
	if status, body := r.raw("/metrics", nil); status != 200 ||
		!regexp.MustCompile(`gridbot_cases\{state="[a-z_]+",town="shatang"\} 1`).MatchString(body) ||
		!regexp.MustCompile(`gridbot_cases\{state="[a-z_]+",town="chishui"\} 1`).MatchString(body) {
		t.Fatalf("metrics: %d\n%s", status, body)
	}
	// A location in another town's grids moves a routed resident there.
	r.say("o-mover", "沙塘")
	if reply, err := r.sim.SendLocation(context.Background(), "o-mover", chishuiLat, chishuiLng, "大同"); err != nil ||
		!strings.Contains(reply, "您发送的位置在赤水镇") {
		t.Fatalf("moved: %q %v", reply, err)
	}
	// 切换镇 asks again.
	if reply := r.say("o-mover", "切换镇"); !strings.Contains(reply, "请重新选择") {
		t.Fatalf("switch: %q", reply)
	}
	if reply := r.say("o-mover", "赤水镇"); !strings.Contains(reply, "已为您选择赤水镇") {
		t.Fatalf("pick by name: %q", reply)
	}
	// Kaiping writes traditional characters, and is answered in them.
	if reply := r.say("o-mover", "換鎮"); !strings.Contains(reply, "請重新選擇") || !strings.Contains(reply, "沙塘鎮") {
		t.Fatalf("switch in traditional: %q", reply)
	}
	if reply := r.say("o-mover", "赤水鎮"); !strings.Contains(reply, "已為您選擇赤水鎮") {
		t.Fatalf("pick in traditional: %q", reply)
	}

	st := r.loginTown("shatang", "town-admin")
	cs := r.loginTown("chishui", "town-admin")
	listed := func(c *staffClient) string {
		var out map[string]any
		if status := c.get("/api/cases", &out); status != 200 {
			t.Fatalf("list: %d %v", status, out)
		}
		return fmt.Sprint(out)
	}
	if l := listed(st); !strings.Contains(l, stCase) || strings.Contains(l, csCase) {
		t.Fatalf("shatang's list: %s", l)
	}
	if l := listed(cs); !strings.Contains(l, csCase) || strings.Contains(l, stCase) {
		t.Fatalf("chishui's list: %s", l)
	}
	// Town A's session against town B's case, through every surface.
	for _, path := range []string{"/api/cases/" + csCase, "/api/cases.csv", "/api/figures/board", "/api/map"} {
		status, body := 0, ""
		req, _ := http.NewRequest("GET", st.base+path, nil)
		resp, err := st.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status, body = resp.StatusCode, string(b)
		if strings.Contains(body, csCase) || (path == "/api/cases/"+csCase && status != 404) {
			t.Fatalf("shatang's session on %s: %d %s", path, status, body)
		}
	}
	if status := st.post("/api/cases/"+csCase+"/accept", map[string]string{}, nil); status != 404 {
		t.Fatalf("shatang acting on chishui's case: %d", status)
	}
	// The session cookie of A with the town cookie forged to B finds no
	// session in B; a town that does not exist, or none, finds nothing.
	stSession := st.cookie(console.SessionCookie)
	for _, town := range []string{"chishui", "nosuch", "", "../chishui", "CHISHUI"} {
		cookies := map[string]string{console.SessionCookie: stSession}
		if town != "" {
			cookies[TownCookie] = town
		}
		for _, path := range []string{"/api/me", "/api/cases", "/api/cases/" + csCase, "/api/cases/" + stCase, "/api/cases.csv"} {
			if status, body := r.raw(path, cookies); status != 401 || strings.Contains(body, csCase) || strings.Contains(body, stCase) {
				t.Fatalf("shatang's session with town %q on %s: %d %s", town, path, status, body)
			}
		}
	}
	// The choice of town takes only towns of the city.
	if status := st.post("/api/town", map[string]string{"town": "nosuch"}, nil); status != 400 {
		t.Fatalf("choose an unknown town: %d", status)
	}
	if status, _ := r.raw("/api/towns", nil); status != 200 {
		t.Fatalf("towns: %d", status)
	}

	// Open311: jurisdiction_id chooses the town, each with its own keys.
	if status, body := r.open311("GET", "/open311/v2/services.json", ""); status != 400 || !strings.Contains(body, "jurisdiction_id") {
		t.Fatalf("no jurisdiction: %d %s", status, body)
	}
	if status, _ := r.open311("GET", "/open311/v2/services.json?jurisdiction_id=nosuch", "api_key="+shatangOpen311Key); status != 404 {
		t.Fatalf("unknown jurisdiction: %d", status)
	}
	if status, _ := r.open311("GET", "/open311/v2/requests.json?jurisdiction_id=chishui", "api_key="+shatangOpen311Key); status != 403 {
		t.Fatalf("shatang's key on chishui: %d", status)
	}
	if status, body := r.open311("GET", "/open311/v2/requests.json?jurisdiction_id=chishui", "api_key="+chishuiOpen311Key); status != 200 ||
		!strings.Contains(body, csCase) || strings.Contains(body, stCase) {
		t.Fatalf("chishui's requests: %d %s", status, body)
	}
	if status, body := r.open311("GET", "/open311/v2/requests/"+stCase+".json?jurisdiction_id=chishui", "api_key="+chishuiOpen311Key); status != 404 || strings.Contains(body, stCase+`"`) {
		t.Fatalf("shatang's case through chishui: %d %s", status, body)
	}
	if status, body := r.open311("GET", "/open311/v2/requests.json", "jurisdiction_id=shatang&api_key="+shatangOpen311Key); status != 200 ||
		!strings.Contains(body, stCase) || strings.Contains(body, csCase) {
		t.Fatalf("shatang's requests, jurisdiction in the body: %d %s", status, body)
	}
	// Filing through Open311: the town the jurisdiction names, with its
	// own key, inside its own grids.
	file := "service_code=light&lat=22.29&long=112.47&description=" + url.QueryEscape("大同村口路灯不亮")
	if status, _ := r.open311("POST", "/open311/v2/requests.json?jurisdiction_id=chishui", "api_key="+shatangOpen311Key+"&"+file); status != 403 {
		t.Fatalf("filing in chishui with shatang's key: %d", status)
	}
	if status, body := r.open311("POST", "/open311/v2/requests.json?jurisdiction_id=shatang", "api_key="+shatangOpen311Key+"&"+file); status == 201 || status == 200 {
		t.Fatalf("filing chishui's place in shatang: %d %s", status, body)
	}
	if status, body := r.open311("POST", "/open311/v2/requests.json", "jurisdiction_id=chishui&api_key="+chishuiOpen311Key+"&"+file); (status != 201 && status != 200) ||
		!regexp.MustCompile(`"service_request_id":"CS\d{12}"`).MatchString(body) {
		t.Fatalf("filing in chishui: %d %s", status, body)
	}
	// The pages inside WeChat: a case's page goes to its own town, and a
	// number of no town is nobody's.
	if status, _ := r.raw("/wx/api/cases/XX202601010001", nil); status != 404 {
		t.Fatalf("a page of no town: %d", status)
	}
	// Each town keeps its own file.
	for _, key := range []string{"shatang", "chishui"} {
		if !embedded {
			break
		}
		if _, err := os.Stat(filepath.Join(r.dataDir, "towns", key+".db")); err != nil {
			t.Fatalf("town %s's store: %v", key, err)
		}
	}
	testCityView(t, r, st)
	if bytes.Contains([]byte(r.log.String()), []byte("o-res-st")) {
		t.Fatal("an openid reached the log")
	}
	return stCase, csCase
}

// testCityView: the city's staff read every town's figures and drill down
// into one; a town's session opens nothing of the city's view, nor the city's
// session anything of a town's console.
func testCityView(t *testing.T, r *rig, townClient *staffClient) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &staffClient{r: r, http: &http.Client{Jar: jar, Timeout: 5 * time.Second}, base: strings.TrimSuffix(r.urls.Console, "/")}
	if status := c.get("/city/api/figures", nil); status != 401 {
		t.Fatalf("figures before login: %d", status)
	}
	var out map[string]any
	if status := c.post("/city/api/login", map[string]string{"username": "city-viewer", "password": "wrong"}, &out); status != 401 {
		t.Fatalf("wrong password: %d %v", status, out)
	}
	if status := c.post("/city/api/login", map[string]string{"username": "town-admin", "password": testPassword}, &out); status != 401 {
		t.Fatalf("a town's staff at the city: %d %v", status, out)
	}
	if status := c.post("/city/api/login", map[string]string{"username": "city-viewer", "password": testPassword}, &out); status != 200 {
		t.Fatalf("city login: %d %v", status, out)
	}
	var figures struct {
		Towns []struct {
			Key   string `json:"key"`
			Cases int    `json:"cases"`
		} `json:"towns"`
		Total struct {
			Cases            int    `json:"cases"`
			SatisfactionRate string `json:"satisfaction_rate"`
		} `json:"total"`
	}
	if status := c.get("/city/api/figures", &figures); status != 200 || len(figures.Towns) != 2 ||
		figures.Towns[0].Key != "shatang" || figures.Towns[0].Cases < 1 || figures.Towns[1].Cases < 1 ||
		figures.Total.Cases != figures.Towns[0].Cases+figures.Towns[1].Cases {
		t.Fatalf("city figures: %+v", figures)
	}
	var drill struct {
		Rows []struct {
			Key   string `json:"key"`
			Cases int    `json:"cases"`
		} `json:"rows"`
	}
	if status := c.get("/city/api/towns/chishui/figures?by=grid", &drill); status != 200 || len(drill.Rows) < 2 {
		t.Fatalf("drill down: %d %+v", status, drill)
	}
	// A town's cases, read only and without anything personal.
	var cases struct {
		Cases []map[string]any `json:"cases"`
	}
	if status := c.get("/city/api/towns/chishui/cases?state=all", &cases); status != 200 || len(cases.Cases) == 0 {
		t.Fatalf("chishui's cases: %d %+v", status, cases)
	}
	for _, cs := range cases.Cases {
		number, _ := cs["number"].(string)
		if !strings.HasPrefix(number, "CS") {
			t.Fatalf("another town's case in chishui's list: %v", cs)
		}
		for _, k := range []string{"text", "phone", "address", "resident", "location", "result"} {
			if _, ok := cs[k]; ok {
				t.Fatalf("%s in the city's list: %v", k, cs)
			}
		}
	}
	if status := c.get("/city/api/towns/chishui/cases?state=closedish", nil); status != 400 {
		t.Fatalf("an unknown state: %d", status)
	}
	if status := c.get("/city/api/towns/nosuch/figures", nil); status != 404 {
		t.Fatalf("drill into no town: %d", status)
	}
	if status := c.get("/city/api/towns/chishui/figures?by=resident", nil); status != 400 {
		t.Fatalf("drill by an unknown grouping: %d", status)
	}
	// The city's session is no town's, and a town's no city's.
	citySession := c.cookie(CityCookie)
	for _, town := range []string{"shatang", "chishui"} {
		if status, _ := r.raw("/api/cases", map[string]string{CityCookie: citySession, TownCookie: town, console.SessionCookie: citySession}); status != 401 {
			t.Fatalf("the city's session on %s's console: %d", town, status)
		}
	}
	if status, _ := r.raw("/city/api/figures", map[string]string{CityCookie: townClient.cookie(console.SessionCookie)}); status != 401 {
		t.Fatalf("a town's session on the city's view: %d", status)
	}
	if status, body := r.raw("/city/", nil); status != 200 || !strings.Contains(body, "city.js") {
		t.Fatalf("the city's page: %d", status)
	}
	if status := c.post("/city/api/logout", nil, nil); status != 200 {
		t.Fatalf("logout: %d", status)
	}
	if status := c.get("/city/api/figures", nil); status != 401 {
		t.Fatalf("figures after logout: %d", status)
	}
}

// `gridbot demo -city`: the two sample towns, each with its history on its
// own ledger, the same logins in each, and the city's view.
func TestCityDemo(t *testing.T) {
	urls, out, stop := startDemo(t, 60*time.Second, "-city", "-data", t.TempDir(), "-history", "20")
	defer stop()
	text := out.String()
	if strings.Count(text, "已写入 20 件") != 2 || !strings.Contains(text, "赤水镇") || !strings.Contains(text, urls.Phone) {
		t.Fatalf("demo output:\n%s", text)
	}
	password := func(id string) string {
		m := regexp.MustCompile(id + `\s+(\S+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no login %s in:\n%s", id, text)
		}
		return m[1]
	}
	r := &rig{t: t, urls: urls}
	jar, _ := cookiejar.New(nil)
	c := &staffClient{r: r, http: &http.Client{Jar: jar, Timeout: 5 * time.Second}, base: strings.TrimSuffix(urls.Console, "/")}
	if status := c.post("/api/town", map[string]string{"town": "chishui"}, nil); status != 200 {
		t.Fatalf("choose chishui: %d", status)
	}
	if status := c.post("/api/login", map[string]string{"username": "town-admin", "password": password("town-admin")}, nil); status != 200 {
		t.Fatalf("chishui's login: %d", status)
	}
	var list struct {
		Cases []struct {
			Number string `json:"number"`
		} `json:"cases"`
	}
	if status := c.get("/api/cases?state=", &list); status != 200 || len(list.Cases) < 20 {
		t.Fatalf("chishui's history: %d %d", status, len(list.Cases))
	}
	for _, cs := range list.Cases {
		if !strings.HasPrefix(cs.Number, "CS") {
			t.Fatalf("another town's case on chishui's console: %s", cs.Number)
		}
	}
	if status := c.post("/city/api/login", map[string]string{"username": cityDemoViewer, "password": password(cityDemoViewer)}, nil); status != 200 {
		t.Fatalf("the city's login: %d", status)
	}
	var figures struct {
		Total struct {
			Cases int `json:"cases"`
		} `json:"total"`
	}
	if status := c.get("/city/api/figures", &figures); status != 200 || figures.Total.Cases < 40 {
		t.Fatalf("the city's figures: %d %+v", status, figures)
	}
}

// The pages inside WeChat in a city: the report form and its directory are
// the reader's own town's, a reader with no town is asked to pick one in
// the chat, and a case's page is its own town's.
func TestCityPages(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	r := bootCityPages(t, addr, base)
	r.say("o-page-cs", "2")
	csCase := r.fileIn("o-page-cs", chishuiLat, chishuiLng, "大同")
	r.say("o-page-st", "1")
	stCase := r.fileIn("o-page-st", shatangLat, shatangLng, "石桥")

	cs := r.pageBrowser(t, base, "o-page-cs")
	if status := cs.open(base + "/wx/report"); status != 200 {
		t.Fatalf("the report form: %d", status)
	}
	var dir struct {
		Town     string `json:"town"`
		Villages []struct {
			Name string `json:"name"`
		} `json:"villages"`
	}
	if status := cs.get("/wx/api/directory", &dir); status != 200 || dir.Town != "赤水镇（示例）" {
		t.Fatalf("chishui's resident's directory: %d %+v", status, dir)
	}
	var one map[string]any
	if status := cs.get("/wx/api/cases/"+csCase, &one); status != 200 {
		t.Fatalf("the resident's own case page: %d", status)
	}
	if status := cs.get("/wx/api/cases/"+stCase, &one); status == 200 {
		t.Fatalf("another town's resident on shatang's case: %d %v", status, one)
	}
	// A reader who never picked a town is sent back to the chat.
	nobody := r.pageBrowser(t, base, "o-page-nobody")
	if status := nobody.open(base + "/wx/report"); status != http.StatusConflict {
		t.Fatalf("a reader of no town: %d", status)
	}
}

// bootCityPages is bootCity with the pages reached at base and the
// simulator's web authorisation.
func bootCityPages(t *testing.T, addr, base string) *rig {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{Token: "e2etoken", AppID: "wxe2e", AppSecret: "e2esecret"})
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	return bootCityWith(t, "", sim, simSrv.URL, "GRIDBOT_HTTP_ADDR="+addr, "GRIDBOT_WECHAT_PUBLIC_BASE="+base,
		"GRIDBOT_WECHAT_OAUTH_BASE="+simSrv.URL)
}

// A city serves the admin listener too: each town's online backup under
// ?town=, behind the token, holding that town's cases and no other's; the
// backup command finds it with -town while serve runs.
func TestCityOnlineBackup(t *testing.T) {
	r := bootCity(t, "", "GRIDBOT_ADMIN_ADDR=127.0.0.1:0")
	if r.urls.Admin == "" {
		t.Fatal("the city serves no admin listener")
	}
	r.say("o-backup-st", "1")
	stCase := r.fileIn("o-backup-st", shatangLat, shatangLng, "石桥")
	r.say("o-backup-cs", "2")
	csCase := r.fileIn("o-backup-cs", chishuiLat, chishuiLng, "大同")

	cfg, err := configs.Load(r.cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	token, err := readAdminToken(cfg)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+r.urls.Admin+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, tt := range []struct {
		path, token string
		status      int
		body        string
	}{
		{"/backup?town=chishui", "", http.StatusUnauthorized, ""},
		{"/debug/pprof/", "", http.StatusUnauthorized, ""},
		{"/backup", token, http.StatusBadRequest, "shatang, chishui"},
		{"/backup?town=nosuch", token, http.StatusBadRequest, "shatang, chishui"},
		{"/debug/pprof/", token, http.StatusOK, "goroutine"},
	} {
		if status, body := get(tt.path, tt.token); status != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("%s (token %v): %d %.200q", tt.path, tt.token != "", status, body)
		}
	}

	for _, tc := range []struct{ town, has, hasNot string }{{"chishui", csCase, stCase}, {"shatang", stCase, csCase}} {
		file := filepath.Join(t.TempDir(), tc.town+".db")
		var out bytes.Buffer
		if err := Run(context.Background(), []string{"backup", "-config", r.cfgPath, "-town", tc.town, "-o", file},
			Env{Stdout: &out, Stderr: io.Discard, Environ: []string{"GRIDBOT_ADMIN_ADDR=" + r.urls.Admin}}); err != nil ||
			!strings.Contains(out.String(), "running instance") {
			t.Fatalf("%s's online backup: %v %q", tc.town, err, out.String())
		}
		st, err := embedded.Open(file, embedded.Options{CasePrefix: "CHECK", Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		_, errHas := st.Case(context.Background(), tc.has)
		_, errNot := st.Case(context.Background(), tc.hasNot)
		st.Close()
		if errHas != nil || !errors.Is(errNot, core.ErrNotFound) {
			t.Errorf("%s's backup: its case %v, the other town's %v", tc.town, errHas, errNot)
		}
	}
}
