package console

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"gridbot/core"
)

// patrolAndPublish files a patrol report by staff on grid, assigns it and
// rings the feed, as the dialogs and the router do.
func (f *fixture) patrolAndPublish(t *testing.T, staff, grid, text string) string {
	t.Helper()
	ctx := context.Background()
	c, err := f.ledger.Patrol(ctx, staff, core.Draft{Category: "env", Text: text, Grid: grid})
	if err != nil {
		t.Fatal(err)
	}
	c, evs, err := f.ledger.Assign(ctx, c.Number)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		f.hub.Publish(ev, c)
	}
	return c.Number
}

// TestGridWorkFigures: patrol reports are counted apart, per grid and in
// total, the same on the page's API and in the CSV; each role counts only
// the cases it may see.
func TestGridWorkFigures(t *testing.T) {
	f := newFixture(t)
	f.patrolAndPublish(t, "lead1", "g1", "巡查发现路面坑洼")
	f.patrolAndPublish(t, "cadre1", "g2", "巡查发现垃圾堆放")
	f.patrolAndPublish(t, "admin", "g3", "巡查发现井盖破损")
	type row struct {
		Key, Name    string
		Cases, Found int
		FoundRate    string `json:"found_rate"`
	}
	for _, tc := range []struct {
		staff string
		want  map[string][2]int // key → cases, found
	}{
		{"admin", map[string][2]int{"g1": {2, 1}, "g2": {2, 1}, "g3": {2, 1}, "total": {6, 3}}},
		{"lead2", map[string][2]int{"g3": {2, 1}, "total": {2, 1}}},
	} {
		cookie := f.login(t, tc.staff)
		resp, body := f.request(t, http.MethodGet, "/api/figures/gridwork?by=grid", cookie, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.staff, resp.StatusCode, body)
		}
		rows := decode[struct{ Rows []row }](t, body).Rows
		if len(rows) != len(tc.want) {
			t.Errorf("%s: rows %+v", tc.staff, rows)
		}
		for _, r := range rows {
			if w := tc.want[r.Key]; r.Cases != w[0] || r.Found != w[1] {
				t.Errorf("%s: %s counts %d cases, %d found; want %v", tc.staff, r.Key, r.Cases, r.Found, w)
			}
		}
		resp, body = f.request(t, http.MethodGet, "/api/figures/gridwork.csv?by=grid", cookie, nil)
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\ufeff"))).ReadAll()
		if resp.StatusCode != http.StatusOK || err != nil || len(recs) != len(rows)+1 {
			t.Fatalf("%s csv: %d %v %q", tc.staff, resp.StatusCode, err, body)
		}
		last := recs[len(recs)-1]
		total := rows[len(rows)-1]
		if last[0] != "合计" || last[1] != fmt.Sprint(total.Cases) || last[2] != fmt.Sprint(total.Found) || last[3] != total.FoundRate {
			t.Errorf("%s csv total %v, page %+v", tc.staff, last, total)
		}
	}
	cookie := f.login(t, "admin")
	if resp, _ := f.request(t, http.MethodGet, "/api/figures/gridwork?by=nonsense", cookie, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown grouping: %d", resp.StatusCode)
	}
	if resp, _ := f.request(t, http.MethodGet, "/api/figures/gridwork", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a session: %d", resp.StatusCode)
	}
}

// TestBrowserPatrolReport: a case the grid found reads so on its page —
// its origin and finder, its timeline — and the figures count it apart.
func TestBrowserPatrolReport(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t)
	loginAs(t, ctx, f, "lead1")
	number := f.patrolAndPublish(t, "lead1", "g1", "巡查发现 <i>路面</i> 坑洼")
	waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#case-list .case-row[data-number=%q]') !== null`, number), "the report in the queue")
	openCasePage(t, ctx, f, number)
	if got := evalJS[string](t, ctx, `document.getElementById('case-origin').textContent`); got != "网格主动发现（张网格上报）" {
		t.Errorf("origin reads %q", got)
	}
	if got := evalJS[string](t, ctx, `document.querySelector('#case-timeline li.event[data-kind="submitted"] .label').textContent`); got != "网格主动发现上报" {
		t.Errorf("the filing reads %q", got)
	}
	openCasePage(t, ctx, f, f.cases["g1"])
	if got := evalJS[string](t, ctx, `document.getElementById('case-origin').textContent`); got != "群众反映" {
		t.Errorf("a resident's case reads %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`location.hash = '#/figures'`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `[...document.querySelectorAll('#gridwork-rows tr')].some((tr) => tr.textContent.startsWith('合计3') && tr.textContent.includes('1（33.3%）'))`, "the grid's own work counted")
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#case-view i').length`); n != 0 {
		t.Errorf("the report's markup made %d elements", n)
	}
}

