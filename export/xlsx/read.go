package xlsx

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// ErrTooBig is a workbook whose first sheet has more rows than asked for,
// or that unpacks to more than the bound: refused without reading on.
var ErrTooBig = errors.New("xlsx: workbook too big")

// unzipLimit bounds what a workbook may unpack to: an upload of a few
// hundred kilobytes that unzips to gigabytes is refused.
const unzipLimit = 32 << 20

// ReadRows reads the first sheet of a workbook: its rows of cell texts,
// as shown (a number as its digits), trailing empty cells dropped, at most
// maxRows rows (else ErrTooBig). Anything that is not a workbook is an
// error.
func ReadRows(r io.Reader, maxRows int) ([][]string, error) {
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: unzipLimit, UnzipXMLSizeLimit: unzipLimit / 2})
	if err != nil {
		if strings.Contains(err.Error(), "size limit") {
			return nil, fmt.Errorf("%w: %v", ErrTooBig, err)
		}
		return nil, fmt.Errorf("xlsx: open: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("xlsx: no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("xlsx: rows: %w", err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		if len(out) >= maxRows {
			return nil, ErrTooBig
		}
		cols, err := rows.Columns()
		if err != nil {
			return nil, fmt.Errorf("xlsx: row %d: %w", len(out)+1, err)
		}
		for len(cols) > 0 && strings.TrimSpace(cols[len(cols)-1]) == "" {
			cols = cols[:len(cols)-1]
		}
		out = append(out, cols)
	}
	return out, rows.Error()
}
