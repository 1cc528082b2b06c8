package console

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"gridbot/core"
)

// TestBrowserListLoadsMore: the queue shows the first 100 cases and 加载更多;
// the button appends the rest, once each, and goes. Live cases keep coming
// in once: a new one at the top, and a change to a case not yet loaded only
// with the page that lists it.
func TestBrowserListLoadsMore(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t)
	var filed []string // oldest first
	for i := range 120 {
		c, err := f.ledger.Submit(context.Background(), fmt.Sprintf("o-more-%d", i), core.Draft{Category: "road", Text: fmt.Sprintf("第%d处路面坑洼", i), Grid: "g1"})
		if err != nil {
			t.Fatal(err)
		}
		filed = append(filed, c.Number)
	}
	const rows = `document.querySelectorAll('#case-list .case-row')`
	const distinct = `new Set([...` + rows + `].map((tr) => tr.dataset.number)).size`
	const ordered = `[...` + rows + `].every((tr, i, all) => i === 0 || all[i-1].dataset.number > tr.dataset.number)`
	const count = `document.getElementById('list-count').textContent`
	const button = `!document.getElementById('list-more').hidden && document.getElementById('list-more').offsetParent !== null`
	shows := func(n int, more bool) string {
		text := fmt.Sprintf("共 %d 件", n)
		if more {
			text = fmt.Sprintf("已显示 %d 件，还有更多", n)
		}
		return fmt.Sprintf(`%s.length === %d && %s === %d && %s && %s === %q && (%s) === %v`, rows, n, distinct, n, ordered, count, text, button, more)
	}
	row := func(number string) string {
		return fmt.Sprintf(`%s.length === 1`, fmt.Sprintf(`document.querySelectorAll('#case-list .case-row[data-number=%q]')`, number))
	}

	loginAs(t, ctx, f, "admin") // 123 open cases
	waitFor(t, ctx, shows(100, true), "the first 100 cases and 加载更多")
	// A case below the page changes (taken on), then a new case comes.
	old := filed[5]
	if _, _, err := f.ledger.Assign(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	c, err := f.store.Case(context.Background(), old)
	if err != nil {
		t.Fatal(err)
	}
	f.hub.Publish(core.Event{Case: old}, c)
	fresh := f.fileAndPublish(t, "g2", "新来的一件")
	waitFor(t, ctx, row(fresh), "the live case at the top")
	if got := evalJS[string](t, ctx, rows+`[0].dataset.number`); got != fresh {
		t.Errorf("the top row is %s, want the live case %s", got, fresh)
	}
	waitFor(t, ctx, shows(101, true), "101 shown, more to come")
	if evalJS[bool](t, ctx, `!!document.querySelector('#case-list .case-row[data-number="`+old+`"]')`) {
		t.Errorf("case %s, below the page, was listed by its live change before its page", old)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("list-more"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, shows(124, false), "every case, once, and no 加载更多")
	waitFor(t, ctx, row(old)+` && !!document.querySelector('#case-list .case-row[data-number="`+old+`"] .state-assigned')`,
		"the changed case once, as it is now")

	// A live case after the last page still comes in, once.
	later := f.fileAndPublish(t, "g3", "又来一件")
	waitFor(t, ctx, row(later), "a live case after the last page")
	waitFor(t, ctx, shows(125, false), "125 shown")

	// A filter change starts again from the first page.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("filter-state"), ""),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('filter-state').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, shows(100, true), "the first page of 全部")
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("filter-grid"), "g3"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('filter-grid').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, shows(2, false), "g3's two cases, no 加载更多")
}
