package console

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"gridbot/core"
	"gridbot/store/embedded"
)

func TestMain(m *testing.M) {
	code := m.Run()
	browser.Close()
	os.Exit(code)
}

// t0 is when the fixture's cases are filed; the console's clock reads two
// days later, so a 24-hour case is overdue and a 120-hour one is not.
var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

const residentPhone = "13812345678"

// fixture is a console over an embedded store and a small town:
//
//	东山村 (v1): 一网格 g1, 二网格 g2, both led by lead1
//	西湖社区 (v2): 三网格 g3, led by lead2
//	staff: admin (town), cadre1 (village v1), lead1, lead2 (grid),
//	       gone (grid, disabled), nopass (village v2, no password)
//
// and one assigned case per grid.
type fixture struct {
	town   *core.Town
	store  *embedded.Store
	ledger *core.Ledger
	hub    *Hub
	srv    *Server
	ts     *httptest.Server
	// cases maps a grid ID to the number of its case.
	cases map[string]string
	// stopHub cancels the hub's Run and waits for it to return.
	stopHub func()
}

// fixtureOption adjusts the fixture before it starts.
type fixtureOption func(*fixture)

func password(id string) string { return "pw-" + id }

// square is a grid boundary from its south-west to its north-east corner.
func square(lat0, lng0, lat1, lng1 float64) []core.Point {
	return []core.Point{{Lat: lat0, Lng: lng0}, {Lat: lat0, Lng: lng1}, {Lat: lat1, Lng: lng1}, {Lat: lat1, Lng: lng0}}
}

func testTown(t testing.TB) *core.Town {
	t.Helper()
	hash := func(id string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(password(id)), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	town, err := core.NewTown(core.Town{
		Name:        "石塘镇",
		CasePrefix:  "ST",
		Villages:    []core.Village{{ID: "v1", Name: "东山村"}, {ID: "v2", Name: "西湖社区"}},
		Departments: []core.Department{{ID: "cj", Name: "城建办"}, {ID: "pcs", Name: "派出所"}},
		Grids: []core.Grid{
			{ID: "g1", Name: "一网格", Kind: core.GridLarge, Village: "v1", LeaderA: "lead1", LeaderB: "lead1",
				Boundary: square(30.10, 120.63, 30.13, 120.66)},
			{ID: "g2", Name: "二网格", Kind: core.GridLarge, Village: "v1", LeaderA: "lead1", LeaderB: "lead1",
				Boundary: square(30.10, 120.66, 30.13, 120.69)},
			{ID: "g3", Name: "三网格", Kind: core.GridLarge, Village: "v2", LeaderA: "lead2", LeaderB: "lead2",
				Boundary: square(30.13, 120.63, 30.16, 120.69)},
		},
		Staff: []core.Staff{
			{ID: "admin", Name: "王镇长", Role: core.RoleTown, PasswordHash: hash("admin")},
			{ID: "cadre1", Name: "李主任", Role: core.RoleVillage, Village: "v1", PasswordHash: hash("cadre1")},
			{ID: "lead1", Name: "张网格", Role: core.RoleGridLeader, Village: "v1", PasswordHash: hash("lead1")},
			{ID: "lead2", Name: "赵网格", Role: core.RoleGridLeader, Village: "v2", PasswordHash: hash("lead2")},
			{ID: "gone", Name: "钱离职", Role: core.RoleGridLeader, PasswordHash: hash("gone"), Disabled: true},
			{ID: "nopass", Name: "孙无密", Role: core.RoleVillage, Village: "v2"},
			{ID: "dept1", Name: "周城建", Role: core.RoleDepartment, Department: "cj", PasswordHash: hash("dept1")},
			{ID: "sysadm", Name: "吴系统", Role: core.RoleSysAdmin, PasswordHash: hash("sysadm")},
			{ID: "auditor1", Name: "郑审计", Role: core.RoleAuditAdmin, PasswordHash: hash("auditor1")},
			{ID: "secadm", Name: "冯安全", Role: core.RoleSecAdmin, PasswordHash: hash("secadm")},
		},
		Categories: []core.Category{
			{Code: "road", Name: "道路设施", DeadlineHours: 24},
			{Code: "env", Name: "环境卫生", DeadlineHours: 120},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return town
}

func newFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	town := testTown(t)
	store, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	f := &fixture{
		town:   town,
		store:  store,
		ledger: &core.Ledger{Store: store, Town: town, Now: func() time.Time { return t0 }},
		hub:    NewHub(log),
		cases:  map[string]string{},
	}
	f.srv = &Server{
		Town: town, Store: store, Ledger: f.ledger, Sessions: store, Log: log,
		Now: func() time.Time { return t0.Add(48 * time.Hour) },
		Hub: f.hub, hashCost: bcrypt.MinCost,
	}
	for _, o := range opts {
		o(f)
	}
	for _, c := range []struct{ grid, category, text string }{
		{"g1", "road", "村口路灯坏了三天"},
		{"g2", "env", "垃圾桶满了没人清"},
		{"g3", "road", "小区门口井盖松动"},
	} {
		f.cases[c.grid] = f.submit(t, c.grid, c.category, c.text)
	}

	ctx, cancel := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		f.hub.Run(ctx)
	}()
	f.ts = httptest.NewServer(f.srv.Handler())
	// Cleanups run last-in first-out: the hub closes its websockets before
	// the test server waits for their handlers.
	var once sync.Once
	f.stopHub = func() {
		once.Do(func() {
			cancel()
			<-hubDone
		})
	}
	t.Cleanup(f.ts.Close)
	t.Cleanup(f.stopHub)
	return f
}

// submit files and assigns a case the way the dialogs and the router would.
func (f *fixture) submit(t testing.TB, grid, category, text string) string {
	t.Helper()
	ctx := context.Background()
	c, err := f.ledger.Submit(ctx, "o-resident-"+grid, core.Draft{
		Category: category, Text: text, Grid: grid, Phone: residentPhone,
		Location: &core.Location{Point: core.Point{Lat: 30.123456, Lng: 120.654321}, Label: "东山村12号"},
		Photos:   []core.Media{{MediaID: "media-1", URL: "https://mmbiz.qpic.cn/photo1.jpg"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ledger.Assign(ctx, c.Number); err != nil {
		t.Fatal(err)
	}
	return c.Number
}

// request sends a request as a browser on the console's own page would:
// same Origin and, for a POST, the X-Requested-With header. edit can undo
// that.
func (f *fixture) request(t testing.TB, method, path string, cookie *http.Cookie, body any, edit ...func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, f.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if method != http.MethodGet {
		req.Header.Set("Origin", f.ts.URL)
		req.Header.Set("X-Requested-With", "gridbot")
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for _, e := range edit {
		e(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// login logs staff member id in and returns the session cookie.
func (f *fixture) login(t testing.TB, id string) *http.Cookie {
	t.Helper()
	resp, body := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: id, Password: password(id)})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d %s", id, resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("login %s: no session cookie", id)
	return nil
}

// errorMessage decodes an error answer.
func errorMessage(t *testing.T, body []byte) string {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e.Error
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return v
}

// withHeader sets a header on a request; an empty value removes it.
func withHeader(name, value string) func(*http.Request) {
	return func(r *http.Request) {
		if value == "" {
			r.Header.Del(name)
			return
		}
		r.Header.Set(name, value)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
