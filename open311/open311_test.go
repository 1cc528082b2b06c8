package open311_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/open311"
	"gridbot/store/embedded"
)

// The GeoReport v2 field list: the fields every element of each answer
// carries.
var (
	serviceFields    = []string{"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
	definitionFields = []string{"service_code", "attributes"}
	requestFields    = []string{"service_request_id", "status", "status_notes", "service_name", "service_code",
		"description", "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
		"expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
	receiptFields = []string{"service_request_id", "service_notice"}
	errorFields   = []string{"code", "description"}
)

// Personal data seeded on cases, which no GET may return.
const (
	residentOpenID = "oResidentSecret001"
	residentPhone  = "13812345678"
	textPhone      = "13987654321"
	locationLabel  = "张三家门口老榕树下"
	apiKey         = "k-hotline-0123456789"
)

var cst = time.FixedZone("CST", 8*3600)

func at(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, cst) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type fixture struct {
	store   *embedded.Store
	town    *core.Town
	ledger  *core.Ledger
	clock   *clock
	handler http.Handler
	logs    *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	s, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &clock{t: at(25, 9)}
	f := &fixture{store: s, town: town, clock: c, ledger: &core.Ledger{Store: s, Town: town, Now: c.Now}, logs: &bytes.Buffer{}}
	srv := &open311.Server{Town: town, Store: s, Ledger: f.ledger, APIKeys: map[string]string{apiKey: "hotline"},
		PublicRead: true, Log: slog.New(slog.NewJSONHandler(f.logs, nil)), Now: c.Now}
	f.handler = srv.Handler()
	return f
}

// A point of the sample town inside 塘口大网格 (L01) only.
var inL01 = core.Point{Lat: 22.325, Lng: 112.525}

// seed files cases from WeChat residents: the second one closed with a result.
func (f *fixture) seed(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	file := func(when time.Time, d core.Draft) string {
		f.clock.Set(when)
		c, err := f.ledger.Submit(ctx, residentOpenID, d)
		if err != nil {
			t.Fatal(err)
		}
		return c.Number
	}
	light := core.Draft{Category: "light", Text: "路灯坏了，联系我 " + textPhone, Grid: "L01", Phone: residentPhone,
		Location: &core.Location{Point: inL01, Label: locationLabel}}
	env := core.Draft{Category: "env", Text: "垃圾没人清理", Grid: "M01", Phone: residentPhone}
	n := []string{file(at(1, 9), light), file(at(20, 9), light), file(at(24, 9), env)}
	f.clock.Set(at(24, 10))
	if _, _, err := f.ledger.Resolve(ctx, n[1], "gl-L01-a", "已更换灯泡，回访电话 "+textPhone); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ledger.Rate(ctx, residentOpenID, 5); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(at(25, 9))
	return n
}

func (f *fixture) do(t *testing.T, r *http.Request) (int, []byte) {
	t.Helper()
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("%s %s: Content-Type %q", r.Method, r.URL, ct)
	}
	return w.Code, w.Body.Bytes()
}

func (f *fixture) get(t *testing.T, target string) (int, []byte) {
	t.Helper()
	return f.do(t, httptest.NewRequest(http.MethodGet, target, nil))
}

func (f *fixture) post(t *testing.T, form url.Values) (int, []byte) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/open311/v2/requests.json", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.do(t, r)
}

// objects decodes a JSON array of objects.
func objects(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("not a JSON array of objects: %v\n%s", err, body)
	}
	return out
}

// checkFields fails unless every object has exactly the fields.
func checkFields(t *testing.T, what string, objs []map[string]any, fields []string) {
	t.Helper()
	want := slices.Sorted(slices.Values(fields))
	for i, o := range objs {
		var got []string
		for k := range o {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s[%d] fields = %v, want %v", what, i, got, want)
		}
	}
}

