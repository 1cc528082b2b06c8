package console

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// visible is a JavaScript test that an element takes space on the page:
// the hidden attribute must win over the layout's display rules.
func visible(id string) string {
	return fmt.Sprintf(`(() => { const e = document.getElementById(%q); return !!e && !e.hidden && e.getClientRects().length > 0 })()`, id)
}

// TestBrowserExtensionAndPause: the grid leader asks for an extension on
// the case page, the village refuses it without a reason (told why) and
// with one, the leader asks for a pause, the village approves, and the
// leader resumes the clock — each button shown exactly when the policy
// allows it, each step on the timeline.
func TestBrowserExtensionAndPause(t *testing.T) {
	f := newFixture(t)
	number := f.cases["g1"]
	lead := newTab(t)
	loginAs(t, lead, f, "lead1")
	openCasePage(t, lead, f, number)

	// The leader may ask, not decide, not resume.
	waitFor(t, lead, visible("ask-change-form"), "the request form")
	for _, id := range []string{"decide-form", "act-resume"} {
		if evalJS[bool](t, lead, visible(id)) {
			t.Errorf("the grid leader is offered %s", id)
		}
	}
	// The pause's date shows only for a pause.
	if evalJS[bool](t, lead, visible("ask-change-until")) || !evalJS[bool](t, lead, visible("ask-change-days")) {
		t.Error("an extension form shows the pause's date, or not its days")
	}
	// No reason: the server's words, nothing written.
	if err := chromedp.Do(lead, chromedp.Click(chromedp.ID("ask-change-send"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, lead, `document.getElementById('case-error').textContent !== ''`, "the refusal of an empty reason")
	if c, _ := f.store.Case(context.Background(), number); c.Pending != nil {
		t.Fatalf("a request without a reason was kept: %+v", c.Pending)
	}
	if err := chromedp.Do(lead,
		chromedp.SetValue(chromedp.ID("ask-change-days"), "2"),
		chromedp.SendKeys(chromedp.ID("ask-change-reason"), "需等材料到货 <b>x</b>"),
		chromedp.Click(chromedp.ID("ask-change-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, lead, `document.querySelector('#case-timeline li.event[data-kind="change_asked"]') !== null`, "the request on the timeline")
	if got := evalJS[string](t, lead, `document.getElementById('case-term').textContent`); !containsAll(got, "待审批", "延期 2 个工作日", "张网格", "需等材料到货 <b>x</b>") {
		t.Errorf("the term reads %q", got)
	}
	if evalJS[bool](t, lead, visible("ask-change-form")) {
		t.Error("a second request is offered while one waits")
	}
	if n := evalJS[int](t, lead, `document.querySelectorAll('#case-view b').length`); n != 0 {
		t.Errorf("the reason's markup made %d elements", n)
	}

	// The village decides: a refusal needs a reason.
	cadre := newTab(t)
	loginAs(t, cadre, f, "cadre1")
	openCasePage(t, cadre, f, number)
	waitFor(t, cadre, visible("decide-form"), "the decision form")
	if got := evalJS[string](t, cadre, `document.getElementById('decide-pending').textContent`); !strings.Contains(got, "延期 2 个工作日") {
		t.Errorf("the pending request reads %q", got)
	}
	if err := chromedp.Do(cadre, chromedp.Click(chromedp.ID("decide-refuse"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cadre, `document.getElementById('case-error').textContent !== ''`, "the refusal without a reason")
	if err := chromedp.Do(cadre,
		chromedp.SendKeys(chromedp.ID("decide-note"), "材料本周能到，不必延期"),
		chromedp.Click(chromedp.ID("decide-refuse")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cadre, `document.querySelector('#case-timeline li.event[data-kind="change_refused"]') !== null`, "the refusal on the timeline")
	waitFor(t, cadre, `!`+visible("decide-form"), "the decision form gone")
	c, err := f.store.Case(context.Background(), number)
	if err != nil || c.Pending != nil || c.Extensions != 0 {
		t.Fatalf("after the refusal: %+v %v", c, err)
	}

	// The leader asks for a pause with no end; the village approves.
	openCasePage(t, lead, f, number)
	waitFor(t, lead, visible("ask-change-form"), "the request form again")
	if err := chromedp.Do(lead, chromedp.SetValue(chromedp.ID("ask-change-kind"), "pause"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('ask-change-kind').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}
	if !evalJS[bool](t, lead, visible("ask-change-until")) || evalJS[bool](t, lead, visible("ask-change-days")) {
		t.Error("a pause form shows days, or not its date")
	}
	if err := chromedp.Do(lead,
		chromedp.SendKeys(chromedp.ID("ask-change-reason"), "等待供电局停电检修"),
		chromedp.Click(chromedp.ID("ask-change-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, lead, `document.getElementById('case-term').textContent.includes('挂起（手动恢复）')`, "the pause request")
	openCasePage(t, cadre, f, number)
	waitFor(t, cadre, visible("decide-form"), "the decision form for the pause")
	if err := chromedp.Do(cadre, chromedp.Click(chromedp.ID("decide-approve"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cadre, `document.querySelector('#case-timeline li.event[data-kind="paused"]') !== null`, "the pause on the timeline")
	waitFor(t, cadre, `document.getElementById('case-term').textContent.includes('已挂起')`, "the paused term")

	// The leader resumes it.
	openCasePage(t, lead, f, number)
	waitFor(t, lead, visible("act-resume"), "the resume button")
	if evalJS[bool](t, lead, visible("ask-change-form")) {
		t.Error("a paused case offers another request")
	}
	if err := chromedp.Do(lead, chromedp.Click(chromedp.ID("act-resume"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, lead, `document.querySelector('#case-timeline li.event[data-kind="resumed"]') !== null`, "the resumption on the timeline")
	waitFor(t, lead, `!`+visible("act-resume"), "the resume button gone")
	if c, _ := f.store.Case(context.Background(), number); c.Paused {
		t.Error("the case is still paused")
	}

	// An extension asked and approved moves the deadline and is counted.
	if err := chromedp.Do(lead,
		chromedp.SendKeys(chromedp.ID("ask-change-reason"), "再需两天"),
		chromedp.Click(chromedp.ID("ask-change-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, lead, `document.getElementById('case-term').textContent.includes('待审批')`, "the second request")
	before, _ := f.store.Case(context.Background(), number)
	openCasePage(t, cadre, f, number)
	waitFor(t, cadre, visible("decide-form"), "the decision form for the extension")
	if err := chromedp.Do(cadre, chromedp.Click(chromedp.ID("decide-approve"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cadre, `document.getElementById('case-term').textContent.includes('已延期 1 次')`, "the extension counted")
	after, _ := f.store.Case(context.Background(), number)
	if !after.Deadline.After(before.Deadline) || after.Extensions != 1 {
		t.Errorf("deadline %v → %v, %d extensions", before.Deadline, after.Deadline, after.Extensions)
	}
	if got := evalJS[string](t, cadre, `document.querySelector('#case-timeline li.event[data-kind="extended"]').textContent`); !containsAll(got, "同意延期", "延期 3 个工作日", "新时限") {
		t.Errorf("the extension reads %q", got)
	}
}
