package console

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"gridbot/core"
)

// TestBrowserDeskTools: a grid leader files a case for a resident who
// phoned (代录), keeps an internal note and resolves with a photo of the
// fix; the village urges and merges from its own page; each lands on the
// ledger and in the timeline, and the tools fit a phone's width.
func TestBrowserDeskTools(t *testing.T) {
	f := newFixture(t)
	f.srv.Households = &core.Households{Records: f.store}
	f.srv.Media = &core.MediaStore{Records: f.store}
	ctx := context.Background()
	tab := newTab(t)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		t.Fatal(err)
	}
	loginAs(t, tab, f, "lead1")
	fits := func(where string) {
		t.Helper()
		if w := evalJS[int](t, tab, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("%s is %d px wide on a 390 px screen", where, w)
		}
	}

	// 代录.
	if err := chromedp.Do(tab,
		chromedp.Click(chromedp.CSS("#file-panel summary")),
		chromedp.WaitVisible(chromedp.ID("file-text")),
		chromedp.SetValue(chromedp.ID("file-category"), "road"),
		chromedp.SetValue(chromedp.ID("file-grid"), "g1"),
		chromedp.SendKeys(chromedp.ID("file-text"), "桥头路灯不亮，老人晚上出门不便"),
		chromedp.SendKeys(chromedp.ID("file-contact"), "李阿姨"),
		chromedp.SendKeys(chromedp.ID("file-phone"), "13800138000"),
	); err != nil {
		t.Fatal(err)
	}
	fits("the 代录 form")
	screenshotPhone(t, tab, "phone-file-for")
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("file-send"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `document.getElementById('file-notice').textContent.startsWith('已登记 ST')`, "the filing")
	filed, err := f.store.Cases(ctx, core.CaseQuery{Keep: func(c *core.Case) bool { return c.Channel == core.IntakePhone }})
	if err != nil || len(filed) != 1 || filed[0].Contact != "李阿姨" || filed[0].Text != "桥头路灯不亮，老人晚上出门不便" {
		t.Fatalf("filed %+v %v", filed, err)
	}

	// An internal note.
	g1 := f.cases["g1"]
	openCasePage(t, tab, f, g1)
	fits("the case page")
	if err := chromedp.Do(tab,
		chromedp.WaitVisible(chromedp.ID("note-form")),
		chromedp.SendKeys(chromedp.ID("note-text"), "已电话联系居民，约明早上门"),
		chromedp.Click(chromedp.ID("note-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `[...document.querySelectorAll('#case-timeline li[data-kind="noted"]')].some((li) => li.textContent.includes('约明早上门') && li.textContent.includes('仅工作人员可见'))`, "the note in the timeline")
	if err := chromedp.Do(tab, chromedp.ScrollIntoView(chromedp.CSS(`#case-timeline li[data-kind="noted"]`))); err != nil {
		t.Fatal(err)
	}
	screenshotPhone(t, tab, "phone-note")
	if evalJS[bool](t, tab, `!document.getElementById('urge-form').hidden || !document.getElementById('merge-form').hidden`) {
		t.Error("the handler is offered 催办 or 合并")
	}

	// The village urges and merges g2 into g1.
	village := newTab(t)
	loginAs(t, village, f, "cadre1")
	if err := chromedp.Do(village, chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`)); err != nil {
		t.Fatal(err)
	}
	openCasePage(t, village, f, g1)
	if err := chromedp.Do(village,
		chromedp.WaitVisible(chromedp.ID("urge-form")),
		chromedp.SendKeys(chromedp.ID("urge-text"), "今天内处理"),
		chromedp.Click(chromedp.ID("urge-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, village, `!!document.querySelector('#case-timeline li[data-kind="urged"]') && document.getElementById('case-desk-marks').textContent.includes('催办 1 次')`, "the urge")
	if err := chromedp.Do(village, chromedp.ScrollIntoView(chromedp.ID("urge-form"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, village, "village-urge")
	openCasePage(t, village, f, f.cases["g2"])
	if err := chromedp.Do(village,
		chromedp.WaitVisible(chromedp.ID("merge-form")),
		chromedp.SendKeys(chromedp.ID("merge-into"), g1),
		chromedp.Click(chromedp.ID("merge-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, village, `document.getElementById('case-desk-marks').textContent.includes('已合并到 `+g1+`')`, "the merge")
	screenshot(t, village, "village-merged")
	if c, _ := f.store.Case(ctx, g1); len(c.Joined) != 1 {
		t.Errorf("the survivor has %d joined", len(c.Joined))
	}
	// The leader's page heard the urge live.
	waitFor(t, tab, `!!document.querySelector('#case-timeline li[data-kind="urged"]')`, "the urge on the handler's page")

	// 办结 with a photo of the fix.
	photo := filepath.Join(t.TempDir(), "fix.png")
	if err := os.WriteFile(photo, pngPhoto(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab,
		chromedp.SendKeys(chromedp.ID("resolve-text"), "已更换灯泡"),
		chromedp.SetUploadFiles(chromedp.ID("resolve-photo"), []string{photo}),
		chromedp.Click(chromedp.ID("resolve-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `document.getElementById('case-notice').textContent.includes('现场照片')`, "the resolve with a photo")
	c, _ := f.store.Case(ctx, g1)
	if c.State != core.StateResolved || len(c.Photos) != 2 {
		t.Errorf("resolved %s with %d photos", c.State, len(c.Photos))
	}
	waitFor(t, tab, fmt.Sprintf(`[...document.querySelectorAll('#case-photos a')].some((a) => a.href.endsWith(%q))`,
		"/api/media/"+c.Photos[1].MediaID), "the fix's photo on the page")
}

// TestBrowserSearchByPhone: typing a phone's last four digits lists the
// cases filed with it, for the grid leader who handles them, as do the name
// given at 代录 and the name in a household file; a department typing the
// same finds nothing.
func TestBrowserSearchByPhone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	filed, err := f.ledger.FileFor(ctx, "lead1", core.ProxyFiling{Draft: core.Draft{Category: "env", Text: "河边有死鱼",
		Grid: "g2", Phone: "13700001111"}, Channel: core.IntakePhone, Contact: "黄阿婆"})
	if err != nil {
		t.Fatal(err)
	}
	tab := newTab(t)
	loginAs(t, tab, f, "lead1")
	row := fmt.Sprintf(`#case-list .case-row[data-number=%q]`, filed.Number)
	if err := chromedp.Do(tab, chromedp.SendKeys(chromedp.ID("search"), "1111")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `document.querySelectorAll('#case-list .case-row').length === 1 && !!document.querySelector('`+row+`')`, "the case by its phone's last four")
	screenshot(t, tab, "search-phone")
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`document.getElementById('search').value = ''`), chromedp.SendKeys(chromedp.ID("search"), "黄阿婆")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `document.querySelectorAll('#case-list .case-row').length === 1 && !!document.querySelector('`+row+`')`, "the case by the name given")
	// A name registered in a household file finds that resident's cases,
	// filed in WeChat with no name on them.
	f.srv.Households = &core.Households{Records: f.store}
	if err := f.srv.Households.SaveHousehold(ctx, core.Household{OpenID: "o-resident-g1", Grid: "g1", Name: "刘伯"}); err != nil {
		t.Fatal(err)
	}
	byName := fmt.Sprintf(`#case-list .case-row[data-number=%q]`, f.cases["g1"])
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`document.getElementById('search').value = ''`), chromedp.SendKeys(chromedp.ID("search"), "刘伯")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `document.querySelectorAll('#case-list .case-row').length === 1 && !!document.querySelector('`+byName+`')`, "the case by the household's name")

	if _, _, err := f.ledger.Whistle(ctx, filed.Number, "admin", "cj", "河道"); err != nil {
		t.Fatal(err)
	}
	dept := newTab(t)
	loginAs(t, dept, f, "dept1")
	if err := chromedp.Do(dept, chromedp.Evaluate[chromedp.Void](`document.getElementById('filter-state').value = ''`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, dept, `!!document.querySelector('`+row+`')`, "the department's queue")
	screenshot(t, dept, "dept-queue")
	if err := chromedp.Do(dept, chromedp.SendKeys(chromedp.ID("search"), "1111")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, dept, `document.querySelectorAll('#case-list .case-row').length === 0`, "nothing found by a phone the department may not read")
}

