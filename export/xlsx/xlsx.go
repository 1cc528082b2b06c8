// Package xlsx writes tables as an Excel workbook (.xlsx), the one package
// that knows github.com/xuri/excelize. The console's downloads of the case
// ledger (台账) and the figures use it: offices file and forward these as
// Excel, and a real workbook keeps numbers as numbers, rates as
// percentages and Chinese text intact, which a CSV opened by a spreadsheet
// program does not always do.
package xlsx

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Percent is a share in [0, 1] shown as a percentage with one decimal
// (0.953 → 95.3%). A Percent cell whose Of is 0 is left empty: no rate.
type Percent struct {
	Part, Of int
}

// Sheet is one table: a title row of column names, then rows. A cell is a
// string, an int, a float64, a time.Time (shown as 2006-01-02 15:04 in
// the zone it carries; the zero time is an empty cell), a Percent, or nil.
type Sheet struct {
	Name   string
	Header []string
	Rows   [][]any
}

// maxSheetName is Excel's limit on a sheet's name.
const maxSheetName = 31

// Write writes the sheets as one workbook to w, in order.
func Write(w io.Writer, sheets []Sheet) error {
	f := excelize.NewFile()
	defer f.Close()
	header, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DCE6F1"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	})
	if err != nil {
		return fmt.Errorf("xlsx: header style: %w", err)
	}
	percent, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("0.0%")})
	if err != nil {
		return fmt.Errorf("xlsx: percent style: %w", err)
	}
	when, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm")})
	if err != nil {
		return fmt.Errorf("xlsx: time style: %w", err)
	}
	used := map[string]bool{}
	for i, sh := range sheets {
		name := sheetName(sh.Name, used)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return fmt.Errorf("xlsx: sheet %q: %w", name, err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("xlsx: sheet %q: %w", name, err)
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return fmt.Errorf("xlsx: sheet %q: %w", name, err)
		}
		widths := make([]int, len(sh.Header))
		for c, h := range sh.Header {
			widths[c] = textWidth(h)
		}
		rows := make([][]any, 0, len(sh.Rows))
		for _, row := range sh.Rows {
			out := make([]any, len(row))
			for c, v := range row {
				cell, width := toCell(v, percent, when)
				out[c] = cell
				if c < len(widths) && width > widths[c] {
					widths[c] = width
				}
			}
			rows = append(rows, out)
		}
		for c, wd := range widths {
			if err := sw.SetColWidth(c+1, c+1, float64(min(max(wd, 6), 60)+2)); err != nil {
				return fmt.Errorf("xlsx: sheet %q: %w", name, err)
			}
		}
		head := make([]any, len(sh.Header))
		for c, h := range sh.Header {
			head[c] = excelize.Cell{StyleID: header, Value: h}
		}
		if err := sw.SetRow("A1", head, excelize.RowOpts{Height: 20}); err != nil {
			return fmt.Errorf("xlsx: sheet %q: %w", name, err)
		}
		for r, row := range rows {
			axis, _ := excelize.CoordinatesToCellName(1, r+2)
			if err := sw.SetRow(axis, row); err != nil {
				return fmt.Errorf("xlsx: sheet %q row %d: %w", name, r+2, err)
			}
		}
		if len(sh.Header) > 0 && len(rows) > 0 {
			last, _ := excelize.CoordinatesToCellName(len(sh.Header), len(rows)+1)
			if err := sw.AddTable(&excelize.Table{Range: "A1:" + last, StyleName: "TableStyleLight9", ShowRowStripes: ptr(true)}); err != nil {
				return fmt.Errorf("xlsx: sheet %q table: %w", name, err)
			}
		}
		if err := sw.Flush(); err != nil {
			return fmt.Errorf("xlsx: sheet %q: %w", name, err)
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("xlsx: write: %w", err)
	}
	return nil
}

// toCell turns a value into what the stream writer takes, and the width
// its text needs.
func toCell(v any, percent, when int) (any, int) {
	switch x := v.(type) {
	case nil:
		return nil, 0
	case string:
		return safeText(x), textWidth(x)
	case int:
		return x, len(fmt.Sprint(x))
	case float64:
		return x, len(fmt.Sprint(x))
	case Percent:
		if x.Of == 0 {
			return nil, 0
		}
		return excelize.Cell{StyleID: percent, Value: float64(x.Part) / float64(x.Of)}, 7
	case time.Time:
		if x.IsZero() {
			return nil, 0
		}
		// Excel has no zones: the wall clock of the zone the time carries.
		wall := time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), 0, time.UTC)
		return excelize.Cell{StyleID: when, Value: wall}, 16
	}
	s := fmt.Sprint(v)
	return safeText(s), textWidth(s)
}

// safeText keeps a text a text: one a spreadsheet would take for a
// formula gets a leading quote, as the CSV downloads do, and it is cut to
// Excel's cell limit.
func safeText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		s = "'" + s
	}
	const maxCell = 32767
	if len(s) > maxCell {
		cut := maxCell
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// textWidth is a column width for s: Chinese characters take two.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		if r > 0x2E80 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// sheetName makes a name Excel accepts and that is not used yet.
func sheetName(name string, used map[string]bool) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '-'
		}
		return r
	}, name)
	if strings.TrimSpace(name) == "" {
		name = "Sheet"
	}
	base := []rune(name)
	if len(base) > maxSheetName {
		base = base[:maxSheetName]
	}
	name = string(base)
	for i := 2; used[name]; i++ {
		suffix := fmt.Sprintf("(%d)", i)
		b := base
		if len(b)+len(suffix) > maxSheetName {
			b = b[:maxSheetName-len(suffix)]
		}
		name = string(b) + suffix
	}
	used[name] = true
	return name
}

func ptr[T any](v T) *T { return &v }
