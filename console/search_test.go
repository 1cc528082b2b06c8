package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"gridbot/core"
)

// TestSearchAPI: the search finds by number, words, phone (whole or last
// four, and a whole one also the bound resident's cases), a 代录 name;
// phone and name only for
// whoever may read that case's personal data — a department called to a
// case, or a village, searching a phone finds nothing.
func TestSearchAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.srv.Households = &core.Households{Records: f.store}
	if err := f.srv.Households.SaveHousehold(ctx, core.Household{OpenID: "o-resident-g1", Grid: "g1", Name: "刘伯",
		Address: "东山村三巷5号", Phone: "13900139000"}); err != nil {
		t.Fatal(err)
	}
	filed, err := f.ledger.FileFor(ctx, "lead1", core.ProxyFiling{Draft: core.Draft{Category: "env", Text: "河边有死鱼",
		Grid: "g2", Phone: "13700001111"}, Channel: core.IntakePhone, Contact: "黄阿婆"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ledger.Whistle(ctx, f.cases["g1"], "admin", "cj", "灯杆"); err != nil {
		t.Fatal(err)
	}
	g1, g2, g3 := f.cases["g1"], f.cases["g2"], f.cases["g3"]
	search := func(who, q string) []string {
		t.Helper()
		resp, raw := f.request(t, http.MethodGet, "/api/cases?state=&q="+url.QueryEscape(q), f.login(t, who), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("search %q: %d %s", q, resp.StatusCode, raw)
		}
		got := numbers(decode[struct {
			Cases []caseView `json:"cases"`
		}](t, raw).Cases)
		slices.Sort(got)
		return got
	}
	sorted := func(ns ...string) []string { slices.Sort(ns); return ns }
	for _, tt := range []struct {
		who, q string
		want   []string
	}{
		{"admin", g3, []string{g3}},
		{"admin", "井盖", []string{g3}},
		{"admin", residentPhone, sorted(g1, g2, g3)},
		{"admin", "5678", sorted(g1, g2, g3)},
		{"lead1", "5678", sorted(g1, g2)},
		{"lead1", "1111", []string{filed.Number}},
		{"lead1", "黄阿婆", []string{filed.Number}},
		{"admin", "13900139000", []string{g1}}, // the household's phone, not the case's
		{"lead1", "139-0013-9000", []string{g1}},
		{"dept1", "路灯", []string{g1}},
		{"dept1", residentPhone, nil},
		{"dept1", "5678", nil},
		{"dept1", "13900139000", nil},
		{"cadre1", "5678", nil},
		{"cadre1", "黄阿婆", nil},
		{"lead2", "1111", nil},
		// The name in the household file, not on the case.
		{"admin", "刘伯", []string{g1}},
		{"lead1", "刘 伯", []string{g1}},
		{"lead1", "刘", nil},
		{"dept1", "刘伯", nil},
		{"cadre1", "刘伯", nil},
		{"lead2", "刘伯", nil},
	} {
		if got := search(tt.who, tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%s searches %q: %v, want %v", tt.who, tt.q, got, tt.want)
		}
	}
	// A changed name is found by the new one only; a file gone (注销),
	// by neither.
	if err := f.srv.Households.SaveHousehold(ctx, core.Household{OpenID: "o-resident-g1", Grid: "g1", Name: "刘大伯"}); err != nil {
		t.Fatal(err)
	}
	if got := search("admin", "刘伯"); got != nil {
		t.Errorf("the old name finds %v", got)
	}
	if got := search("admin", "刘大伯"); !slices.Equal(got, []string{g1}) {
		t.Errorf("the new name finds %v", got)
	}
	if err := f.srv.Households.Forget(ctx, "o-resident-g1", nil); err != nil {
		t.Fatal(err)
	}
	if got := search("admin", "刘大伯"); got != nil {
		t.Errorf("a forgotten household's name finds %v", got)
	}
}

// TestHouseholdNearby: a case's household file lists the grid's cases
// within the radius as 附近, whatever their words and labels, for whoever
// may read the location; others do not learn what is near.
func TestHouseholdNearby(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.srv.HouseholdRadiusM = 100
	place := func(lat, lng float64, label string) *core.Location {
		return &core.Location{Point: core.Point{Lat: lat, Lng: lng}, Label: label}
	}
	file := func(resident string, loc *core.Location) string {
		c, err := f.ledger.Submit(ctx, resident, core.Draft{Category: "road", Text: "水管漏水", Grid: "g1", Location: loc})
		if err != nil {
			t.Fatal(err)
		}
		return c.Number
	}
	// The fixture's g1 case is at 30.123456, 120.654321.
	near := file("o-near", place(30.1238, 120.6545, "祠堂旁")) // about 40 m
	far := file("o-far", place(30.1290, 120.6600, "村委会"))   // about 800 m
	none := file("o-none", nil)
	household := func(who string) map[string]string {
		t.Helper()
		_, raw := f.request(t, http.MethodGet, "/api/cases/"+f.cases["g1"], f.login(t, who), nil)
		out := map[string]string{}
		for _, h := range decode[struct {
			Household []householdCase `json:"household"`
		}](t, raw).Household {
			out[h.Number] = h.Relation
		}
		return out
	}
	got := household("lead1")
	if got[near] != "附近" || got[far] != "" || got[none] != "" {
		t.Errorf("the leader's household list: %v", got)
	}
	if got := household("cadre1"); got[near] != "" {
		t.Errorf("the village learns what is near: %v", got)
	}
}
