package console

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"gridbot/core"
)

// TestChartsAPI: the trend is the ledger's, month by month, and the
// categories are named.
func TestChartsAPI(t *testing.T) {
	f := newFixture(t)
	_, body := f.request(t, http.MethodGet, "/api/figures/charts", f.login(t, "cadre1"), nil)
	got := decode[struct {
		Trend      []trendPoint
		Origins    []core.OriginRow
		Categories []categoryCount
	}](t, body)
	if len(got.Origins) != trendMonths || got.Origins[trendMonths-1] != (core.OriginRow{Month: "2026-11", Resident: 2}) || got.Origins[0] != (core.OriginRow{Month: "2025-12"}) {
		t.Errorf("origins %+v", got.Origins)
	}
	if len(got.Trend) != trendMonths || got.Trend[0].Month != "2025-12" || got.Trend[trendMonths-1] != (trendPoint{Month: "2026-11", Opened: 2, Overdue: 1}) {
		t.Errorf("trend %+v", got.Trend)
	}
	want := []categoryCount{{Name: "环境卫生", Cases: 1, Open: 1}, {Name: "道路设施", Cases: 1, Open: 1}}
	if !slices.Equal(got.Categories, want) {
		t.Errorf("categories %+v, want %+v", got.Categories, want)
	}
}

// TestBrowserChartsAndLiveFigures: the figures page draws its three charts
// with the vendored library under the page's content policy, and they, and
// the board, follow a new case without a reload.
func TestBrowserChartsAndLiveFigures(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t)
	loginAs(t, ctx, f, "admin")
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`
		window.cspViolations = [];
		document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
		window.sameDocument = true;
		location.hash = '#/figures';`)); err != nil {
		t.Fatal(err)
	}
	series := func(chart string, i int) string {
		return `(() => { const c = window.echarts && echarts.getInstanceByDom(document.getElementById('` + chart + `'));
			return c ? JSON.stringify(c.getOption().series[` + string(rune('0'+i)) + `].data) : ''; })()`
	}
	waitFor(t, ctx, series("chart-trend", 0)+` === '[0,0,0,0,0,0,0,0,0,0,0,3]'`, "the trend chart")
	if got := evalJS[string](t, ctx, series("chart-trend", 2)); got != "[0,0,0,0,0,0,0,0,0,0,0,2]" {
		t.Errorf("overdue by month %s", got)
	}
	if got := evalJS[string](t, ctx, `JSON.stringify(echarts.getInstanceByDom(document.getElementById('chart-categories')).getOption().yAxis[0].data)`); got != `["环境卫生","道路设施"]` {
		t.Errorf("categories %s", got)
	}
	if got := evalJS[string](t, ctx, `JSON.stringify(echarts.getInstanceByDom(document.getElementById('chart-rates')).getOption().xAxis[0].data)`); got != `["东山村 · 一网格","东山村 · 二网格","西湖社区 · 三网格"]` {
		t.Errorf("rates chart units %s", got)
	}
	// A tooltip is drawn without breaking the page's style policy.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`echarts.getInstanceByDom(document.getElementById('chart-trend')).dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 11})`)); err != nil {
		t.Fatal(err)
	}

	// 主动发现 vs 群众上报: the three cases came from residents.
	waitFor(t, ctx, series("chart-origins", 1)+` === '[0,0,0,0,0,0,0,0,0,0,0,3]'`, "the origins chart")
	if got := evalJS[string](t, ctx, series("chart-origins", 0)); got != "[0,0,0,0,0,0,0,0,0,0,0,0]" {
		t.Errorf("found by the grid %s", got)
	}

	// Live: a case filed now counts in the trend and the table.
	f.fileAndPublish(t, "g2", "又一件")
	waitFor(t, ctx, series("chart-trend", 0)+` === '[0,0,0,0,0,0,0,0,0,0,0,4]'`, "the trend to count the new case")
	waitFor(t, ctx, `[...document.querySelectorAll('#rates-rows tr')].pop().children[1].textContent === '4'`, "the rates table to count it")

	// A patrol report and a case filed at the desk count apart.
	bg := context.Background()
	found, err := f.ledger.Patrol(bg, "lead1", core.Draft{Category: "env", Text: "巡查发现占道堆放", Grid: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	f.hub.Publish(core.Event{Case: found.Number}, found)
	waitFor(t, ctx, series("chart-origins", 0)+` === '[0,0,0,0,0,0,0,0,0,0,0,1]'`, "the origins chart to count the patrol report")
	proxy, err := f.ledger.FileFor(bg, "lead1", core.ProxyFiling{Draft: core.Draft{Category: "env", Text: "电话反映噪音",
		Grid: "g2", Phone: "13700002222"}, Channel: core.IntakePhone})
	if err != nil {
		t.Fatal(err)
	}
	f.hub.Publish(core.Event{Case: proxy.Number}, proxy)
	waitFor(t, ctx, series("chart-origins", 2)+` === '[0,0,0,0,0,0,0,0,0,0,0,1]'`, "the origins chart to count the case filed at the desk")
	if got := evalJS[string](t, ctx, series("chart-origins", 1)); got != "[0,0,0,0,0,0,0,0,0,0,0,4]" {
		t.Errorf("filed by residents %s", got)
	}
	screenshot(t, ctx, "figures-origins")

	// Live: the board.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`location.hash = '#/board'`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `(document.querySelector('#board-rows tr[data-key="grid:g2"]') || {children: []}).children[2]?.textContent === '3'`, "the board")
	f.fileAndPublish(t, "g2", "再一件")
	waitFor(t, ctx, `document.querySelector('#board-rows tr[data-key="grid:g2"]').children[2].textContent === '4'`, "the board to count the new case")

	if v := evalJS[[]string](t, ctx, `window.cspViolations`); len(v) > 0 {
		t.Errorf("content policy violations: %v", v)
	}
	if !evalJS[bool](t, ctx, `window.sameDocument === true`) {
		t.Error("the page reloaded")
	}
}