func (f *fixture) caseCount(t *testing.T) int {
	t.Helper()
	cs, err := f.store.Cases(context.Background(), core.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

func TestServices(t *testing.T) {
	f := newFixture(t)
	code, body := f.get(t, "/open311/v2/services.json")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	svcs := objects(t, body)
	checkFields(t, "services", svcs, serviceFields)
	if len(svcs) != len(f.town.Categories) {
		t.Fatalf("%d services, want %d", len(svcs), len(f.town.Categories))
	}
	light := svcs[slices.IndexFunc(svcs, func(o map[string]any) bool { return o["service_code"] == "light" })]
	for field, want := range map[string]any{"service_name": "道路照明", "metadata": false, "type": "realtime",
		"group": "城建办", "keywords": ""} {
		if light[field] != want {
			t.Errorf("light %s = %v, want %v", field, light[field], want)
		}
	}
	if d, _ := light["description"].(string); !strings.Contains(d, "72") {
		t.Errorf("light description %q lacks the deadline", d)
	}
}

func TestServiceDefinition(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, path string
		status     int
		fields     []string
	}{
		{"known", "/open311/v2/services/light.json", http.StatusOK, definitionFields},
		{"unknown", "/open311/v2/services/nosuch.json", http.StatusNotFound, errorFields},
		{"xml", "/open311/v2/services/light.xml", http.StatusBadRequest, errorFields},
		{"no extension", "/open311/v2/services/light", http.StatusNotFound, errorFields},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.get(t, tt.path)
			if code != tt.status {
				t.Fatalf("status %d, want %d: %s", code, tt.status, body)
			}
			if tt.status != http.StatusOK {
				errs := objects(t, body)
				checkFields(t, "errors", errs, tt.fields)
				if errs[0]["code"] != float64(tt.status) {
					t.Errorf("error code %v, want %d", errs[0]["code"], tt.status)
				}
				return
			}
			var def map[string]any
			if err := json.Unmarshal(body, &def); err != nil {
				t.Fatal(err)
			}
			checkFields(t, "definition", []map[string]any{def}, tt.fields)
			if attrs, ok := def["attributes"].([]any); !ok || len(attrs) != 0 || def["service_code"] != "light" {
				t.Errorf("definition = %s, want light with attributes []", body)
			}
		})
	}
}

func TestRequestsFields(t *testing.T) {
	f := newFixture(t)
	n := f.seed(t)
	code, body := f.get(t, "/open311/v2/requests.json?start_date=2026-11-01")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	reqs := objects(t, body)
	checkFields(t, "requests", reqs, requestFields)
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	closed := reqs[slices.IndexFunc(reqs, func(o map[string]any) bool { return o["service_request_id"] == n[1] })]
	want := map[string]any{
		"status":             "closed",
		"service_code":       "light",
		"service_name":       "道路照明",
		"description":        "",
		"agency_responsible": "塘口村 · 塘口大网格、城建办",
		"address":            "塘口村 · 塘口大网格",
		"requested_datetime": "2026-11-20T09:00:00+08:00",
		"updated_datetime":   "2026-11-24T10:00:00+08:00",
		"expected_datetime":  "2026-11-23T09:00:00+08:00",
		"lat":                22.32,
		"long":               112.53,
		"address_id":         "",
		"zipcode":            "",
		"media_url":          "",
		"status_notes":       "已结案",
	}
	for field, w := range want {
		if closed[field] != w {
			t.Errorf("%s = %v, want %v", field, closed[field], w)
		}
	}
	open := reqs[slices.IndexFunc(reqs, func(o map[string]any) bool { return o["service_request_id"] == n[2] })]
	if open["status"] != "open" || open["lat"] == nil || open["long"] == nil || open["status_notes"] != "已提交" {
		t.Errorf("open case = %v, want status open, the grid's centre, notes 已提交", open)
	}
}

