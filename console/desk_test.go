package console

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"gridbot/core"
)

// deskCase is a case detail with its log, as the API answers a step.
type deskAnswer struct {
	Case struct {
		Number       string   `json:"number"`
		State        string   `json:"state"`
		Channel      string   `json:"channel"`
		ChannelLabel string   `json:"channel_label"`
		Contact      string   `json:"contact"`
		Phone        string   `json:"phone"`
		Urgent       bool     `json:"urgent"`
		Urges        int      `json:"urges"`
		MergedInto   string   `json:"merged_into"`
		Joined       int      `json:"joined"`
		Actions      []string `json:"actions"`
	} `json:"case"`
	Events []eventView `json:"events"`
	Bound  bool        `json:"bound"`
}

// TestFileForAPI: staff file a case for a resident who phoned; it is on the
// ledger marked with its channel, found by its phone's household when
// bound; other grids', departments' and malformed filings are refused and
// write nothing.
func TestFileForAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	households := &core.Households{Records: f.store}
	f.srv.Households = households
	if err := households.SaveHousehold(ctx, core.Household{OpenID: "o-bound", Grid: "g1", Village: "v1",
		Phone: "13900139000", Name: "刘伯"}); err != nil {
		t.Fatal(err)
	}
	lead1, lead2, dept1, cadre1 := f.login(t, "lead1"), f.login(t, "lead2"), f.login(t, "dept1"), f.login(t, "cadre1")
	body := map[string]any{"channel": "phone", "category": "road", "grid": "g1", "text": "桥头路灯不亮",
		"phone": "13800138000", "contact": "李阿姨", "address": "东山村三巷5号", "key": "k1"}
	resp, raw := f.request(t, http.MethodPost, "/api/cases", lead1, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("file: %d %s", resp.StatusCode, raw)
	}
	got := decode[deskAnswer](t, raw)
	if got.Case.Channel != "phone" || got.Case.ChannelLabel != "电话代录" || got.Case.Contact != "李阿姨" || got.Bound {
		t.Errorf("filed %+v", got)
	}
	// A double click files once.
	if _, raw := f.request(t, http.MethodPost, "/api/cases", lead1, body); decode[deskAnswer](t, raw).Case.Number != got.Case.Number {
		t.Errorf("the same key filed twice")
	}
	c, err := f.store.Case(ctx, got.Case.Number)
	if err != nil || !core.IsOfflineResident(c.Resident) || c.Phone != "13800138000" {
		t.Errorf("stored %+v %v", c, err)
	}
	// The village reads the name masked; the handler reads it whole.
	if _, raw := f.request(t, http.MethodGet, "/api/cases/"+c.Number, cadre1, nil); strings.Contains(string(raw), "李阿姨") ||
		!strings.Contains(string(raw), `"contact":"李**"`) {
		t.Errorf("the village reads %s", raw)
	}

	bound := map[string]any{"channel": "walk_in", "category": "env", "grid": "g1", "text": "垃圾没人清", "phone": "139 0013 9000"}
	resp, raw = f.request(t, http.MethodPost, "/api/cases", cadre1, bound)
	if g := decode[deskAnswer](t, raw); resp.StatusCode != http.StatusCreated || !g.Bound {
		t.Errorf("bound: %d %s", resp.StatusCode, raw)
	} else if c, _ := f.store.Case(ctx, g.Case.Number); c.Resident != "o-bound" {
		t.Errorf("bound resident %q", c.Resident)
	}

	before, _ := f.store.Cases(ctx, core.CaseQuery{})
	for _, tt := range []struct {
		who    *http.Cookie
		body   map[string]any
		status int
		words  string
	}{
		{lead2, body, http.StatusForbidden, "只能为本人负责的网格"},
		{dept1, body, http.StatusForbidden, "部门不能代录"},
		{lead1, map[string]any{"channel": "phone", "category": "road", "grid": "g1", "text": "x", "phone": "<script>"}, http.StatusBadRequest, "电话只能是数字"},
		{lead1, map[string]any{"channel": "fax", "category": "road", "grid": "g1", "text": "x"}, http.StatusBadRequest, "请选择类别"},
		{lead1, map[string]any{"channel": "phone", "category": "road", "grid": "g1", "text": strings.Repeat("长", 1001)}, http.StatusBadRequest, "1000字"},
		{nil, body, http.StatusUnauthorized, ""},
	} {
		resp, raw := f.request(t, http.MethodPost, "/api/cases", tt.who, tt.body)
		if resp.StatusCode != tt.status || !strings.Contains(string(raw), tt.words) {
			t.Errorf("%v: %d %s, want %d %q", tt.body["grid"], resp.StatusCode, raw, tt.status, tt.words)
		}
	}
	if after, _ := f.store.Cases(ctx, core.CaseQuery{}); len(after) != len(before) {
		t.Errorf("refused filings wrote %d cases", len(after)-len(before))
	}
}

