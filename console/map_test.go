package console

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

type mapAnswer struct {
	Grids []mapGrid `json:"grids"`
	Pins  []mapPin  `json:"pins"`
	Tiles *mapTiles `json:"tiles"`
}

// TestMapAPI: each role's map has the grids it sees with their open cases
// counted, and pins only where it may read the resident's location.
func TestMapAPI(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		staff string
		grids []string
		pins  int
	}{
		{"admin", []string{"g1", "g2", "g3"}, 3},
		{"cadre1", []string{"g1", "g2"}, 0}, // a village reads no resident's location
		{"lead2", []string{"g3"}, 1},
	}
	for _, tt := range tests {
		_, body := f.request(t, http.MethodGet, "/api/map", f.login(t, tt.staff), nil)
		m := decode[mapAnswer](t, body)
		var ids []string
		for _, g := range m.Grids {
			ids = append(ids, g.ID)
			if len(g.Boundary) != 4 || g.Open != 1 || g.Place == "" {
				t.Errorf("%s: grid %+v", tt.staff, g)
			}
		}
		if !slices.Equal(ids, tt.grids) || len(m.Pins) != tt.pins || m.Tiles != nil {
			t.Errorf("%s: grids %v pins %d tiles %v, want %v %d none", tt.staff, ids, len(m.Pins), m.Tiles, tt.grids, tt.pins)
		}
	}
	// A 天地图 key puts the tiles on the map and lets the page load them.
	f.srv.TiandituKey = "browser-key"
	resp, body := f.request(t, http.MethodGet, "/api/map", f.login(t, "admin"), nil)
	if m := decode[mapAnswer](t, body); m.Tiles == nil || m.Tiles.Tianditu != "browser-key" {
		t.Errorf("tiles %+v", m.Tiles)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' https://*.tianditu.gov.cn;") {
		t.Errorf("CSP %q", csp)
	}
}

// TestBrowserMap: every grid is drawn and named, coloured by its worst open
// case; the pins cluster; a click on a grid opens its queue; the map follows
// a new case live; a case's page shows it on its grid.
func TestBrowserMap(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t)
	loginAs(t, ctx, f, "admin")
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`location.hash = '#/map'`),
		chromedp.WaitVisible(chromedp.CSS(`#town-map svg path.grid`))); err != nil {
		t.Fatalf("open the map: %v", err)
	}
	for _, g := range []struct{ id, name, status string }{
		{"g1", "一网格", "overdue"}, // 道路设施 in 24 h, two days ago
		{"g2", "二网格", "open"},
		{"g3", "三网格", "overdue"},
	} {
		status := evalJS[string](t, ctx, fmt.Sprintf(`(document.querySelector('#town-map path.grid[data-grid=%q]') || {dataset: {}}).dataset.status || ''`, g.id))
		name := evalJS[string](t, ctx, fmt.Sprintf(`(document.querySelector('#town-map text.grid-name[data-grid=%q]') || {}).textContent || ''`, g.id))
		if status != g.status || !strings.HasPrefix(name, g.name) {
			t.Errorf("grid %s drawn as %q named %q, want %q %q", g.id, status, name, g.status, g.name)
		}
	}
	// The three cases were filed at one spot: one cluster of three.
	if n := evalJS[string](t, ctx, `(document.querySelector('#town-map .cluster') || {dataset: {}}).dataset.count || ''`); n != "3" {
		t.Errorf("cluster of %q pins", n)
	}

	// A case filed now shows on the map without a reload.
	f.fileAndPublish(t, "g2", "二网格又一件")
	waitFor(t, ctx, `(document.querySelector('#town-map text.grid-name[data-grid="g2"]') || {}).textContent === '二网格（2）'`, "the map to count the new case")

	// A click on a grid opens its queue.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#town-map path.grid[data-grid="g2"]`)),
		chromedp.WaitVisible(chromedp.ID("list-view"))); err != nil {
		t.Fatalf("click the grid: %v", err)
	}
	waitFor(t, ctx, `document.getElementById('filter-grid').value === 'g2' && document.querySelectorAll('#case-list .case-row').length === 2`, "the grid's queue")
	places := evalJS[[]string](t, ctx, `[...document.querySelectorAll('#case-list .case-row .place')].map((e) => e.textContent)`)
	for _, p := range places {
		if p != "东山村 · 二网格" {
			t.Errorf("the queue of 二网格 lists a case in %q", p)
		}
	}

	// The case page shows the case on its grid.
	openCasePage(t, ctx, f, f.cases["g1"])
	waitFor(t, ctx, `!!document.querySelector('#case-map path.grid[data-grid="g1"]') && !!document.querySelector('#case-map circle.pin')`, "the case's map")
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#case-map path.grid').length`); n != 1 {
		t.Errorf("the case's map draws %d grids", n)
	}
}