// TestBrowserPrintWorkOrder: 打印派工单 fills the work order from the open
// case and prints; in print the console is hidden, the order shows the
// case as this staff member reads it, and it fits one A4 page.
func TestBrowserPrintWorkOrder(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g1 := f.cases["g1"]
	if _, _, err := f.ledger.Accept(ctx, g1, "lead1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ledger.MarkUrgent(ctx, g1, "admin", "学生必经之路"); err != nil {
		t.Fatal(err)
	}
	tab := newTab(t)
	loginAs(t, tab, f, "lead1")
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`window.printed = 0; window.print = () => { window.printed++ }`)); err != nil {
		t.Fatal(err)
	}
	openCasePage(t, tab, f, g1)
	screenshot(t, tab, "leader-case")
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("print-order"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `window.printed === 1`, "the print")
	order := evalJS[string](t, tab, `document.getElementById('work-order').textContent`)
	for _, want := range []string{"网格事项派工单", "编号：" + g1, "加急", "村口路灯坏了三天", residentPhone, "处理人签字"} {
		if !strings.Contains(order, want) {
			t.Errorf("the work order lacks %q: %s", want, order)
		}
	}
	if err := chromedp.Do(tab, emulatePrint()); err != nil {
		t.Fatal(err)
	}
	shown := evalJS[string](t, tab, `[getComputedStyle(document.getElementById('work-order')).display,
		getComputedStyle(document.querySelector('header.top')).display,
		getComputedStyle(document.getElementById('case-view')).display].join()`)
	screenshotPage(t, tab, "work-order")
	if shown != "block,none,none" {
		t.Errorf("in print the order, header and case page display %s", shown)
	}
	pdf, err := printPDF(tab)
	if err != nil {
		t.Fatal(err)
	}
	if pages := len(pdfPage.FindAll(pdf, -1)); pages != 1 {
		t.Errorf("the work order prints on %d pages", pages)
	}
}

