package console

import (
	"cmp"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"gridbot/core"
	"gridbot/export/xlsx"
)

// Bulk staff import (批量导入): the town uploads a spreadsheet of new
// accounts — 用户名, 姓名, 角色, 村（社区）, 部门, 初始密码 — and each row is
// added as one would be on the page, or refused with its reason; the
// answer is the report of both, by row. Passwords are never echoed.

// Bounds of an import.
const (
	maxImportBytes = 1 << 20
	maxImportRows  = 501 // the header and 500 people
	msgImportBad   = "请上传 Excel 工作簿（.xlsx，不超过1MB、500行），第一行为表头：用户名、姓名、角色、村（社区）、部门、初始密码"
)

// importRefusal is a row not added, and why.
type importRefusal struct {
	Row    int    `json:"row"` // as the spreadsheet numbers it, the header being 1
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// rowCells reads a spreadsheet row by column key (cols: key → column),
// trimmed; a column the sheet lacks or the row leaves out reads "".
func rowCells(cols map[string]int, row []string) func(key string) string {
	return func(key string) string {
		if c, ok := cols[key]; ok && c < len(row) {
			return strings.TrimSpace(row[c])
		}
		return ""
	}
}

// importColumns finds the columns by their headings, as offices name them.
func importColumns(header []string) (map[string]int, bool) {
	names := map[string][]string{
		"id":         {"用户名", "账号", "登录名", "工号", "id"},
		"name":       {"姓名", "名字", "name"},
		"role":       {"角色", "身份", "role"},
		"village":    {"村（社区）", "村(社区)", "村", "社区", "所属村", "village"},
		"department": {"部门", "所属部门", "department"},
		"password":   {"初始密码", "密码", "password"},
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for key, alts := range names {
			for _, a := range alts {
				if _, seen := cols[key]; !seen && h == a {
					cols[key] = i
				}
			}
		}
	}
	for _, need := range []string{"id", "name", "role", "password"} {
		if _, ok := cols[need]; !ok {
			return nil, false
		}
	}
	return cols, true
}

// importRole reads a role as offices write it.
func importRole(s string) (core.Role, bool) {
	switch strings.TrimSpace(s) {
	case "镇", "镇级", "镇工作人员", "镇街", "town":
		return core.RoleTown, true
	case "村", "社区", "村（社区）", "村(社区)", "村干部", "村工作人员", "village":
		return core.RoleVillage, true
	case "网格员", "网格长", "网格", "grid":
		return core.RoleGridLeader, true
	case "部门", "部门工作人员", "department":
		return core.RoleDepartment, true
	}
	return "", false
}

// handleStaffImport adds the accounts of an uploaded workbook: POST
// /api/staff/import, multipart with one "file". The system administrator only (三权分立).
func (s *Server) handleStaffImport(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	rows, ok := uploadedRows(w, r, msgImportBad)
	if !ok {
		return
	}
	cols, ok := importColumns(rows[0])
	if !ok {
		writeError(w, http.StatusBadRequest, msgImportBad)
		return
	}
	added, refused := []string{}, []importRefusal{}
	seen := map[string]bool{}
	for i, row := range rows[1:] {
		cell := rowCells(cols, row)
		if strings.Join(row, "") == "" {
			continue
		}
		n := i + 2
		a, reason := s.importAccount(cell)
		if reason == "" && seen[a.ID] {
			reason = "表中用户名重复"
		}
		if reason == "" {
			if err := s.Book.AddStaff(r.Context(), staff.ID, a); err != nil {
				switch {
				case errors.Is(err, core.ErrConflict):
					reason = msgStaffTaken
				case errors.Is(err, core.ErrInvalid):
					reason = "用户名只能用字母、数字、-、_ ，或信息与镇村设置不符"
				default:
					s.log().ErrorContext(r.Context(), "console staff import", "staff", staff.ID, "row", n, "err", err)
					reason = "保存失败，请稍后再导入这一行"
				}
			}
		}
		seen[a.ID] = true
		if reason != "" {
			refused = append(refused, importRefusal{Row: n, ID: a.ID, Reason: reason})
			continue
		}
		added = append(added, a.ID)
	}
	s.log().InfoContext(r.Context(), "console staff import", "staff", staff.ID, "added", len(added), "refused", len(refused))
	writeJSON(w, http.StatusOK, map[string]any{"added": added, "refused": refused})
}

// importAccount reads one row into an account, or says why it cannot.
func (s *Server) importAccount(cell func(string) string) (core.StaffAccount, string) {
	town := s.Town.Town()
	a := core.StaffAccount{ID: cell("id"), Name: cell("name")}
	if utf8.RuneCountInString(a.ID) > 64 {
		a.ID = string([]rune(a.ID)[:64])
	}
	role, ok := importRole(cell("role"))
	switch {
	case a.ID == "":
		return a, "缺少用户名"
	case a.Name == "" || utf8.RuneCountInString(a.Name) > 30:
		return a, "缺少姓名，或姓名超过30字"
	case !ok:
		return a, "角色应为 镇、村（社区）、网格员 或 部门"
	}
	a.Role = role
	if role == core.RoleVillage || role == core.RoleGridLeader {
		v := cell("village")
		for _, vil := range town.Villages {
			if vil.ID == v || vil.Name == v {
				a.Village = vil.ID
			}
		}
		if a.Village == "" && (role == core.RoleVillage || v != "") {
			return a, "没有这个村（社区）：" + v
		}
	}
	if role == core.RoleDepartment {
		d := cell("department")
		if dep := town.DepartmentByName(d); dep != nil {
			a.Department = dep.ID
		} else if town.Department(d) != nil {
			a.Department = d
		} else {
			return a, "没有这个部门：" + d
		}
	}
	pw := cell("password")
	if s.Passwords.Check(pw) != nil {
		return a, s.passwordUnfit()
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), cmp.Or(s.hashCost, bcrypt.DefaultCost))
	if err != nil {
		return a, "密码无法保存"
	}
	a.PasswordHash, a.PasswordSetAt = string(hash), s.now()
	return a, ""
}