// TestBrowserCallback: a low rating gives the village a callback; the grid
// leader is not offered it, the village records it on the case page (not
// reached needs a reason), and the figures count it in time.
func TestBrowserCallback(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	number := f.cases["g1"]
	if _, _, err := f.ledger.Resolve(ctx, number, "lead1", "已修好"); err != nil {
		t.Fatal(err)
	}
	c, err := f.ledger.Rate(ctx, "o-resident-g1", 1)
	if err != nil || c.Callback == nil {
		t.Fatalf("rated: %+v %v", c.Callback, err)
	}
	lead := newTab(t)
	loginAs(t, lead, f, "lead1")
	openCasePage(t, lead, f, number)
	if evalJS[bool](t, lead, visible("callback-form")) {
		t.Error("the grid leader is offered the callback")
	}
	if got := evalJS[string](t, lead, `document.getElementById('case-callback').textContent`); !strings.Contains(got, "待回访（居民评价不满意）") {
		t.Errorf("the callback reads %q", got)
	}

	tab := newTab(t)
	loginAs(t, tab, f, "cadre1")
	openCasePage(t, tab, f, number)
	waitFor(t, tab, visible("callback-form"), "the callback form")
	if err := chromedp.Do(tab, chromedp.SetValue(chromedp.ID("callback-reached"), "no"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('callback-reached').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}
	if evalJS[bool](t, tab, visible("callback-satisfied")) {
		t.Error("satisfaction asked of a resident not reached")
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("callback-send"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `document.getElementById('case-error').textContent === '`+msgCallbackBad+`'`, "the refusal without a reason")
	if err := chromedp.Do(tab,
		chromedp.SetValue(chromedp.ID("callback-reached"), "yes"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('callback-reached').dispatchEvent(new Event('change'))`),
		chromedp.SetValue(chromedp.ID("callback-satisfied"), "no"),
		chromedp.SendKeys(chromedp.ID("callback-note"), "居民说路灯晚上还是闪"),
		chromedp.Click(chromedp.ID("callback-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `document.querySelector('#case-timeline li.event[data-kind="called_back"]') !== null`, "the callback on the timeline")
	if got := evalJS[string](t, tab, `document.querySelector('#case-timeline li.event[data-kind="called_back"]').textContent`); !containsAll(got, "回访", "李主任", "已联系上，不满意", "居民说路灯晚上还是闪") {
		t.Errorf("the callback reads %q", got)
	}
	waitFor(t, tab, `!`+visible("callback-form"), "the form gone once recorded")
	if got := evalJS[string](t, tab, `document.getElementById('case-callback').textContent`); got != "—" {
		t.Errorf("after the callback %q", got)
	}
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`location.hash = '#/figures'`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `[...document.querySelectorAll('#gridwork-rows tr')].some((tr) => tr.textContent.startsWith('合计') && tr.textContent.includes('100.0%（1/1）'))`, "the callback counted in time")
}

// TestBrowserInstruction: the town writes an instruction on the case page;
// it stays on the case for the grid leader, who is not offered to write
// one; the figures count the case as supervised.
func TestBrowserInstruction(t *testing.T) {
	f := newFixture(t)
	number := f.cases["g1"]
	tab := newTab(t)
	loginAs(t, tab, f, "admin")
	openCasePage(t, tab, f, number)
	waitFor(t, tab, visible("instruct-form"), "the instruction form")
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("instruct-send"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `document.getElementById('case-error').textContent === '`+msgInstructBad+`'`, "the refusal of no words")
	if err := chromedp.Do(tab,
		chromedp.SendKeys(chromedp.ID("instruct-text"), "三天内修好 <b>镇里</b>协调"),
		chromedp.Click(chromedp.ID("instruct-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `document.querySelector('#case-timeline li.event[data-kind="instructed"]') !== null`, "the instruction on the timeline")
	waitFor(t, tab, `document.querySelectorAll('#case-instructions li').length === 1`, "the instruction on the case")

	lead := newTab(t)
	loginAs(t, lead, f, "lead1")
	openCasePage(t, lead, f, number)
	if got := evalJS[string](t, lead, `document.getElementById('case-instructions').textContent`); !containsAll(got, "王镇长：", "三天内修好 <b>镇里</b>协调") {
		t.Errorf("the leader reads %q", got)
	}
	if evalJS[bool](t, lead, visible("instruct-form")) || evalJS[int](t, lead, `document.querySelectorAll('#case-view b').length`) != 0 {
		t.Error("the grid leader is offered an instruction, or its markup ran")
	}
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`location.hash = '#/figures'`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `[...document.querySelectorAll('#gridwork-rows tr')].some((tr) => tr.textContent.startsWith('合计') && tr.children[4].textContent === '1')`, "the supervised case counted")
}

// TestBrowserMeeting: the grid leader tables a hard case; it is on the
// town's agenda; the town records the meeting's decision (a linked leader,
// help, milestones; a bad one refused in words); the leader marks the
// first milestone reached, and the agenda follows.
func TestBrowserMeeting(t *testing.T) {
	f := newFixture(t)
	number := f.cases["g1"]
	lead := newTab(t)
	loginAs(t, lead, f, "lead1")
	openCasePage(t, lead, f, number)
	waitFor(t, lead, visible("table-form"), "the tabling form")
	if evalJS[bool](t, lead, visible("convene-form")) {
		t.Error("the grid leader is offered the meeting's decision")
	}
	if err := chromedp.Do(lead, chromedp.SendKeys(chromedp.ID("table-reason"), "需要镇里协调资金"), chromedp.Click(chromedp.ID("table-send"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, lead, `document.querySelector('#case-timeline li.event[data-kind="tabled"]') !== null`, "tabled on the timeline")
	waitFor(t, lead, `!`+visible("table-form"), "the tabling form gone")

	town := newTab(t)
	loginAs(t, town, f, "admin")
	if err := chromedp.Do(town, chromedp.Evaluate[chromedp.Void](`location.hash = '#/meeting'`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, town, fmt.Sprintf(`(() => { const r = document.querySelector('#meeting-rows tr[data-number=%q]'); return !!r && r.textContent.includes('需要镇里协调资金') && r.textContent.includes('待会商') })()`, number), "the case on the agenda")
	openCasePage(t, town, f, number)
	waitFor(t, town, visible("convene-form"), "the decision form")
	if err := chromedp.Do(town, chromedp.Click(chromedp.ID("convene-leader"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, town, `document.querySelectorAll('#convene-leader option').length > 1`, "the leaders to choose from")
	if err := chromedp.Do(town,
		chromedp.SetValue(chromedp.ID("convene-leader"), "cadre1"),
		chromedp.SendKeys(chromedp.ID("convene-help"), "镇里拨款，城建办出方案"),
		chromedp.SendKeys(chromedp.ID("convene-milestones"), "2020-01-01 过去的节点"),
		chromedp.Click(chromedp.ID("convene-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, town, `document.getElementById('case-error').textContent === '`+msgConveneBad+`'`, "a past milestone refused")
	if err := chromedp.Do(town,
		chromedp.SetValue(chromedp.ID("convene-milestones"), "2026-12-10 出方案\n2026-12-20，完工"),
		chromedp.Click(chromedp.ID("convene-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, town, `document.querySelector('#case-timeline li.event[data-kind="convened"]') !== null`, "the decision on the timeline")
	if got := evalJS[string](t, town, `document.getElementById('case-meeting').textContent + '|' + document.getElementById('case-milestones').textContent`); !containsAll(got, "挂钩领导 李主任", "镇里拨款", "节点1：出方案（2026-12-10 18:00）", "节点2：完工（2026-12-20 18:00）") {
		t.Errorf("the decision reads %q", got)
	}

	openCasePage(t, lead, f, number)
	waitFor(t, lead, visible("milestone-form"), "the milestone form")
	if err := chromedp.Do(lead, chromedp.SendKeys(chromedp.ID("milestone-note"), "方案已出"), chromedp.Click(chromedp.ID("milestone-send"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, lead, `document.querySelector('#case-timeline li.event[data-kind="milestone_done"]') !== null`, "the milestone reached")
	if err := chromedp.Do(town, chromedp.Evaluate[chromedp.Void](`location.hash = '#/meeting'`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, town, fmt.Sprintf(`(() => { const r = document.querySelector('#meeting-rows tr[data-number=%q]'); return !!r && r.textContent.includes('挂钩领导 李主任，节点 1/2') })()`, number), "the agenda following")
}

// TestMediationAPI: a dispute's sessions and result through the console,
// offered only on disputes and not to departments, and the mediation rate
// in the grid's own figures and their CSV.
func TestMediationAPI(t *testing.T) {
	f := newFixture(t, func(f *fixture) {
		tw := *f.town
		tw.Categories = append(append([]core.Category(nil), tw.Categories...), core.Category{Code: "dispute", Name: "矛盾纠纷", DeadlineHours: 72})
		town, err := core.NewTown(tw)
		if err != nil {
			t.Fatal(err)
		}
		f.town, f.srv.Town, f.ledger.Town = town, town, town
	})
	number := f.submit(t, "g1", "dispute", "邻居装修噪音吵架")
	lead := f.login(t, "lead1")
	post := func(cookie *http.Cookie, n, step string, body actionBody) (int, map[string]any) {
		resp, data := f.request(t, http.MethodPost, "/api/cases/"+n+"/"+step, cookie, body)
		return resp.StatusCode, decode[map[string]any](t, data)
	}
	actions := func(cookie *http.Cookie, n string) string {
		_, data := f.request(t, http.MethodGet, "/api/cases/"+n, cookie, nil)
		v := decode[struct{ Case struct{ Actions []string } }](t, data)
		return strings.Join(v.Case.Actions, ",")
	}
	if a := actions(lead, f.cases["g1"]); strings.Contains(a, "mediate") {
		t.Errorf("a road case offers mediation: %s", a)
	}
	if a := actions(lead, number); !strings.Contains(a, "mediate") || strings.Contains(a, "mediation_ended") {
		t.Errorf("a new dispute offers %s", a)
	}
	if code, body := post(lead, number, "mediate", actionBody{Mediators: "张网格", Outcome: "初步调解"}); code != http.StatusBadRequest || body["error"] != msgMediateBad {
		t.Errorf("no parties: %d %v", code, body)
	}
	if code, body := post(lead, number, "mediate", actionBody{Parties: "王某、李某", Mediators: "张网格、调解员", Outcome: "双方同意晚上十点后停工"}); code != http.StatusOK {
		t.Fatalf("session: %d %v", code, body)
	}
	if code, body := post(f.login(t, "dept1"), number, "mediate", actionBody{Mediators: "x", Outcome: "y"}); code != http.StatusNotFound {
		t.Errorf("a department not called: %d %v", code, body)
	}
	if code, body := post(lead, number, "mediation_ended", actionBody{MediationResult: "settled", Note: "签订协议"}); code != http.StatusOK {
		t.Fatalf("result: %d %v", code, body)
	}
	if code, _ := post(lead, number, "mediation_ended", actionBody{MediationResult: "judicial"}); code != http.StatusConflict {
		t.Errorf("a second result: %d", code)
	}
	_, data := f.request(t, http.MethodGet, "/api/cases/"+number, lead, nil)
	if !containsAll(string(data), `"parties":"王某、李某"`, `"result_label":"调解成功"`, "双方同意晚上十点后停工") {
		t.Errorf("the case reads %s", data)
	}
	_, data = f.request(t, http.MethodGet, "/api/figures/gridwork.csv?by=month", f.login(t, "admin"), nil)
	if !strings.Contains(string(data), "化解率") || !strings.Contains(string(data), ",1,1,100.0%") {
		t.Errorf("figures csv %s", data)
	}
}
