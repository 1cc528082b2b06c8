package wxpages

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
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

func TestMain(m *testing.M) {
	code := m.Run()
	browser.Close()
	os.Exit(code)
}

const residentPhone = "13812345678"

// Openids of the fixture's people.
const (
	oResident = "o-resident"
	oOther    = "o-other"
	oJoiner   = "o-joiner"
	oLead1    = "o-lead1"
	oLead2    = "o-lead2"
	oCadre2   = "o-cadre2"
	oTown     = "o-town"
	oDept     = "o-dept"
)

// clock is a settable time for the store's keys and the pages.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// wechat plays WeChat's web authorisation: /connect/oauth2/authorize knows
// the reader by the cookie "reader" (as the phone's WeChat knows its user)
// and sends them back with a one-time code; /sns/oauth2/access_token
// exchanges it once.
type wechat struct {
	ts        *httptest.Server
	mu        sync.Mutex
	codes     map[string]string // code → openid
	used      map[string]bool
	exchanges atomic.Int32
}

func newWeChat(t testing.TB) *wechat {
	w := &wechat{codes: map[string]string{}, used: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /connect/oauth2/authorize", func(rw http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		c, err := r.Cookie("reader")
		if err != nil || q.Get("appid") != "wxapp" || q.Get("scope") != "snsapi_base" || q.Get("response_type") != "code" {
			http.Error(rw, "bad authorize", http.StatusBadRequest)
			return
		}
		back, err := url.Parse(q.Get("redirect_uri"))
		if err != nil {
			http.Error(rw, "bad redirect", http.StatusBadRequest)
			return
		}
		code := randomToken()
		w.mu.Lock()
		w.codes[code] = c.Value
		w.mu.Unlock()
		bq := back.Query()
		bq.Set("code", code)
		bq.Set("state", q.Get("state"))
		back.RawQuery = bq.Encode()
		http.Redirect(rw, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("GET /sns/oauth2/access_token", func(rw http.ResponseWriter, r *http.Request) {
		w.exchanges.Add(1)
		q := r.URL.Query()
		w.mu.Lock()
		defer w.mu.Unlock()
		openid, ok := w.codes[q.Get("code")]
		switch {
		case q.Get("secret") != "wxsecret":
			fmt.Fprint(rw, `{"errcode":40125,"errmsg":"invalid appsecret"}`)
		case !ok:
			fmt.Fprint(rw, `{"errcode":40029,"errmsg":"invalid code"}`)
		case w.used[q.Get("code")]:
			fmt.Fprint(rw, `{"errcode":40163,"errmsg":"code been used"}`)
		default:
			w.used[q.Get("code")] = true
			fmt.Fprintf(rw, `{"access_token":"x","expires_in":7200,"openid":%q,"scope":"snsapi_base"}`, openid)
		}
	})
	// /as sets who the phone's user is, as the simulator's /sim/open does.
	mux.HandleFunc("GET /as", func(rw http.ResponseWriter, r *http.Request) {
		http.SetCookie(rw, &http.Cookie{Name: "reader", Value: r.URL.Query().Get("openid"), Path: "/connect/"})
		http.Redirect(rw, r, r.URL.Query().Get("url"), http.StatusFound)
	})
	w.ts = httptest.NewServer(mux)
	t.Cleanup(w.ts.Close)
	return w
}

// fixture is the pages over an embedded store and a small town:
//
//	东山村 (v1): 一网格 g1 (A lead1, B lead1b), with a boundary
//	西湖社区 (v2): 三网格 g3 (lead2)
//	staff: town (town), cadre2 (village v2), lead1, lead1b, lead2, dept (城建办 cj)
//
// and one assigned case of oResident in g1.
type fixture struct {
	town   *core.Town
	store  *embedded.Store
	ledger *core.Ledger
	media  *core.MediaStore
	clock  *testClock
	wechat *wechat
	srv    *Server
	ts     *httptest.Server
	number string
}

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

func testTown(t testing.TB) *core.Town {
	t.Helper()
	town, err := core.NewTown(core.Town{
		Name:        "石塘镇",
		CasePrefix:  "ST",
		Villages:    []core.Village{{ID: "v1", Name: "东山村"}, {ID: "v2", Name: "西湖社区"}},
		Departments: []core.Department{{ID: "cj", Name: "城建办"}, {ID: "pcs", Name: "派出所"}},
		Grids: []core.Grid{
			{ID: "g1", Name: "一网格", Kind: core.GridLarge, Village: "v1", LeaderA: "lead1", LeaderB: "lead1b",
				Boundary: []core.Point{{Lat: 22.30, Lng: 112.60}, {Lat: 22.30, Lng: 112.62}, {Lat: 22.32, Lng: 112.62}, {Lat: 22.32, Lng: 112.60}}},
			{ID: "g3", Name: "三网格", Kind: core.GridLarge, Village: "v2", LeaderA: "lead2", LeaderB: "lead2"},
		},
		Staff: []core.Staff{
			{ID: "town", Name: "王镇长", Role: core.RoleTown, Addresses: map[core.Channel]string{core.ChannelWeChat: oTown}},
			{ID: "cadre2", Name: "孙主任", Role: core.RoleVillage, Village: "v2", Addresses: map[core.Channel]string{core.ChannelWeChat: oCadre2}},
			{ID: "lead1", Name: "张网格", Role: core.RoleGridLeader, Village: "v1", Addresses: map[core.Channel]string{core.ChannelWeChat: oLead1}},
			{ID: "lead1b", Name: "陈网格", Role: core.RoleGridLeader, Village: "v1"},
			{ID: "lead2", Name: "赵网格", Role: core.RoleGridLeader, Village: "v2", Addresses: map[core.Channel]string{core.ChannelWeChat: oLead2}},
			{ID: "dept", Name: "周城建", Role: core.RoleDepartment, Department: "cj", Addresses: map[core.Channel]string{core.ChannelWeChat: oDept}},
		},
		Categories: []core.Category{{Code: "road", Name: "道路设施", DeadlineHours: 24}, {Code: "env", Name: "环境卫生", DeadlineHours: 120}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return town
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	clk := &testClock{now: t0}
	town := testTown(t)
	store, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	f := &fixture{town: town, store: store, clock: clk, wechat: newWeChat(t), media: &core.MediaStore{Records: store}}
	roster := &core.Roster{Town: town, Records: store, Keys: store}
	f.ledger = &core.Ledger{Store: store, Town: town, Roster: roster, Now: clk.Now}
	f.srv = &Server{Town: town, Ledger: f.ledger, Roster: roster, Media: f.media, Keys: store,
		Auth:               &bot.WebAuth{AppID: "wxapp", AppSecret: "wxsecret", APIBase: f.wechat.ts.URL, OAuthBase: f.wechat.ts.URL},
		SessionKey:         []byte("test-session-key"),
		SubscribeTemplates: []string{"sub-progress"}, Now: clk.Now, Log: log}
	f.ts = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.ts.Close)
	f.srv.PublicBase = f.ts.URL
	f.number = f.file(t, oResident, "g1", "村口路灯坏了三天")
	return f
}

// file files and assigns a case the way the dialogs and the router would.
func (f *fixture) file(t testing.TB, resident, grid, text string) string {
	t.Helper()
	ctx := context.Background()
	if err := f.media.Put(ctx, core.MediaFile{ID: "m-" + resident + grid, Case: "pending", Kind: core.MediaImage,
		ContentType: "image/png", Data: pngBytes}); err != nil {
		t.Fatal(err)
	}
	c, err := f.ledger.Submit(ctx, resident, core.Draft{
		Category: "road", Text: text, Grid: grid, Phone: residentPhone, Address: "东山村12号",
		Location: &core.Location{Point: core.Point{Lat: 22.31, Lng: 112.61}, Label: "东山村12号"},
		Photos:   []core.Media{{MediaID: "m-" + resident + grid}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.media.Put(ctx, core.MediaFile{ID: "m-" + resident + grid, Case: c.Number, Kind: core.MediaImage,
		ContentType: "image/png", Data: pngBytes}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ledger.Assign(ctx, c.Number); err != nil {
		t.Fatal(err)
	}
	return c.Number
}

// pngBytes is a 1×1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

// phone is one person's WeChat browser: a cookie jar, and WeChat knowing
// who they are.
type phone struct {
	f      *fixture
	openid string
	c      *http.Client
	csrf   string
}

func (f *fixture) phone(t testing.TB, openid string) *phone {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(f.wechat.ts.URL + "/connect/")
	jar.SetCookies(u, []*http.Cookie{{Name: "reader", Value: openid, Path: "/connect/"}})
	return &phone{f: f, openid: openid, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// open opens a page as WeChat would (following web authorisation) and
// returns the final status and URL.
func (p *phone) open(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := p.c.Get(p.f.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Request.URL.String()
}

// login opens the case's page, which authorises the phone.
func (p *phone) login(t testing.TB) {
	t.Helper()
	if status, _ := p.open(t, "/wx/cases/"+p.f.number); status != http.StatusOK {
		t.Fatalf("%s opening the page: %d", p.openid, status)
	}
	// The CSRF token comes with whatever the page loads first.
	if status := p.get(t, "/wx/api/directory", &struct{}{}); status != http.StatusOK {
		t.Fatalf("%s reading the directory: %d", p.openid, status)
	}
}

// get reads the page API as JSON.
func (p *phone) get(t testing.TB, path string, into any) int {
	t.Helper()
	resp, err := p.c.Get(p.f.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if into != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
		var c struct{ CSRF string }
		json.Unmarshal(body, &c)
		if c.CSRF != "" {
			p.csrf = c.CSRF
		}
	}
	return resp.StatusCode
}

// view reads a case as the phone's reader.
func (p *phone) view(t testing.TB, number string) map[string]any {
	t.Helper()
	var v map[string]any
	if status := p.get(t, "/wx/api/cases/"+number, &v); status != http.StatusOK {
		t.Fatalf("%s reading %s: %d", p.openid, number, status)
	}
	return v
}

// file is a photo to post.
type file struct {
	name string
	data []byte
}

// post sends a form as the page does: same origin, the CSRF token, fields
// and photos as multipart. edit may spoil the request.
func (p *phone) post(t testing.TB, path string, fields map[string]string, photos []file, edit ...func(*http.Request)) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, ph := range photos {
		w, _ := mw.CreateFormFile("photo", ph.name)
		w.Write(ph.data)
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, p.f.ts.URL+path, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", p.f.ts.URL)
	req.Header.Set("X-CSRF-Token", p.csrf)
	for _, e := range edit {
		e(req)
	}
	resp, err := p.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	body, _ := io.ReadAll(resp.Body)
	json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

// step takes a step on the case and returns the status and answer.
func (p *phone) step(t testing.TB, number, step string, fields map[string]string, photos ...file) (int, map[string]any) {
	t.Helper()
	return p.post(t, "/wx/api/cases/"+number+"/"+step, fields, photos)
}

func steps(v map[string]any) string {
	var out []string
	list, _ := v["steps"].([]any)
	for _, s := range list {
		out = append(out, s.(map[string]any)["step"].(string))
	}
	return strings.Join(out, ",")
}
