package xlsx

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func TestWriteReadsBack(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	var buf bytes.Buffer
	err := Write(&buf, []Sheet{
		{Name: "三率/按网格", Header: []string{"单位", "案件数", "响应率", "时间"}, Rows: [][]any{
			{"东山村 · 一网格", 3, Percent{2, 3}, time.Date(2026, 11, 25, 9, 5, 0, 0, cst)},
			{"=HYPERLINK(\"x\")", 0, Percent{0, 0}, time.Time{}},
		}},
		{Name: "三率/按网格", Header: []string{"空"}},
		{Name: strings.Repeat("长", 40), Header: []string{"a"}, Rows: [][]any{{nil}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer f.Close()
	names := f.GetSheetList()
	if len(names) != 3 || names[0] != "三率-按网格" || names[1] != "三率-按网格(2)" || len([]rune(names[2])) != 31 {
		t.Fatalf("sheets %q", names)
	}
	rows, err := f.GetRows(names[0])
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"单位", "案件数", "响应率", "时间"},
		{"东山村 · 一网格", "3", "66.7%", "2026-11-25 09:05"},
		{"'=HYPERLINK(\"x\")", "0"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d %q, want %q", i, rows[i], want[i])
		}
	}
	// Numbers stay numbers.
	raw, err := f.GetCellValue(names[0], "C2", excelize.Options{RawCellValue: true})
	if err != nil || !strings.HasPrefix(raw, "0.666") {
		t.Errorf("C2 raw %q (%v)", raw, err)
	}
	if typ, _ := f.GetCellType(names[0], "B2"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("B2 is stored as text")
	}
	if formula, _ := f.GetCellFormula(names[0], "A3"); formula != "" {
		t.Errorf("A3 is a formula %q", formula)
	}
}
