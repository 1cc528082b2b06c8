package console

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbot/core"
	"gridbot/export/xlsx"
)

// withHouseholds links cadre1 (李主任, v1) to two households on g1 and
// lead2 to one on g3, and keeps visits.
func withHouseholds(t testing.TB) fixtureOption {
	return func(f *fixture) {
		base := *f.town
		base.Linked = []core.LinkedHousehold{
			{Cadre: "cadre1", Grid: "g1", Address: "东山村一巷3号", Name: "陈伯", Phone: "13800000001"},
			{Cadre: "cadre1", Grid: "g2", Address: "东山村二巷8号", Name: "黄婆婆"},
			{Cadre: "lead2", Grid: "g3", Address: "西湖社区5栋", Name: "吴婶"},
		}
		town, err := core.NewTown(base)
		if err != nil {
			t.Fatal(err)
		}
		f.town, f.srv.Town, f.ledger.Town = town, town, town
		f.srv.Visits = &core.Visits{Links: &core.LinkBook{Town: town, Records: f.store}, Store: f.store, Ledger: f.ledger}
	}
}

type householdList struct {
	Households []householdView `json:"households"`
	MayImport  bool            `json:"may_import"`
}

type householdFile struct {
	Household householdView `json:"household"`
	Visits    []visitView   `json:"visits"`
	Cases     []caseView    `json:"cases"`
	MayVisit  bool          `json:"may_visit"`
}

// TestHouseholdsAPI: each sees the households theirs to see (phones masked
// but for the cadre and the town); only the cadre records a visit (a grid
// leader who reads the file is refused in the policy's words, a stranger
// told there is no such household); a resent visit records once; a visit
// that becomes a case files it on the household's grid, and the file shows
// the visits and the case together; the figures count the visits.
func TestHouseholdsAPI(t *testing.T) {
	f := newFixture(t, withHouseholds(t))
	hh := f.town.Linked[0].ID
	cookies := map[string]*http.Cookie{}
	for _, id := range []string{"admin", "cadre1", "lead1", "lead2", "dept1"} {
		cookies[id] = f.login(t, id)
	}
	for id, want := range map[string]int{"admin": 3, "cadre1": 2, "lead1": 2, "lead2": 1, "dept1": 0} {
		resp, raw := f.request(t, http.MethodGet, "/api/households", cookies[id], nil)
		got := decode[householdList](t, raw)
		if resp.StatusCode != 200 || len(got.Households) != want || got.MayImport != (id == "admin") {
			t.Errorf("%s lists %d (%d), may import %v: %s", id, len(got.Households), resp.StatusCode, got.MayImport, raw)
		}
		for _, h := range got.Households {
			if h.ID == hh && (h.Phone == "13800000001") != (id == "cadre1" || id == "admin") {
				t.Errorf("%s reads the phone as %q", id, h.Phone)
			}
		}
	}

	path := "/api/households/" + hh + "/visits"
	if resp, raw := f.request(t, http.MethodPost, path, cookies["lead1"], visitBody{Found: "看看"}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(errorMessage(t, raw), "李主任包联") {
		t.Errorf("lead1 visits: %d %s", resp.StatusCode, raw)
	}
	for _, id := range []string{"lead2", "dept1"} {
		if resp, _ := f.request(t, http.MethodPost, path, cookies[id], visitBody{Found: "看看"}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s visits: %d", id, resp.StatusCode)
		}
	}
	if resp, _ := f.request(t, http.MethodPost, path, cookies["cadre1"], visitBody{Found: " "}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an empty visit: %d", resp.StatusCode)
	}
	if resp, _ := f.request(t, http.MethodPost, path, cookies["cadre1"], visitBody{Found: "坏了", ToCase: true, Category: "nope"}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown category: %d", resp.StatusCode)
	}
	var first string
	for range 2 {
		resp, raw := f.request(t, http.MethodPost, path, cookies["cadre1"], visitBody{Found: "家里都好", Key: "form-1"})
		v := decode[struct {
			Visit visitView `json:"visit"`
		}](t, raw)
		if resp.StatusCode != 200 || (first != "" && v.Visit.ID != first) {
			t.Fatalf("visit: %d %s", resp.StatusCode, raw)
		}
		first = v.Visit.ID
	}
	resp, raw := f.request(t, http.MethodPost, path, cookies["cadre1"], visitBody{Found: "门口路面塌了一块", ToCase: true, Category: "road", Key: "form-2"})
	withCase := decode[struct {
		Case string `json:"case"`
	}](t, raw)
	if resp.StatusCode != 200 || withCase.Case == "" {
		t.Fatalf("visit with a case: %d %s", resp.StatusCode, raw)
	}
	c, err := f.store.Case(context.Background(), withCase.Case)
	if err != nil || c.Household != hh || c.Grid != "g1" || !c.Found() || c.Finder != "cadre1" {
		t.Fatalf("the case: %+v %v", c, err)
	}

	resp, raw = f.request(t, http.MethodGet, "/api/households/"+hh, cookies["lead1"], nil)
	file := decode[householdFile](t, raw)
	withCaseVisits := 0
	for _, v := range file.Visits {
		if v.Case == withCase.Case {
			withCaseVisits++
		}
	}
	if resp.StatusCode != 200 || file.MayVisit || len(file.Visits) != 2 || withCaseVisits != 1 ||
		len(file.Cases) != 1 || file.Cases[0].Number != withCase.Case {
		t.Fatalf("the file as lead1: %d %s", resp.StatusCode, raw)
	}
	if resp, _ := f.request(t, http.MethodGet, "/api/households/"+hh, cookies["lead2"], nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("lead2 reads cadre1's household: %d", resp.StatusCode)
	}

	for id, want := range map[string]int{"admin": 2, "cadre1": 2, "lead2": 0} {
		_, raw := f.request(t, http.MethodGet, "/api/figures/visits?by=cadre", cookies[id], nil)
		rows := decode[struct {
			Rows []core.VisitRow `json:"rows"`
		}](t, raw).Rows
		if total := rows[len(rows)-1]; total.Key != "total" || total.Visits != want {
			t.Errorf("%s counts %+v, want %d", id, rows, want)
		}
	}
	if resp, _ := f.request(t, http.MethodGet, "/api/figures/visits?by=nope", cookies["admin"], nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown grouping: %d", resp.StatusCode)
	}
	resp, raw = f.request(t, http.MethodGet, "/api/figures/visits.csv?by=month", cookies["admin"], nil)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), "2026年11月,2") {
		t.Errorf("csv: %d %s", resp.StatusCode, raw)
	}
}

