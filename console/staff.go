package console

import (
	"errors"
	"net/http"
	"strings"

	"gridbot/core"
)

// Messages of staff administration.
const (
	msgStaffNotFound = "未找到该人员"
	msgStaffInvalid  = "人员信息不完整或与镇村设置不符"
	msgStaffTaken    = "该用户名已被使用"
	msgNotSelf       = "不能停用自己的账号"
	msgPostInvalid   = "只能由在岗的网格员担任A/B岗"
	msgNoWeChatBind  = "微信绑定暂不可用"
)

// dutyOnly lets through only the administrator who holds duty (三权分立,
// core.MayAdminister), when what it needs is on; everybody else is
// answered 404, as if the endpoint did not exist.
func (s *Server) dutyOnly(duty core.Duty, h staffHandler) staffHandler {
	return func(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
		on := true
		switch duty {
		case core.DutyStaff:
			on = s.Book != nil
		case core.DutyAudit:
			on = s.Audit != nil
		}
		if !core.MayAdminister(staff, duty) || !on {
			writeError(w, http.StatusNotFound, msgNoAPI)
			return
		}
		h(w, r, staff)
	}
}

// permitChange answers the policy's refusal when staff may not change the
// account id (of role, or of its present role when role is empty), and
// reports whether to go on.
func (s *Server) permitChange(w http.ResponseWriter, staff *core.Staff, id string, role core.Role) bool {
	if role == "" {
		target := s.Town.Town().StaffMember(id)
		if target == nil {
			writeError(w, http.StatusNotFound, msgStaffNotFound)
			return false
		}
		role = target.Role
	}
	if err := core.PermitStaffChange(staff, id, role); err != nil {
		reason, _ := core.RefusalReason(err)
		writeError(w, http.StatusForbidden, reason)
		return false
	}
	return true
}

// staffAdminView is a staff member as the administration page lists them.
// It never carries the password hash or the openid.
type staffAdminView struct {
	staffView
	Village     string   `json:"village,omitempty"`
	Department  string   `json:"department,omitempty"`
	Disabled    bool     `json:"disabled"`
	HasPassword bool     `json:"has_password"`
	Posts       []string `json:"posts"`      // "L10:A", for programs
	PostNames   []string `json:"post_names"` // "东山村 · 一网格 A岗", for people
}

// postsOf lists the posts staff member id holds, as codes and as people
// read them.
func postsOf(town *core.Town, id string) (codes, names []string) {
	codes, names = []string{}, []string{}
	for _, g := range town.Grids {
		for _, p := range []struct {
			holder string
			post   core.Post
		}{{g.LeaderA, core.PostA}, {g.LeaderB, core.PostB}} {
			if p.holder == id {
				codes = append(codes, g.ID+":"+string(p.post))
				names = append(names, town.PlaceName(g.ID)+" "+string(p.post)+"岗")
			}
		}
	}
	return codes, names
}

func (s *Server) handleStaffList(w http.ResponseWriter, r *http.Request, _ *core.Staff) {
	town := s.Town.Town()
	grids := make([]gridView, 0, len(town.Grids))
	for _, g := range town.Grids {
		grids = append(grids, gridView{ID: g.ID, Name: g.Name, Place: town.PlaceName(g.ID), Village: g.Village,
			LeaderA: g.LeaderA, LeaderB: g.LeaderB})
	}
	out := make([]staffAdminView, 0, len(town.Staff))
	for i := range town.Staff {
		st := &town.Staff[i]
		codes, names := postsOf(town, st.ID)
		out = append(out, staffAdminView{staffView: newStaffView(st), Village: st.Village, Department: st.Department,
			Disabled: st.Disabled, HasPassword: st.PasswordHash != "", Posts: codes, PostNames: names})
	}
	writeJSON(w, http.StatusOK, map[string]any{"staff": out, "grids": grids})
}

type staffAddRequest struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Role       core.Role `json:"role"`
	Village    string    `json:"village"`
	Department string    `json:"department"`
	Password   string    `json:"password"`
}

