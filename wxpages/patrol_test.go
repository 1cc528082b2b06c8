package wxpages

import (
	"context"
	"net/http"
	"testing"

	"gridbot/core"
)

// TestPatrolReportForm: the form offers 主动发现 to bound staff who may
// report, files it as found by the grid on the finder's grid, once per
// key, without the finder's phone; a resident, a department and a leader
// of another grid are refused in words and nothing is filed.
func TestPatrolReportForm(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var dir struct{ Patrol bool }
	phones := map[string]*phone{}
	for _, openid := range []string{oLead1, oLead2, oTown, oDept, oOther} {
		phones[openid] = f.phone(t, openid)
		phones[openid].open(t, "/wx/report")
	}
	for openid, want := range map[string]bool{oLead1: true, oTown: true, oDept: false, oOther: false} {
		p := phones[openid]
		if p.get(t, "/wx/api/directory", &dir) != http.StatusOK || dir.Patrol != want {
			t.Errorf("%s is offered patrol: %v, want %v", openid, dir.Patrol, want)
		}
	}
	before, _ := f.store.Cases(ctx, core.CaseQuery{})
	fields := func(key string) map[string]string {
		return map[string]string{"origin": "patrol", "category": "road", "text": "桥边护栏松动", "lat": "22.315", "lng": "112.605",
			"phone": "13900001111", "key": key}
	}
	for _, tc := range []struct {
		openid string
		status int
	}{{oOther, http.StatusForbidden}, {oDept, http.StatusForbidden}, {oLead2, http.StatusForbidden}} {
		p := phones[tc.openid]
		if code, body := p.post(t, "/wx/api/report", fields("form-x"), nil); code != tc.status || body["error"] == "" {
			t.Errorf("%s: %d %v", tc.openid, code, body)
		}
	}
	if after, _ := f.store.Cases(ctx, core.CaseQuery{}); len(after) != len(before) {
		t.Fatalf("refused reports filed %d cases", len(after)-len(before))
	}
	p := phones[oLead1]
	code, a := p.post(t, "/wx/api/report", fields("form-1"), []file{{"a.png", pngBytes}})
	if code != http.StatusOK {
		t.Fatalf("report: %d %v", code, a)
	}
	code, b := p.post(t, "/wx/api/report", fields("form-1"), []file{{"a.png", pngBytes}})
	if code != http.StatusOK || a["number"] != b["number"] {
		t.Fatalf("retry: %d %v %v", code, a, b)
	}
	c, err := f.ledger.Case(ctx, a["number"].(string))
	if err != nil || !c.Found() || c.Finder != "lead1" || c.Resident != "" || c.Phone != "" || c.Grid != "g1" || len(c.Photos) != 1 {
		t.Fatalf("filed: %+v %v", c, err)
	}
	// The finder reads it on its page as staff.
	if v := p.view(t, c.Number); v["role"] == "resident" {
		t.Errorf("the finder reads the report as its resident: %v", v["role"])
	}
}