func TestRequestsFilters(t *testing.T) {
	f := newFixture(t)
	n := f.seed(t) // n[0] on the 1st (light), n[1] on the 20th (light, closed), n[2] on the 24th (env)
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"default: the last 90 days, newest first", "", []string{n[2], n[1], n[0]}},
		{"by ids, newest first, unknown skipped", "service_request_id=" + n[0] + ",ST209901010001," + n[2], []string{n[2], n[0]}},
		{"ids override other filters", "service_request_id=" + n[0] + "&status=closed", []string{n[0]}},
		{"by service_code", "service_code=light", []string{n[1], n[0]}},
		{"by several service codes", "service_code=env,light", []string{n[2], n[1], n[0]}},
		{"open", "status=open", []string{n[2], n[0]}},
		{"closed", "status=closed", []string{n[1]}},
		{"open and closed", "status=open,closed", []string{n[2], n[1], n[0]}},
		{"date range, bounds included", "start_date=2026-11-20T09:00:00%2B08:00&end_date=2026-11-24T09:00:00%2B08:00", []string{n[2], n[1]}},
		{"start_date as a day", "start_date=2026-11-21", []string{n[2]}},
		{"end_date in UTC", "end_date=2026-11-20T00:00:00Z", []string{n[0]}},
		{"minute precision", "start_date=2026-11-24T08:59%2B08:00", []string{n[2]}},
		{"nothing in range", "start_date=2025-01-01&end_date=2025-02-01", []string{}},
		{"code and status", "service_code=light&status=open", []string{n[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.get(t, "/open311/v2/requests.json?"+tt.query)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			got := []string{}
			for _, o := range objects(t, body) {
				got = append(got, o["service_request_id"].(string))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("requests = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRequestsDefaultSpan(t *testing.T) {
	f := newFixture(t)
	n := f.seed(t)
	f.clock.Set(at(1, 9).AddDate(0, 3, 0)) // 1 March: the case of 1 November is over 90 days old
	_, body := f.get(t, "/open311/v2/requests.json")
	var got []string
	for _, o := range objects(t, body) {
		got = append(got, o["service_request_id"].(string))
	}
	if slices.Contains(got, n[0]) || !slices.Contains(got, n[2]) {
		t.Errorf("requests = %v: want the last 90 days only", got)
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, method, path string
		status             int
	}{
		{"bad status", "GET", "/open311/v2/requests.json?status=pending", http.StatusBadRequest},
		{"bad start_date", "GET", "/open311/v2/requests.json?start_date=yesterday", http.StatusBadRequest},
		{"end before start", "GET", "/open311/v2/requests.json?start_date=2026-11-25&end_date=2026-11-01", http.StatusBadRequest},
		{"too many ids", "GET", "/open311/v2/requests.json?service_request_id=" + strings.Repeat("A,", 101), http.StatusBadRequest},
		{"unknown request", "GET", "/open311/v2/requests/ST209901010001.json", http.StatusNotFound},
		{"requests as xml", "GET", "/open311/v2/requests.xml", http.StatusBadRequest},
		{"services as xml", "GET", "/open311/v2/services.xml", http.StatusBadRequest},
		{"one request as xml", "GET", "/open311/v2/requests/ST1.xml", http.StatusBadRequest},
		{"post as xml", "POST", "/open311/v2/requests.xml", http.StatusBadRequest},
		{"unknown path", "GET", "/open311/v2/tokens/x.json", http.StatusNotFound},
		{"nested path", "GET", "/open311/v2/services/a/b.json", http.StatusNotFound},
		{"delete", "DELETE", "/open311/v2/requests.json", http.StatusMethodNotAllowed},
		{"post to services", "POST", "/open311/v2/services.json", http.StatusMethodNotAllowed},
		{"put a request", "PUT", "/open311/v2/requests/ST1.json", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.do(t, httptest.NewRequest(tt.method, tt.path, nil))
			if code != tt.status {
				t.Fatalf("status %d, want %d: %s", code, tt.status, body)
			}
			errs := objects(t, body)
			checkFields(t, "errors", errs, errorFields)
			if len(errs) != 1 || errs[0]["code"] != float64(tt.status) || errs[0]["description"] == "" {
				t.Errorf("errors = %s", body)
			}
		})
	}
}

func TestRequestByID(t *testing.T) {
	f := newFixture(t)
	n := f.seed(t)
	code, body := f.get(t, "/open311/v2/requests/"+n[1]+".json")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	reqs := objects(t, body)
	checkFields(t, "request", reqs, requestFields)
	if len(reqs) != 1 || reqs[0]["service_request_id"] != n[1] {
		t.Errorf("request = %s, want one element for %s", body, n[1])
	}
}

func goodForm() url.Values {
	return url.Values{
		"api_key":        {apiKey},
		"service_code":   {"light"},
		"lat":            {"22.325"},
		"long":           {"112.525"},
		"address_string": {"塘口村口 榕树旁"},
		"description":    {"村口路灯不亮已经三天"},
		"phone":          {"139 8765 4321"},
		"first_name":     {"三"},
		"last_name":      {"张"},
		"email":          {"zhang@example.org"},
		"media_url":      {"https://example.org/p/1.jpg"},
	}
}

func TestPostFilesACase(t *testing.T) {
	f := newFixture(t)
	code, body := f.post(t, goodForm())
	if code != http.StatusCreated {
		t.Fatalf("status %d: %s", code, body)
	}
	receipts := objects(t, body)
	checkFields(t, "receipt", receipts, receiptFields)
	number, _ := receipts[0]["service_request_id"].(string)
	if number != "ST202611250001" {
		t.Fatalf("service_request_id = %q", number)
	}
	if notice, _ := receipts[0]["service_notice"].(string); !strings.Contains(notice, "塘口村 · 塘口大网格") {
		t.Errorf("service_notice %q does not name the grid", notice)
	}
	ctx := context.Background()
	c, err := f.store.Case(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	if c.Resident != "open311:hotline" || c.Grid != "L01" || c.Village != "v01" || c.Category != "light" ||
		c.State != core.StateSubmitted || c.Text != "村口路灯不亮已经三天" || c.Phone != "13987654321" ||
		c.Location == nil || c.Location.Lat != 22.325 || c.Location.Label != "塘口村口 榕树旁" ||
		len(c.Photos) != 1 || c.Photos[0].URL != "https://example.org/p/1.jpg" {
		t.Errorf("stored case = %+v", c)
	}
	// The submitted event waits in the outbox for the router, which assigns
	// the case and pushes it to the grid leader as for any case.
	pending, err := f.store.PendingEvents(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].Case != number || pending[0].Kind != core.EventSubmitted {
		t.Errorf("outbox = %+v, want the submitted event of %s", pending, number)
	}
	// The log names the case and the channel, never what the caller sent.
	for _, secret := range []string{"13987654321", "榕树", "路灯不亮", apiKey, "zhang@example.org"} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("the log contains %q: %s", secret, f.logs)
		}
	}
	if !strings.Contains(f.logs.String(), number) {
		t.Errorf("the log does not name the case: %s", f.logs)
	}
	// The new case reads back through GET like any other.
	if code, body := f.get(t, "/open311/v2/requests/"+number+".json"); code != http.StatusOK ||
		strings.Contains(string(body), "13987654321") || strings.Contains(string(body), "榕树") {
		t.Errorf("GET the new case: %d %s", code, body)
	}
}

func TestPostMultipart(t *testing.T) {
	f := newFixture(t)
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, vs := range goodForm() {
		if err := mw.WriteField(k, vs[0]); err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/open311/v2/requests.json", &b)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	if code, body := f.do(t, r); code != http.StatusCreated {
		t.Fatalf("status %d: %s", code, body)
	}
	if f.caseCount(t) != 1 {
		t.Errorf("want one case")
	}
}

func TestPostRefusals(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(url.Values)
		status int
		says   string
	}{
		{"no api_key", func(v url.Values) { v.Del("api_key") }, http.StatusForbidden, "api_key"},
		{"wrong api_key", func(v url.Values) { v.Set("api_key", "guess") }, http.StatusForbidden, "api_key"},
		{"no service_code", func(v url.Values) { v.Del("service_code") }, http.StatusBadRequest, "service_code"},
		{"unknown service_code", func(v url.Values) { v.Set("service_code", "nosuch") }, http.StatusBadRequest, "service_code"},
		{"no location", func(v url.Values) { v.Del("lat"); v.Del("long") }, http.StatusBadRequest, "lat and long"},
		{"address only", func(v url.Values) { v.Del("lat"); v.Del("long"); v.Set("address_id", "123") }, http.StatusBadRequest, "lat and long"},
		{"only lat", func(v url.Values) { v.Del("long") }, http.StatusBadRequest, "lat and long"},
		{"lat not a number", func(v url.Values) { v.Set("lat", "north") }, http.StatusBadRequest, "WGS-84"},
		{"lat out of range", func(v url.Values) { v.Set("lat", "91") }, http.StatusBadRequest, "WGS-84"},
		{"lat NaN", func(v url.Values) { v.Set("lat", "NaN") }, http.StatusBadRequest, "WGS-84"},
		{"outside the town", func(v url.Values) {
			v.Set("lat", "23.5")
			v.Set("long", "113.5")
		}, http.StatusBadRequest, "outside every grid"},
		{"no description", func(v url.Values) { v.Set("description", "   ") }, http.StatusBadRequest, "description"},
		{"description too long", func(v url.Values) { v.Set("description", strings.Repeat("长", core.MaxTextLen+1)) },
			http.StatusBadRequest, "description"},
		{"bad phone", func(v url.Values) { v.Set("phone", "call me") }, http.StatusBadRequest, "phone"},
		{"bad media_url", func(v url.Values) { v.Set("media_url", "javascript:alert(1)") }, http.StatusBadRequest, "media_url"},
		{"body too large", func(v url.Values) { v.Set("description", strings.Repeat("x", 70<<10)) },
			http.StatusRequestEntityTooLarge, "KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			form := goodForm()
			tt.edit(form)
			code, body := f.post(t, form)
			if code != tt.status {
				t.Fatalf("status %d, want %d: %s", code, tt.status, body)
			}
			errs := objects(t, body)
			checkFields(t, "errors", errs, errorFields)
			if d, _ := errs[0]["description"].(string); !strings.Contains(d, tt.says) || errs[0]["code"] != float64(tt.status) {
				t.Errorf("error = %s, want code %d and a description naming %q", body, tt.status, tt.says)
			}
			if n := f.caseCount(t); n != 0 {
				t.Errorf("%d cases written, want none", n)
			}
		})
	}
}

