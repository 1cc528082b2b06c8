package console

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// directoryCodes are the fixture's internal codes, which people must never
// read: grid, village, department and category IDs, and the total row's key.
var directoryCodes = []string{"g1", "g2", "g3", "v1", "v2", "cj", "pcs", "road", "env", "total"}

// TestPeopleSeeNames: every table people download, and the texts the page
// shows for a correction, a whistle and a post, name things; no cell is a
// directory code.
func TestPeopleSeeNames(t *testing.T) {
	f := whistled(t)
	ctx := context.Background()
	if _, _, err := f.ledger.Reclassify(ctx, f.cases["g2"], "admin", "road", "g3", "居民选错了"); err != nil {
		t.Fatal(err)
	}
	admin := f.login(t, "admin")
	for _, path := range []string{
		"/api/figures/rates.csv?by=grid", "/api/figures/rates.csv?by=village", "/api/figures/rates.csv?by=department",
		"/api/figures/rates.csv?by=month", "/api/figures/ledger.csv?by=grid", "/api/figures/ledger.csv?by=village",
		"/api/figures/ledger.csv?by=department", "/api/cases.csv?state=",
	} {
		resp, body := f.request(t, http.MethodGet, path, admin, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		for i, rec := range readCSV(t, body) {
			for _, cell := range rec {
				for _, code := range directoryCodes {
					if cell == code {
						t.Errorf("%s row %d has the code %q: %v", path, i, code, rec)
					}
				}
			}
		}
	}

	_, body := f.request(t, http.MethodGet, "/api/cases/"+f.cases["g2"], admin, nil)
	got := decode[struct{ Events []eventView }](t, body)
	var found bool
	for _, e := range got.Events {
		if e.Kind != "reclassified" {
			continue
		}
		found = true
		want := map[string]string{"old_category_name": "环境卫生", "category_name": "道路设施",
			"old_grid_name": "东山村 · 二网格", "grid_name": "西湖社区 · 三网格"}
		for k, v := range want {
			if e.Data[k] != v {
				t.Errorf("reclassified data %s = %q, want %q", k, e.Data[k], v)
			}
		}
	}
	if !found {
		t.Error("no reclassified event")
	}
	_, body = f.request(t, http.MethodGet, "/api/cases/"+f.cases["g3"], admin, nil)
	got = decode[struct{ Events []eventView }](t, body)
	for _, e := range got.Events {
		if e.Kind == "whistled" && e.Data["department_name"] != "城建办" {
			t.Errorf("whistled data %v", e.Data)
		}
	}

	_, body = f.request(t, http.MethodGet, "/api/staff", admin, nil)
	list := decode[struct{ Staff []staffAdminView }](t, body)
	for _, s := range list.Staff {
		if s.ID == "lead1" && strings.Join(s.PostNames, "，") != "东山村 · 一网格 A岗，东山村 · 一网格 B岗，东山村 · 二网格 A岗，东山村 · 二网格 B岗" {
			t.Errorf("lead1's posts read %q", s.PostNames)
		}
	}
}
