package open311_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"gridbot/core"
	"gridbot/open311"
)

// What a hostile reader found (issue 13, item 1): with no login every case
// came back with the resident's own words and exact coordinates. Now a read
// shows the text staff published, only for categories that may be
// published, and the grid's centre.
func TestOnlyPublishedWordsLeave(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.clock.Set(at(24, 9))
	const words = "报告人张三住塘口村9号，身份证440783199001011234，座机0750-2345678"
	security, err := f.ledger.Submit(ctx, "oSecurity", core.Draft{Category: "security", Text: words, Grid: "L01",
		Location: &core.Location{Point: core.Point{Lat: 22.3123, Lng: 112.5234}}})
	if err != nil {
		t.Fatal(err)
	}
	light, err := f.ledger.Submit(ctx, "oLight", core.Draft{Category: "light", Text: words, Grid: "L01",
		Location: &core.Location{Point: core.Point{Lat: 22.3123, Lng: 112.5234}}})
	if err != nil {
		t.Fatal(err)
	}
	// Staff may not publish a 治安隐患 case at all.
	if _, _, err := f.ledger.Publish(ctx, security.Number, "town-admin", "塘口村治安巡查"); err == nil {
		t.Fatal("a security case was published")
	}
	// A case published before its category was marked never_publish stays
	// unpublished: the category decides at every read.
	if _, _, err := f.store.UpdateCase(ctx, security.Number, func(c *core.Case) ([]core.Event, error) {
		c.Published = "塘口村治安巡查 13812345678"
		return []core.Event{{Kind: core.EventPublished, Actor: "town-admin", Text: c.Published}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	read := func() map[string]map[string]any {
		code, body := f.get(t, "/open311/v2/requests.json?start_date=2026-11-01")
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		for _, secret := range []string{"张三", "塘口村9号", "440783199001011234", "2345678", "治安巡查", "22.3123", "112.5234"} {
			if strings.Contains(string(body), secret) {
				t.Errorf("the listing shows %q: %s", secret, body)
			}
		}
		out := map[string]map[string]any{}
		for _, o := range objects(t, body) {
			out[o["service_request_id"].(string)] = o
		}
		return out
	}
	got := read()
	for _, n := range []string{security.Number, light.Number} {
		if got[n]["description"] != "" || got[n]["lat"] != 22.32 || got[n]["long"] != 112.53 {
			t.Errorf("%s: description %q at %v,%v; want none, at the grid's centre", n, got[n]["description"], got[n]["lat"], got[n]["long"])
		}
	}
	if _, _, err := f.ledger.Publish(ctx, light.Number, "v01-cadre", "塘口村一处路灯不亮，联系 13812345678"); err != nil {
		t.Fatal(err)
	}
	got = read()
	if d := got[light.Number]["description"]; d != "塘口村一处路灯不亮，联系 138****5678" {
		t.Errorf("published description %q", d)
	}
	if got[security.Number]["description"] != "" {
		t.Errorf("the security case shows %q", got[security.Number]["description"])
	}
}

// Reads need a key unless the town opens them; the key goes in the body,
// never the URL, on reads and on filings.
func TestReadsNeedAKeyInTheBody(t *testing.T) {
	f := newFixture(t)
	f.seed(t)
	srv := &open311.Server{Town: f.town, Store: f.store, Ledger: f.ledger, APIKeys: map[string]string{apiKey: "hotline"},
		Log: slog.New(slog.DiscardHandler), Now: f.clock.Now}
	h := srv.Handler()
	send := func(method, target, body string) (int, string) {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	key := url.Values{"api_key": {apiKey}}.Encode()
	tests := []struct {
		name, method, target, body string
		status                     int
	}{
		{"listing without a key", "GET", "/open311/v2/requests.json", "", http.StatusForbidden},
		{"one case without a key", "GET", "/open311/v2/requests/ST202611200001.json", "", http.StatusForbidden},
		{"services without a key", "GET", "/open311/v2/services.json", "", http.StatusForbidden},
		{"a wrong key", "GET", "/open311/v2/requests.json", "api_key=guess", http.StatusForbidden},
		{"the key in the body", "GET", "/open311/v2/requests.json?start_date=2026-11-01", key, http.StatusOK},
		{"the key in the URL", "GET", "/open311/v2/requests.json?" + key, "", http.StatusBadRequest},
		{"the key in the URL of a filing", "POST", "/open311/v2/requests.json?" + key, goodForm().Encode(), http.StatusBadRequest},
		{"a filing with the key only in the URL", "POST", "/open311/v2/requests.json?" + key,
			func() string { v := goodForm(); v.Del("api_key"); return v.Encode() }(), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := send(tt.method, tt.target, tt.body); code != tt.status {
				t.Fatalf("status %d, want %d: %s", code, tt.status, body)
			}
		})
	}
	if n := f.caseCount(t); n != 3 {
		t.Errorf("%d cases, want the 3 seeded: a refused filing filed one", n)
	}
}

// Listings come a bounded page at a time, with a link to the next.
func TestRequestsPaged(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 7 {
		f.clock.Set(at(24, 9+i))
		if _, err := f.ledger.Submit(ctx, fmt.Sprint("oPage", i), core.Draft{Category: "env", Text: "垃圾", Grid: "M01"}); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Set(at(25, 9))
	var seen []string
	target := "/open311/v2/requests.json?page_size=3"
	for pages := 0; target != ""; pages++ {
		if pages > 3 {
			t.Fatal("the pages never end")
		}
		w := httptest.NewRecorder()
		f.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		objs := objects(t, w.Body.Bytes())
		if w.Code != http.StatusOK || len(objs) > 3 {
			t.Fatalf("%s: %d, %d requests", target, w.Code, len(objs))
		}
		for _, o := range objs {
			seen = append(seen, o["service_request_id"].(string))
		}
		target = ""
		if link := w.Header().Get("Link"); link != "" {
			target = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		}
	}
	if len(seen) != 7 {
		t.Errorf("paged through %v, want 7 cases", seen)
	}
	// Deeper than 5,000 requests is refused: a listing reads what it skips;
	// so are more than 20 codes, each read from its own index.
	var codes []string
	for i := range 21 {
		codes = append(codes, fmt.Sprint("c", i))
	}
	manyCodes := strings.Join(codes, ",")
	if code, body := f.get(t, "/open311/v2/requests.json?page_size=200&page=25"); code != http.StatusOK {
		t.Errorf("page 25 of 200: %d %s", code, body)
	}
	for _, q := range []string{"page_size=201", "page_size=0", "page=0", "page=x", "page_size=200&page=26", "page=51",
		"page=99999999999999999999", "service_code=" + manyCodes} {
		if code, body := f.get(t, "/open311/v2/requests.json?"+q); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
}