// handleStaffTemplate serves the import's empty workbook, with one example
// row per role: GET /api/staff/import-template.xlsx. Town only.
func (s *Server) handleStaffTemplate(w http.ResponseWriter, r *http.Request, _ *core.Staff) {
	town := s.Town.Town()
	village, dept := "", ""
	if len(town.Villages) > 0 {
		village = town.Villages[0].Name
	}
	if len(town.Departments) > 0 {
		dept = town.Departments[0].Name
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="staff-import.xlsx"; filename*=UTF-8''%E4%BA%BA%E5%91%98%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx`)
	err := xlsx.Write(w, []xlsx.Sheet{{Name: "人员", Header: []string{"用户名", "姓名", "角色", "村（社区）", "部门", "初始密码"},
		Rows: [][]any{
			{"zhang.wei", "张伟", "网格员", village, "", "至少8位的初始密码"},
			{"li.na", "李娜", "村（社区）", village, "", "至少8位的初始密码"},
			{"wang.qiang", "王强", "部门", "", dept, "至少8位的初始密码"},
		}}})
	if err != nil {
		s.log().ErrorContext(r.Context(), "console staff template", "err", err)
	}
}

// uploadedRows reads the rows of the one workbook uploaded as "file" (a
// multipart form of at most maxImportBytes, at most maxImportRows rows);
// ok is false, and the client answered with bad, when there is none to
// read.
func uploadedRows(w http.ResponseWriter, r *http.Request, bad string) (rows [][]string, ok bool) {
	if err := r.ParseMultipartForm(maxImportBytes); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, bad)
		} else {
			writeError(w, http.StatusBadRequest, bad)
		}
		return nil, false
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	files := r.MultipartForm.File["file"]
	if len(files) != 1 || files[0].Size > maxImportBytes {
		writeError(w, http.StatusBadRequest, bad)
		return nil, false
	}
	file, err := files[0].Open()
	if err != nil {
		writeError(w, http.StatusBadRequest, bad)
		return nil, false
	}
	defer file.Close()
	rows, err = xlsx.ReadRows(file, maxImportRows)
	if err != nil || len(rows) == 0 {
		writeError(w, http.StatusBadRequest, bad)
		return nil, false
	}
	return rows, true
}