func TestPostWithoutKeysConfigured(t *testing.T) {
	f := newFixture(t)
	srv := &open311.Server{Town: f.town, Store: f.store, Ledger: f.ledger}
	form := goodForm()
	for _, key := range []string{"", apiKey} {
		form.Set("api_key", key)
		r := httptest.NewRequest(http.MethodPost, "/open311/v2/requests.json", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		if w.Code != http.StatusForbidden {
			t.Errorf("key %q: status %d, want 403", key, w.Code)
		}
	}
}

// TestNoPersonalData greps every read answer for what a resident gave.
func TestNoPersonalData(t *testing.T) {
	f := newFixture(t)
	n := f.seed(t)
	paths := []string{
		"/open311/v2/requests.json?start_date=2026-01-01",
		"/open311/v2/requests.json?service_request_id=" + strings.Join(n, ","),
		"/open311/v2/services.json",
	}
	for _, number := range n {
		paths = append(paths, "/open311/v2/requests/"+number+".json")
	}
	for _, p := range paths {
		code, body := f.get(t, p)
		if code != http.StatusOK {
			t.Fatalf("%s: status %d", p, code)
		}
		for _, secret := range []string{residentOpenID, residentPhone, textPhone, locationLabel, "老榕树",
			"gl-L01-a", "黄家豪", "osample"} {
			if bytes.Contains(body, []byte(secret)) {
				t.Errorf("%s contains %q", p, secret)
			}
		}
	}
}

func TestInternalErrorsStayInside(t *testing.T) {
	f := newFixture(t)
	srv := &open311.Server{Town: f.town, Store: failingStore{f.store}, Ledger: f.ledger, PublicRead: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, p := range []string{"/open311/v2/requests.json", "/open311/v2/requests/ST1.json"} {
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil))
		if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "disk on fire") {
			t.Errorf("%s: %d %s", p, w.Code, w.Body)
		}
	}
}

