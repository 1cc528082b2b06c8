package console

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"gridbot/core"
)

// TestBrowserStaffAdmin: the system administrator finds staff by search, pages through
// them, and reads each step's answer next to the row it acted on; a new
// password is typed into the row, never into a prompt().
func TestBrowserStaffAdmin(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t, withBook(t))
	for i := range 30 {
		err := f.srv.Book.AddStaff(context.Background(), "admin", core.StaffAccount{
			ID: fmt.Sprintf("vol%02d", i), Name: fmt.Sprintf("志愿者%02d", i), Role: core.RoleVillage, Village: "v2"})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, beforePage(`window.prompt = () => { window.prompted = true; return 'from-a-prompt'; };`)); err != nil {
		t.Fatal(err)
	}
	loginAs(t, ctx, f, "sysadm")
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`location.hash = '#/staff'`)); err != nil {
		t.Fatal(err)
	}
	rows := `[...document.querySelectorAll('#staff-rows tr[data-id]')].map((tr) => tr.dataset.id)`
	waitFor(t, ctx, `document.querySelectorAll('#staff-rows tr[data-id]').length === 20`, "the first page")
	if got := evalJS[string](t, ctx, `document.getElementById('staff-page').textContent + ' ' + document.getElementById('staff-count').textContent`); got != "第 1 / 2 页 共 40 人" {
		t.Errorf("pager reads %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("staff-next"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelectorAll('#staff-rows tr[data-id]').length === 20`, "the second page")
	if !evalJS[bool](t, ctx, `document.getElementById('staff-next').disabled`) {
		t.Error("next is enabled on the last page")
	}

	// Search by name.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("staff-search"), "张网格")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `JSON.stringify(`+rows+`) === '["lead1"]'`, "the search")
	posts := evalJS[string](t, ctx, `document.querySelector('#staff-rows tr[data-id="lead1"]').children[4].textContent`)
	if posts != "东山村 · 一网格 A岗，东山村 · 一网格 B岗，东山村 · 二网格 A岗，东山村 · 二网格 B岗" {
		t.Errorf("posts read %q", posts)
	}

	// Reset the password in the row.
	opButton := func(id, text string) string {
		return fmt.Sprintf(`[...document.querySelectorAll('#staff-rows tr[data-id=%q] .ops button')].find((b) => b.textContent === %q)`, id, text)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](opButton("lead1", "重置密码")+`.click()`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `!!document.querySelector('#staff-rows tr.password-row[data-for="lead1"] input[type=password]')`, "the password form in the row")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#staff-rows tr.password-row input`), "new-secret-1"),
		chromedp.Click(chromedp.CSS(`#staff-rows tr.password-row button[type=submit]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `(document.querySelector('#staff-rows tr.row-msg[data-for="lead1"] .row-note.ok') || {}).textContent === '张网格：密码已重置'`, "the answer by the row")
	acct, err := f.srv.Book.Account("lead1")
	if err != nil || bcrypt.CompareHashAndPassword([]byte(acct.PasswordHash), []byte("new-secret-1")) != nil {
		t.Errorf("the password was not set (%v)", err)
	}
	if evalJS[bool](t, ctx, `window.prompted === true`) {
		t.Error("the page asked for a password in a prompt()")
	}

	// A refusal answers by its row too: the administrator may not disable themself.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('staff-search'); s.value = 'sysadm'; s.dispatchEvent(new Event('input')); })()`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `JSON.stringify(`+rows+`) === '["sysadm"]'`, "the admin row")
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](opButton("sysadm", "停用")+`.click()`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `!!document.querySelector('#staff-rows tr.row-msg[data-for="sysadm"] .row-note.bad')`, "the refusal by the row")
	if msg := evalJS[string](t, ctx, `document.querySelector('#staff-rows tr.row-msg[data-for="sysadm"]').textContent`); msg != msgNotSelf {
		t.Errorf("refusal reads %q", msg)
	}
	if e := evalJS[string](t, ctx, `document.getElementById('staff-error').textContent`); strings.TrimSpace(e) != "" {
		t.Errorf("a row's answer went to the page's foot: %q", e)
	}
}

// TestBrowserLoginPage: the login page shows the product and the town and
// nothing of the workbench: no navigation, no connection state, no alerts.
func TestBrowserLoginPage(t *testing.T) {
	ctx := newTab(t)
	f := newFixture(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(f.ts.URL), chromedp.WaitVisible(chromedp.ID("login-user"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById('town-name').textContent === '石塘镇'`, "the town's name")
	shown := evalJS[[]string](t, ctx, `['nav', 'conn-state', 'alerts-toggle', 'logout', 'offline-banner']
		.filter((id) => { const e = document.getElementById(id); return e.offsetParent !== null || getComputedStyle(e).position === 'fixed' && !e.hidden; })`)
	if len(shown) > 0 {
		t.Errorf("the login page shows %v", shown)
	}
	if got := evalJS[string](t, ctx, `document.title + '|' + document.getElementById('product').textContent`); got != "网格通 · 工作台|网格通" {
		t.Errorf("title and product %q", got)
	}
}
