package console

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"gridbot/export/xlsx"
)

// workbook is a staff spreadsheet as an office would fill it.
func workbook(t *testing.T, rows [][]any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := xlsx.Write(&b, []xlsx.Sheet{{Name: "人员", Header: []string{"用户名", "姓名", "角色", "村（社区）", "部门", "初始密码"}, Rows: rows}}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestStaffImport: good rows are added and can log in; every other row is
// refused with its reason and its row number; only the system administrator may import,
// and what is not a workbook changes nothing.
func TestStaffImport(t *testing.T) {
	f := newFixture(t, withBook(t))
	admin := f.login(t, "sysadm")
	book := workbook(t, [][]any{
		{"town2", "钱镇干", "镇", "", "", "password-1"},
		{"cadre9", "孙主任", "村（社区）", "东山村", "", "password-2"},
		{"lead9", "周网格", "网格员", "v2", "", "password-3"},
		{"dept9", "吴城建", "部门", "", "城建办", "password-4"},
		{"x1", "无角色", "书记", "", "", "password-5"},
		{"x2", "短密码", "镇", "", "", "short"},
		{"lead9", "重复", "网格员", "", "", "password-6"},
		{"admin", "冒名", "镇", "", "", "password-7"},
		{"x3", "无村", "村", "南海村", "", "password-8"},
		{"bad id!", "坏名", "镇", "", "", "password-9"},
		{"", "", "", "", "", ""},
		{"x4", "无部门", "部门", "", "税务局", "password-0"},
	})
	body, ct := multipartFile(t, "file", "人员.xlsx", book)
	if resp, _ := f.request(t, http.MethodPost, "/api/staff/import", f.login(t, "cadre1"), body, ct); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a village imports: %d", resp.StatusCode)
	}
	resp, raw := f.request(t, http.MethodPost, "/api/staff/import", admin, body, ct)
	if resp.StatusCode != 200 {
		t.Fatalf("import: %d %s", resp.StatusCode, raw)
	}
	got := decode[struct {
		Added   []string        `json:"added"`
		Refused []importRefusal `json:"refused"`
	}](t, raw)
	if !slices.Equal(got.Added, []string{"town2", "cadre9", "lead9", "dept9"}) {
		t.Errorf("added %v", got.Added)
	}
	wantRefused := map[int]string{6: "角色", 7: "密码", 8: "重复", 9: "已被使用", 10: "南海村", 11: "用户名只能", 13: "税务局"}
	if len(got.Refused) != len(wantRefused) {
		t.Errorf("refused %+v", got.Refused)
	}
	for _, r := range got.Refused {
		if w := wantRefused[r.Row]; w == "" || !strings.Contains(r.Reason, w) {
			t.Errorf("row %d refused for %q, want %q", r.Row, r.Reason, w)
		}
	}
	if strings.Contains(string(raw), "password-") {
		t.Error("the report echoes passwords")
	}
	town := f.srv.Town.Town()
	if s := town.StaffMember("cadre9"); s == nil || s.Village != "v1" {
		t.Errorf("cadre9 %+v", s)
	}
	if s := town.StaffMember("dept9"); s == nil || s.Department != "cj" {
		t.Errorf("dept9 %+v", s)
	}
	resp, _ = f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "lead9", Password: "password-3"})
	if resp.StatusCode != 200 {
		t.Errorf("an imported leader logs in: %d", resp.StatusCode)
	}

	before := len(f.srv.Town.Town().Staff)
	notBook, ct2 := multipartFile(t, "file", "x.xlsx", []byte("用户名,姓名\nx,y\n"))
	if resp, raw := f.request(t, http.MethodPost, "/api/staff/import", admin, notBook, ct2); resp.StatusCode != 400 || !strings.Contains(string(raw), "表头") {
		t.Errorf("not a workbook: %d %s", resp.StatusCode, raw)
	}
	var many [][]any
	for i := range maxImportRows + 1 {
		many = append(many, []any{"m" + strings.Repeat("x", i%5), "名", "镇", "", "", "password-1"})
	}
	big, ct3 := multipartFile(t, "file", "big.xlsx", workbook(t, many))
	if resp, _ := f.request(t, http.MethodPost, "/api/staff/import", admin, big, ct3); resp.StatusCode != 400 {
		t.Errorf("a workbook over the rows: %d", resp.StatusCode)
	}
	if after := len(f.srv.Town.Town().Staff); after != before {
		t.Errorf("refused imports added %d", after-before)
	}
}

// multipartFile is one file field as a browser's FormData sends it.
func multipartFile(t *testing.T, field, name string, data []byte) ([]byte, func(*http.Request)) {
	t.Helper()
	var b bytes.Buffer
	mw := newMultipart(&b)
	fw, err := mw.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return b.Bytes(), withHeader("Content-Type", mw.FormDataContentType())
}