// failingStore fails every read.
type failingStore struct{ core.CaseStore }

func (failingStore) Case(context.Context, string) (core.Case, error) {
	return core.Case{}, errors.New("disk on fire")
}

func (failingStore) Cases(context.Context, core.CaseQuery) ([]core.Case, error) {
	return nil, errors.New("disk on fire")
}

// countingStore counts the cases a listing reads from the store: those it
// is handed, or with a Keep every case the store's walk looks at.
type countingStore struct {
	core.CaseStore
	mu   sync.Mutex
	read int
}

func (s *countingStore) Cases(ctx context.Context, q core.CaseQuery) ([]core.Case, error) {
	count := func(n int) {
		s.mu.Lock()
		s.read += n
		s.mu.Unlock()
	}
	if keep := q.Keep; keep != nil {
		q.Keep = func(c *core.Case) bool {
			count(1)
			return keep(c)
		}
		return s.CaseStore.Cases(ctx, q)
	}
	cs, err := s.CaseStore.Cases(ctx, q)
	count(len(cs))
	return cs, err
}

// A listing reads the cases of its span and page, not the ledger's newest
// thousands: 90 cases over 30 days, and a span of two days read in pages.
func TestRequestsReadTheirSpan(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	byDay := map[int][]string{} // newest first within a day
	for day := 1; day <= 30; day++ {
		for i, kind := range []string{"light", "env", "light"} {
			f.clock.Set(at(day, 9+i))
			c, err := f.ledger.Submit(ctx, "oResident-"+strconv.Itoa(day*10+i),
				core.Draft{Category: kind, Text: "第" + strconv.Itoa(day) + "天", Grid: "M01"})
			if err != nil {
				t.Fatal(err)
			}
			byDay[day] = append([]string{c.Number}, byDay[day]...)
		}
	}
	f.clock.Set(at(30, 18))
	counted := &countingStore{CaseStore: f.store}
	srv := &open311.Server{Town: f.town, Store: counted, Ledger: f.ledger, PublicRead: true,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: f.clock.Now}
	span := "start_date=2026-11-10&end_date=2026-11-12" // the 10th and the 11th: midnight of the 12th is before its cases
	all := append(slices.Clone(byDay[11]), byDay[10]...)
	tests := []struct {
		name, query string
		want        []string
		next        bool
		maxRead     int
	}{
		{"the span, one page", span, all, false, 101},
		{"page 1 of 3", span + "&page_size=2", all[0:2], true, 20},
		{"page 2 of 3", span + "&page_size=2&page=2", all[2:4], true, 20},
		{"page 3 of 3", span + "&page_size=2&page=3", all[4:6], false, 20},
		{"page 4: empty", span + "&page_size=2&page=4", []string{}, false, 20},
		{"one code", span + "&service_code=env", []string{byDay[11][1], byDay[10][1]}, false, 101},
		{"two codes, one unknown", span + "&service_code=env,nosuch&page_size=1", []string{byDay[11][1]}, true, 20},
		{"open only", span + "&status=open&page_size=3", all[0:3], true, 20},
		{"the default 90 days, first page", "page_size=4", append(slices.Clone(byDay[30]), byDay[29][0]), true, 20},
		// Codes nobody filed under, over years: their categories' indexes
		// are read, not the cases they do not match.
		{"codes of no case, years long", "start_date=2020-01-01&end_date=2026-12-31&service_code=nosuch,nosuch2", []string{}, false, 0},
		{"one code, years long", "start_date=2020-01-01&end_date=2026-12-31&service_code=env&page_size=3",
			[]string{byDay[30][1], byDay[29][1], byDay[28][1]}, true, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counted.read = 0
			w := httptest.NewRecorder()
			srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/open311/v2/requests.json?"+tt.query, nil))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			got := []string{}
			for _, o := range objects(t, w.Body.Bytes()) {
				got = append(got, o["service_request_id"].(string))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("requests = %v, want %v", got, tt.want)
			}
			if next := w.Header().Get("Link") != ""; next != tt.next {
				t.Errorf("Link %q, want a next page: %v", w.Header().Get("Link"), tt.next)
			}
			if counted.read > tt.maxRead {
				t.Errorf("the listing read %d cases from the store, want at most %d (the ledger holds 90)", counted.read, tt.maxRead)
			}
		})
	}
}
