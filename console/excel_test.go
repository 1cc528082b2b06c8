package console

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func openWorkbook(t *testing.T, resp *http.Response, body []byte) *excelize.File {
	t.Helper()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("answer %d %s: %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestCasesXLSX: the ledger as a real workbook with where, result, rating
// and closing time; phones and locations only as the caller may read them.
func TestCasesXLSX(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	number := f.cases["g1"]
	if _, _, err := f.ledger.Resolve(ctx, number, "lead1", "路灯已更换"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ledger.Rate(ctx, "o-resident-g1", 5); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		staff, query, phone, place string
		rows                       int
	}{
		{"admin", "?state=&phone=full", residentPhone, "东山村12号", 3},
		{"admin", "?state=", "138****5678", "东山村12号", 3},
		{"cadre1", "?state=", "138****5678", "（仅承办人可见）", 2},
	}
	for _, tt := range tests {
		resp, body := f.request(t, http.MethodGet, "/api/cases.xlsx"+tt.query, f.login(t, tt.staff), nil)
		wb := openWorkbook(t, resp, body)
		rows, err := wb.GetRows("案件台账")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != tt.rows+1 {
			t.Fatalf("%s: %d rows", tt.staff, len(rows))
		}
		head := rows[0]
		col := func(name string) int { return slices.Index(head, name) }
		var found bool
		for _, r := range rows[1:] {
			for len(r) < len(head) {
				r = append(r, "")
			}
			if r[0] != number {
				continue
			}
			found = true
			if r[col("联系电话")] != tt.phone || r[col("位置")] != tt.place || r[col("办理结果")] != "路灯已更换" ||
				r[col("评价")] != "5" || r[col("状态")] != "已结案" || r[col("提交时间")] != "2026-11-25 09:00" ||
				r[col("结案时间")] != "2026-11-25 09:00" || r[col("类别")] != "道路设施" {
				t.Errorf("%s: row %q", tt.staff, r)
			}
		}
		if !found {
			t.Errorf("%s: case %s not in the workbook", tt.staff, number)
		}
	}
	resp, _ := f.request(t, http.MethodGet, "/api/cases.xlsx?phone=full", f.login(t, "cadre1"), nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a village asking for whole phones: %d", resp.StatusCode)
	}
}

// TestFiguresXLSX: every table of the figures page in one workbook, the
// rates as percentages, no codes.
func TestFiguresXLSX(t *testing.T) {
	f := whistled(t)
	admin := f.login(t, "admin")
	resp, body := f.request(t, http.MethodGet, "/api/figures.xlsx?month=2026-11", admin, nil)
	wb := openWorkbook(t, resp, body)
	want := []string{"三率按网格", "三率按村（社区）", "三率按部门", "三率按月", "对账销号2026-11按网格", "对账销号2026-11按村（社区）", "对账销号2026-11按部门", "近12个月"}
	if got := wb.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets %q", got)
	}
	_, page := f.request(t, http.MethodGet, "/api/figures/rates?by=grid", admin, nil)
	rates := decode[struct{ Rows []rateView }](t, page).Rows
	rows, _ := wb.GetRows("三率按网格")
	if len(rows) != len(rates)+1 {
		t.Fatalf("%d rows for %d", len(rows), len(rates))
	}
	for i, r := range rates {
		got := rows[i+1]
		if got[0] != unitName(r.Key, r.Name) || (r.ResponseDue > 0 && strings.TrimSuffix(got[4], "%") != strings.TrimSuffix(r.ResponseRate, "%")) {
			t.Errorf("row %d %q, page %+v", i, got, r)
		}
	}
	for _, sheet := range want {
		rows, _ := wb.GetRows(sheet)
		for _, r := range rows {
			for _, cell := range r {
				if slices.Contains(directoryCodes, cell) {
					t.Errorf("%s has the code %q: %q", sheet, cell, r)
				}
			}
		}
	}
	if resp, _ := f.request(t, http.MethodGet, "/api/figures.xlsx?month=2026-13", admin, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad month: %d", resp.StatusCode)
	}
}