// bookFailed answers an error of the staff book.
func (s *Server) bookFailed(w http.ResponseWriter, r *http.Request, staff *core.Staff, step string, err error) {
	switch {
	case errors.Is(err, core.ErrNotFound):
		writeError(w, http.StatusNotFound, msgStaffNotFound)
	case errors.Is(err, core.ErrConflict):
		writeError(w, http.StatusConflict, msgStaffTaken)
	case errors.Is(err, core.ErrInvalid):
		writeError(w, http.StatusBadRequest, msgStaffInvalid)
	default:
		s.log().ErrorContext(r.Context(), "console staff "+step, "staff", staff.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
	}
}

func (s *Server) handleStaffAdd(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	var req staffAddRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !req.Role.Valid() {
		writeError(w, http.StatusBadRequest, msgStaffInvalid)
		return
	}
	noteAudit(r, strings.TrimSpace(req.ID), "新增人员，角色 "+roleLabel(req.Role))
	if !s.permitChange(w, staff, strings.TrimSpace(req.ID), req.Role) {
		return
	}
	hash, ok := s.newPasswordHash(w, r, nil, req.Password)
	if !ok {
		return
	}
	a := core.StaffAccount{ID: strings.TrimSpace(req.ID), Name: req.Name, Role: req.Role, PasswordHash: hash, PasswordSetAt: s.now()}
	if req.Role == core.RoleVillage || req.Role == core.RoleGridLeader {
		a.Village = req.Village
	}
	if req.Role == core.RoleDepartment {
		a.Department = req.Department
	}
	if err := s.Book.AddStaff(r.Context(), staff.ID, a); err != nil {
		s.bookFailed(w, r, staff, "add", err)
		return
	}
	s.log().InfoContext(r.Context(), "console staff added", "staff", staff.ID, "target", a.ID)
	s.answerStaff(w, a.ID)
}

// answerStaff answers with staff member id as the list shows them.
func (s *Server) answerStaff(w http.ResponseWriter, id string) {
	town := s.Town.Town()
	st := town.StaffMember(id)
	if st == nil {
		writeError(w, http.StatusNotFound, msgStaffNotFound)
		return
	}
	codes, names := postsOf(town, id)
	writeJSON(w, http.StatusOK, map[string]any{"staff": staffAdminView{staffView: newStaffView(st), Village: st.Village,
		Department: st.Department, Disabled: st.Disabled, HasPassword: st.PasswordHash != "", Posts: codes, PostNames: names}})
}

func (s *Server) handleStaffDisable(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	var req struct {
		Disabled bool `json:"disabled"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	id := r.PathValue("id")
	if id == staff.ID && req.Disabled {
		writeError(w, http.StatusConflict, msgNotSelf)
		return
	}
	what := "enable"
	if req.Disabled {
		what = "disable"
	}
	noteAudit(r, "", map[bool]string{true: "停用账号", false: "启用账号"}[req.Disabled])
	if !s.permitChange(w, staff, id, "") {
		return
	}
	if err := s.Book.UpdateStaff(r.Context(), staff.ID, id, what, func(a *core.StaffAccount) { a.Disabled = req.Disabled }); err != nil {
		s.bookFailed(w, r, staff, what, err)
		return
	}
	// Disabling ends their sessions everywhere; so does enabling, so that
	// nothing from before the disable can come back.
	if err := EndSessions(r.Context(), s.Sessions, s.Hub, id); err != nil {
		s.bookFailed(w, r, staff, what, err)
		return
	}
	s.log().InfoContext(r.Context(), "console staff "+what, "staff", staff.ID, "target", id)
	s.answerStaff(w, id)
}

func (s *Server) handleStaffPassword(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	var req struct {
		Password string `json:"password"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	id := r.PathValue("id")
	noteAudit(r, "", "重置密码")
	if !s.permitChange(w, staff, id, "") {
		return
	}
	hash, ok := s.newPasswordHash(w, r, s.Town.Town().StaffMember(id), req.Password)
	if !ok || !s.setPassword(w, r, staff, id, hash) {
		return
	}
	s.log().InfoContext(r.Context(), "console staff password reset", "staff", staff.ID, "target", id)
	s.answerStaff(w, id)
}

func (s *Server) handleStaffBindCode(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	if s.Roster == nil {
		writeError(w, http.StatusServiceUnavailable, msgNoWeChatBind)
		return
	}
	id := r.PathValue("id")
	noteAudit(r, "", "签发微信绑定码")
	if !s.permitChange(w, staff, id, "") {
		return
	}
	code, err := s.Roster.IssueBindCode(r.Context(), id)
	if err != nil {
		s.bookFailed(w, r, staff, "bind code", err)
		return
	}
	ttl := s.Roster.CodeTTL
	if ttl <= 0 {
		ttl = core.DefaultBindCodeTTL
	}
	s.log().InfoContext(r.Context(), "console staff bind code issued", "staff", staff.ID, "target", id)
	writeJSON(w, http.StatusOK, map[string]any{"code": code, "expires_minutes": int(ttl.Minutes())})
}

func (s *Server) handleGridPost(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	var req struct {
		Post  core.Post `json:"post"`
		Staff string    `json:"staff"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	grid := r.PathValue("grid")
	noteAudit(r, "", "设置 "+string(req.Post)+" 岗为 "+req.Staff)
	if err := s.Book.SetPost(r.Context(), staff.ID, grid, req.Post, req.Staff); err != nil {
		if errors.Is(err, core.ErrInvalid) {
			writeError(w, http.StatusBadRequest, msgPostInvalid)
			return
		}
		if errors.Is(err, core.ErrNotFound) {
			writeError(w, http.StatusNotFound, msgNoAPI)
			return
		}
		s.bookFailed(w, r, staff, "set post", err)
		return
	}
	s.log().InfoContext(r.Context(), "console grid post set", "staff", staff.ID, "grid", grid, "post", string(req.Post), "target", req.Staff)
	g := s.Town.Town().Grid(grid)
	writeJSON(w, http.StatusOK, map[string]any{"grid": gridView{ID: g.ID, Name: g.Name, Place: s.Town.Town().PlaceName(g.ID),
		Village: g.Village, LeaderA: g.LeaderA, LeaderB: g.LeaderB}})
}

// adminRoutes mounts the three administrators' endpoints (三权分立): staff
// for the system administrator, the audit trail for the audit
// administrator, second factors for the security administrator. Every one
// of them is audited.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	staffDuty := func(object string, h staffHandler) http.Handler {
		return s.authed(s.dutyOnly(core.DutyStaff, s.audited(core.AuditAdmin, object, h)))
	}
	mux.Handle("GET /api/staff", s.authed(s.dutyOnly(core.DutyStaff, s.handleStaffList)))
	mux.Handle("POST /api/staff", staffDuty("", s.handleStaffAdd))
	mux.Handle("POST /api/staff/import", staffDuty("", s.heavy(s.handleStaffImport)))
	mux.Handle("GET /api/staff/import-template.xlsx", s.authed(s.dutyOnly(core.DutyStaff, s.handleStaffTemplate)))
	mux.Handle("POST /api/staff/{id}/disable", staffDuty("id", s.handleStaffDisable))
	mux.Handle("POST /api/staff/{id}/password", staffDuty("id", s.handleStaffPassword))
	mux.Handle("POST /api/staff/{id}/bind-code", staffDuty("id", s.handleStaffBindCode))
	mux.Handle("GET /api/binding", s.authed(s.handleBindingWatch))
	mux.Handle("POST /api/grids/{grid}/post", staffDuty("grid", s.handleGridPost))

	auditDuty := func(h staffHandler) http.Handler {
		return s.authed(s.dutyOnly(core.DutyAudit, s.audited(core.AuditReadAudit, "", h)))
	}
	mux.Handle("GET /api/audit", auditDuty(s.handleAuditSearch))
	mux.Handle("GET /api/audit.csv", auditDuty(s.handleAuditCSV))
	mux.Handle("GET /api/audit/verify", auditDuty(s.handleAuditVerify))

	mux.Handle("GET /api/security/staff", s.authed(s.dutyOnly(core.DutySecurity, s.handleSecurityStaff)))
	mux.Handle("POST /api/security/staff/{id}/reset-second-factor",
		s.authed(s.dutyOnly(core.DutySecurity, s.audited(core.AuditSecondFactor, "id", s.handleSecurityReset))))
}