// TestNotesUrgeUrgentMergeAPI: the desk's steps through the API, with the
// policy's words when refused, and a merge that does not confirm a case
// the merger may not see.
func TestNotesUrgeUrgentMergeAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.srv.Households = &core.Households{Records: f.store}
	lead1, lead2, cadre1, admin := f.login(t, "lead1"), f.login(t, "lead2"), f.login(t, "cadre1"), f.login(t, "admin")
	g1, g2, g3 := f.cases["g1"], f.cases["g2"], f.cases["g3"]
	post := func(who *http.Cookie, number, step string, body any) (int, deskAnswer, string) {
		t.Helper()
		resp, raw := f.request(t, http.MethodPost, "/api/cases/"+number+"/"+step, who, body)
		var a deskAnswer
		if resp.StatusCode == http.StatusOK {
			a = decode[deskAnswer](t, raw)
		}
		return resp.StatusCode, a, string(raw)
	}

	if code, a, raw := post(lead1, g1, "note", map[string]string{"text": "已电话联系，居民电话13800138000"}); code != 200 ||
		len(a.Events) != 1 || a.Events[0].Kind != core.EventNoted || strings.Contains(raw, "13800138000") {
		t.Errorf("note: %d %s", code, raw)
	}
	if code, _, _ := post(lead2, g1, "note", map[string]string{"text": "x"}); code != http.StatusNotFound {
		t.Errorf("another grid's note: %d", code)
	}
	if code, _, raw := post(lead1, g1, "note", map[string]string{"text": strings.Repeat("长", 1001)}); code != 400 || !strings.Contains(raw, msgNoteInvalid) {
		t.Errorf("a long note: %d %s", code, raw)
	}

	if code, _, raw := post(lead1, g1, "urge", nil); code != http.StatusForbidden || !strings.Contains(raw, "村（社区）或镇里") {
		t.Errorf("the handler urges: %d %s", code, raw)
	}
	if code, a, raw := post(cadre1, g1, "urge", map[string]string{"text": "今天内处理"}); code != 200 || a.Case.Urges != 1 {
		t.Errorf("urge: %d %s", code, raw)
	}
	if code, _, raw := post(admin, g1, "urge", nil); code != http.StatusConflict || !strings.Contains(raw, "半小时") {
		t.Errorf("urge again: %d %s", code, raw)
	}
	if code, a, raw := post(admin, g1, "urgent", map[string]string{"reason": "学生必经之路"}); code != 200 || !a.Case.Urgent ||
		slices.Contains(a.Case.Actions, "urgent") {
		t.Errorf("urgent: %d %s", code, raw)
	}
	if code, _, raw := post(cadre1, g1, "urgent", map[string]string{"reason": "再急"}); code != http.StatusConflict || !strings.Contains(raw, "已经加急") {
		t.Errorf("urgent twice: %d %s", code, raw)
	}

	// g3 is another village's: the cadre is told it is not found, exactly
	// as for a number that does not exist.
	_, _, missing := post(cadre1, g2, "merge", map[string]string{"into": "ST209901010001"})
	if code, _, raw := post(cadre1, g2, "merge", map[string]string{"into": g3}); code != 400 || raw != missing {
		t.Errorf("merge into another village's case: %d %s (vs %s)", code, raw, missing)
	}
	if code, _, _ := post(cadre1, g2, "merge", map[string]string{"into": g2}); code != 400 {
		t.Errorf("merge into itself: %d", code)
	}
	code, a, raw := post(cadre1, g2, "merge", map[string]string{"into": g1, "reason": "同一个问题"})
	if code != 200 || a.Case.State != "closed" || a.Case.MergedInto != g1 {
		t.Fatalf("merge: %d %s", code, raw)
	}
	s, _ := f.store.Case(ctx, g1)
	if !slices.Contains(s.Joined, "o-resident-g2") {
		t.Errorf("survivor joined %v", s.Joined)
	}
	if joined, _ := f.srv.Households.JoinedCases(ctx, "o-resident-g2"); len(joined) != 1 || joined[0].Number != g1 {
		t.Errorf("the merged resident follows %v", joined)
	}
}