// pdfPage finds a page object in a PDF (not the /Pages tree).
var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// emulatePrint makes the page apply its print styles.
func emulatePrint() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	})
}

// printPDF prints the page on A4 as Chromium's print does.
func printPDF(ctx context.Context) ([]byte, error) {
	var out []byte
	css := true
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{PaperWidth: 8.27, PaperHeight: 11.69, PreferCSSPageSize: &css})
		if err != nil {
			return err
		}
		out = res.Data
		return nil
	}))
	return out, err
}

// TestBrowserStaffImport: the system administrator uploads a workbook on 人员管理; the new
// people are listed and the refused rows shown with their reasons.
func TestBrowserStaffImport(t *testing.T) {
	f := newFixture(t, withBook(t))
	book := filepath.Join(t.TempDir(), "人员.xlsx")
	if err := os.WriteFile(book, workbook(t, [][]any{
		{"lead9", "周网格", "网格员", "东山村", "", "password-3"},
		{"x1", "无角色", "书记", "", "", "password-5"},
	}), 0o600); err != nil {
		t.Fatal(err)
	}
	tab := newTab(t)
	loginAs(t, tab, f, "sysadm")
	if err := chromedp.Do(tab,
		chromedp.Evaluate[chromedp.Void](`location.hash = '#/staff'`),
		chromedp.WaitVisible(chromedp.ID("staff-view")),
		chromedp.Click(chromedp.CSS("#import-panel summary")),
		chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{book}),
		chromedp.Click(chromedp.ID("import-send")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, `document.getElementById('import-notice').textContent.includes('已导入 1 人') && document.querySelectorAll('#import-refused tbody tr').length === 1`, "the import's report")
	if reason := evalJS[string](t, tab, `document.querySelector('#import-refused tbody tr').textContent`); !strings.Contains(reason, "3") || !strings.Contains(reason, "角色") {
		t.Errorf("refused row %q", reason)
	}
	screenshot(t, tab, "town-staff-import")
	if os.Getenv("GRIDBOT_SCREENSHOTS") != "" {
		// The map and the board are the town's (the system administrator
		// sees no case).
		tab := newTab(t)
		loginAs(t, tab, f, "admin")
		for _, view := range []string{"map", "board"} {
			if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`location.hash = '#/`+view+`'`),
				chromedp.WaitVisible(chromedp.ID(view+"-view")), chromedp.Sleep(time.Second)); err != nil {
				t.Fatal(err)
			}
			screenshot(t, tab, "town-"+view)
		}
	}
	if f.srv.Town.Town().StaffMember("lead9") == nil {
		t.Error("lead9 was not added")
	}
}
