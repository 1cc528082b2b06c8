package audit

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"gridbot/core"
)

// csvHeader is the export's first row, in the reader's words.
var csvHeader = []string{"序号", "时间", "操作人", "来源地址", "事件", "对象", "结果", "详情", "前一条哈希", "本条哈希"}

// OutcomeLabel is an outcome in the reader's words.
func OutcomeLabel(o core.AuditOutcome) string {
	switch o {
	case core.AuditOK:
		return "成功"
	case core.AuditRefused:
		return "拒绝"
	case core.AuditFailed:
		return "失败"
	}
	return string(o)
}

// WriteCSV writes records as CSV (UTF-8 with a byte-order mark, which
// spreadsheet programs need to read Chinese), times in zone, with the
// hashes, so that an export can be checked against the trail later.
func WriteCSV(w io.Writer, recs []core.AuditRecord, zone *time.Location) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("audit csv: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("audit csv: %w", err)
	}
	for _, r := range recs {
		row := []string{strconv.FormatUint(r.Seq, 10), r.At.In(zone).Format("2006-01-02 15:04:05"), cellSafe(r.Actor),
			cellSafe(r.Addr), r.Action.Label(), cellSafe(r.Object), OutcomeLabel(r.Outcome), cellSafe(r.Detail), r.Prev, r.Hash}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("audit csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("audit csv: %w", err)
	}
	return nil
}

// cellSafe keeps a spreadsheet from reading a cell as a formula: a name
// typed at a login is whatever the person typed.
func cellSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