// TestHouseholdImport: the town links households from a workbook, cadres
// and grids by name or ID, each row checked as the directory's and refused
// with its row and reason; nobody else may import.
func TestHouseholdImport(t *testing.T) {
	f := newFixture(t, withHouseholds(t))
	var b bytes.Buffer
	err := xlsx.Write(&b, []xlsx.Sheet{{Name: "包联农户", Header: []string{"包联干部", "网格", "地址", "户主", "电话"}, Rows: [][]any{
		{"李主任", "一网格", "东山村三巷1号", "梁伯", ""},
		{"lead1", "g2", "东山村三巷2号", "吴叔", "13900000002"},
		{"周城建", "g1", "东山村三巷3号", "", ""},
		{"李主任", "九网格", "东山村三巷4号", "", ""},
		{"", "", "", "", ""},
		{"lead1", "g1", "", "", ""},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	body, ct := multipartFile(t, "file", "包联.xlsx", b.Bytes())
	if resp, _ := f.request(t, http.MethodPost, "/api/households/import", f.login(t, "cadre1"), body, ct); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a village imports: %d", resp.StatusCode)
	}
	resp, raw := f.request(t, http.MethodPost, "/api/households/import", f.login(t, "admin"), body, ct)
	got := decode[struct {
		Linked  int                `json:"linked"`
		Refused []core.LinkRefusal `json:"refused"`
	}](t, raw)
	if resp.StatusCode != 200 || got.Linked != 2 || len(got.Refused) != 3 || got.Refused[0].Row != 4 || got.Refused[1].Row != 5 ||
		got.Refused[2].Row != 7 || !strings.Contains(got.Refused[1].Reason, "网格") {
		t.Fatalf("import: %d %s", resp.StatusCode, raw)
	}
	_, raw = f.request(t, http.MethodGet, "/api/households", f.login(t, "lead1"), nil)
	if n := len(decode[householdList](t, raw).Households); n != 4 {
		t.Errorf("lead1 lists %d households after the import, want 4", n)
	}
	if resp, raw := f.request(t, http.MethodGet, "/api/households/import-template.xlsx", f.login(t, "admin"), nil); resp.StatusCode != 200 || len(raw) == 0 {
		t.Errorf("template: %d", resp.StatusCode)
	}
}

// TestBrowserHouseholds: a cadre opens 包联农户, a household's file, records
// a visit whose problem becomes a case, and sees the visit and the case in
// the file, whose page links back to the file; a grid leader who may read
// the file has no form.
func TestBrowserHouseholds(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t, withHouseholds(t))
	hh := f.town.Linked[0].ID
	loginAs(t, ctx, f, "cadre1")
	err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("nav-households")),
		chromedp.Click(chromedp.ID("nav-households")),
		chromedp.WaitVisible(chromedp.CSS(`#households-rows a[href="#/household/`+hh+`"]`)),
		chromedp.Click(chromedp.CSS(`#households-rows a[href="#/household/`+hh+`"]`)),
		chromedp.WaitVisible(chromedp.ID("visit-form")),
		chromedp.SendKeys(chromedp.ID("visit-found"), "<b>门口</b>路面塌了一块"),
		chromedp.Click(chromedp.ID("visit-to-case")),
		chromedp.WaitVisible(chromedp.ID("visit-category")),
		chromedp.Click(chromedp.ID("visit-send")),
		chromedp.WaitVisible(chromedp.CSS(`#household-visits tr`)),
		chromedp.WaitVisible(chromedp.CSS(`#household-cases tr a`)),
	)
	if err != nil {
		t.Fatalf("record a visit: %v", err)
	}
	found, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`#household-visits tr td:nth-child(3)`)))
	if err != nil || found != "<b>门口</b>路面塌了一块" {
		t.Errorf("the visit reads %q (%v)", found, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('visit-notice').textContent.includes('ST')`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("no notice naming the case: %v", err)
	}
	visits, err := f.store.HouseholdVisits(context.Background(), hh, 10)
	if err != nil || len(visits) != 1 || visits[0].Case == "" {
		t.Fatalf("stored visits %+v %v", visits, err)
	}

	// The case links back to the household's file.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#household-cases tr a`)),
		chromedp.WaitVisible(chromedp.ID("case-household")),
		chromedp.Click(chromedp.ID("case-household")),
		chromedp.WaitVisible(chromedp.ID("household-view")),
		chromedp.WaitVisible(chromedp.CSS(`#household-visits tr`)),
	)
	if err != nil {
		t.Fatalf("from the case back to the household: %v", err)
	}

	// A grid leader of g1 reads the file, and has no form.
	ctx2 := newTab(t)
	loginAs(t, ctx2, f, "lead1")
	err = chromedp.Do(ctx2,
		chromedp.WaitVisible(chromedp.ID("nav-households")),
		chromedp.Navigate(f.ts.URL+"/#/household/"+hh),
		chromedp.WaitVisible(chromedp.CSS(`#household-cases tr a`)),
	)
	if err != nil {
		t.Fatalf("lead1 opens the file: %v", err)
	}
	hidden, err := chromedp.Run(ctx2, chromedp.Evaluate[bool](`document.getElementById('visit-form').hidden`))
	if err != nil || !hidden {
		t.Errorf("lead1 sees the visit form (hidden=%v, %v)", hidden, err)
	}

	// A visit the cadre records from chat (no case, so no event on the
	// live feed) appears on lead1's open file without a reload.
	if _, _, err := f.srv.Visits.Record(context.Background(), "cadre1", core.VisitReport{Household: hh, Found: "家里老人身体好，无诉求"}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx2, chromedp.Poll[bool](`[...document.querySelectorAll('#household-visits tr')].some((tr) => tr.textContent.includes('无诉求'))`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Errorf("the visit from chat is not on the open file: %v", err)
	}
}
