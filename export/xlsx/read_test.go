package xlsx

import (
	"bytes"
	"errors"
	"testing"
)

// ReadRows reads back what Write wrote, as text; refuses what is not a
// workbook and a sheet over the rows asked for.
func TestReadRows(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, []Sheet{{Name: "人员", Header: []string{"用户名", "姓名", "空"}, Rows: [][]any{
		{"lead9", "周网格", nil}, {"n1", 13800138000, ""}}}}); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	rows, err := ReadRows(bytes.NewReader(data), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || len(rows[1]) != 2 || rows[1][1] != "周网格" || rows[2][1] != "13800138000" {
		t.Errorf("rows %q", rows)
	}
	if _, err := ReadRows(bytes.NewReader(data), 2); !errors.Is(err, ErrTooBig) {
		t.Errorf("over the rows: %v", err)
	}
	if _, err := ReadRows(bytes.NewReader([]byte("用户名,姓名\n")), 10); err == nil {
		t.Error("a CSV read as a workbook")
	}
}
