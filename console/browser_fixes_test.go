package console

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// loginAs logs staff member id in on the page and waits for the live feed.
func loginAs(t *testing.T, ctx context.Context, f *fixture, id string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(f.ts.URL),
		chromedp.WaitVisible(chromedp.ID("login-user")),
		chromedp.SendKeys(chromedp.ID("login-user"), id),
		chromedp.SendKeys(chromedp.ID("login-pass"), password(id)),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("list-view")),
	)
	if err != nil {
		t.Fatalf("log in as %s: %v", id, err)
	}
	waitFor(t, ctx, `document.getElementById('conn-state').textContent === '已连接'`, "the live feed to connect")
}

// waitFor polls a JavaScript condition on the page for up to ten seconds.
func waitFor(t *testing.T, ctx context.Context, cond, what string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// evalJS evaluates an expression on the page.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// inZone sets the zone the browser's PC believes it is in.
func inZone(zone string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	})
}

// openCasePage opens a case from its address and waits for its details.
func openCasePage(t *testing.T, ctx context.Context, f *fixture, number string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = '#/case/%s'`, number)),
		chromedp.WaitVisible(chromedp.ID("case-view")),
	)
	if err != nil {
		t.Fatalf("open case %s: %v", number, err)
	}
	waitFor(t, ctx, fmt.Sprintf(`document.getElementById('case-number').textContent === %q && document.querySelectorAll('#case-timeline li').length > 0`, number), "case "+number)
}

// TestBrowserReclassifyForgetsOtherCases: the correction form starts at
// "no change" on every case. A category chosen on one case and not sent
// stayed selected on the next case's page, so correcting only that case's
// grid changed its category too.
func TestBrowserReclassifyForgetsOtherCases(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t)
	loginAs(t, ctx, f, "admin")

	first, second := f.cases["g1"], f.cases["g2"] // 道路设施 and 环境卫生
	openCasePage(t, ctx, f, first)
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("reclassify-form")),
		chromedp.SetValue(chromedp.ID("reclassify-category"), "road"),
		chromedp.SetValue(chromedp.ID("reclassify-grid"), "g3"),
	); err != nil {
		t.Fatal(err)
	}
	openCasePage(t, ctx, f, second)
	for _, id := range []string{"reclassify-category", "reclassify-grid"} {
		if v := evalJS[string](t, ctx, `document.getElementById('`+id+`').value`); v != "" {
			t.Errorf("%s opens on another case's choice %q", id, v)
		}
	}
	// Correct only the grid.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("reclassify-grid"), "g1"),
		chromedp.SendKeys(chromedp.ID("reclassify-reason"), "实际在一网格"),
		chromedp.Click(chromedp.ID("reclassify-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById('case-notice').textContent !== '' || document.getElementById('case-error').textContent !== ''`, "the correction's answer")
	c, err := f.store.Case(context.Background(), second)
	if err != nil {
		t.Fatal(err)
	}
	if c.Grid != "g1" || c.Category != "env" {
		t.Errorf("after correcting the grid only: grid %q category %q, want g1 env", c.Grid, c.Category)
	}
	// The form is back at "no change", and the timeline names what changed.
	for _, id := range []string{"reclassify-category", "reclassify-grid"} {
		if v := evalJS[string](t, ctx, `document.getElementById('`+id+`').value`); v != "" {
			t.Errorf("%s keeps %q after the correction", id, v)
		}
	}
	waitFor(t, ctx, `!!document.querySelector('#case-timeline li[data-kind="reclassified"]')`, "the correction in the timeline")
	line := evalJS[string](t, ctx, `document.querySelector('#case-timeline li[data-kind="reclassified"]').textContent`)
	if !strings.Contains(line, "网格 东山村 · 二网格 → 东山村 · 一网格") || strings.Contains(line, "g2") || strings.Contains(line, "道路设施") {
		t.Errorf("the correction reads %q", line)
	}
}

// TestBrowserTimesInTownZone: a PC set to New York shows the case's times
// in the town's zone (Beijing time), as the pushes do.
func TestBrowserTimesInTownZone(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t)
	if err := chromedp.Do(ctx, inZone("America/New_York")); err != nil {
		t.Fatal(err)
	}
	loginAs(t, ctx, f, "admin")
	if off := evalJS[int](t, ctx, `new Date('2026-11-25T01:00:00Z').getTimezoneOffset()`); off != 300 {
		t.Fatalf("the zone override did not take: offset %d", off)
	}
	number := f.cases["g1"]
	openCasePage(t, ctx, f, number)
	// Filed at t0, 2026-11-25 09:00 Beijing time (01:00 UTC, 20:00 the
	// day before in New York); 24 hours to answer.
	if got := evalJS[string](t, ctx, `document.getElementById('case-created').textContent`); got != "2026-11-25 09:00" {
		t.Errorf("filed at %q, want 2026-11-25 09:00", got)
	}
	if got := evalJS[string](t, ctx, `document.getElementById('case-deadline').textContent`); got != "2026-11-26 09:00" {
		t.Errorf("deadline %q, want 2026-11-26 09:00", got)
	}
	at := evalJS[string](t, ctx, `document.querySelector('#case-timeline li .at').textContent`)
	if at != "2026-11-25 09:00" {
		t.Errorf("the timeline's first time reads %q", at)
	}
}
