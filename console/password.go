package console

import (
	"cmp"
	"net/http"

	"golang.org/x/crypto/bcrypt"

	"gridbot/core"
)

// The password policy (等保 2.0 身份鉴别: complexity, periodic change, no
// reuse of the last few): every password set on the console — by an
// administrator, on import, by its holder — is checked against
// Server.Passwords, and a login with an expired one must change it before a
// session starts.

const (
	msgPasswordReused  = "新密码不得与最近用过的密码相同"
	msgPasswordExpired = "密码已过期，请设置新密码后登录"
	msgPasswordSame    = "两次输入的新密码不一致"
)

// passwordUnfit is the answer to a password the policy refuses.
func (s *Server) passwordUnfit() string { return "密码不符合要求：" + s.Passwords.Rule() }

// newPasswordHash checks password against the policy and, when target is
// set, against target's last passwords, and hashes it; ok is false (and the
// client answered) when it is unfit.
func (s *Server) newPasswordHash(w http.ResponseWriter, r *http.Request, target *core.Staff, password string) (string, bool) {
	if err := s.Passwords.Check(password); err != nil {
		writeError(w, http.StatusBadRequest, s.passwordUnfit())
		return "", false
	}
	if target != nil && reused(target.PasswordHashes(s.Passwords), password) {
		writeError(w, http.StatusBadRequest, msgPasswordReused)
		return "", false
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cmp.Or(s.hashCost, bcrypt.DefaultCost))
	if err != nil {
		s.log().ErrorContext(r.Context(), "console hash password", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return "", false
	}
	return string(hash), true
}

// reused tells whether password is one of hashes.
func reused(hashes []string, password string) bool {
	for _, h := range hashes {
		if bcrypt.CompareHashAndPassword([]byte(h), []byte(password)) == nil {
			return true
		}
	}
	return false
}

// setPassword gives staff member id the new hash, dated now, and ends their
// sessions everywhere.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, actor *core.Staff, id, hash string) bool {
	if s.Book == nil {
		writeError(w, http.StatusServiceUnavailable, msgServerError)
		return false
	}
	now := s.now()
	err := s.Book.UpdateStaff(r.Context(), actor.ID, id, "password", func(a *core.StaffAccount) { a.SetPassword(s.Passwords, hash, now) })
	if err == nil {
		err = EndSessions(r.Context(), s.Sessions, s.Hub, id)
	}
	if err != nil {
		s.bookFailed(w, r, actor, "password", err)
		return false
	}
	return true
}

// passwordExpired tells whether staff must change their password before a
// session starts.
func (s *Server) passwordExpired(staff *core.Staff) bool {
	return s.Passwords.Expired(staff.PasswordSetAt, s.now())
}

// answerExpired tells the login form to ask for a new password.
func (s *Server) answerExpired(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	s.log().InfoContext(r.Context(), "console login: password expired", "staff", staff.ID)
	s.record(r, staff.ID, core.AuditLogin, "", core.AuditRefused, "密码已过期，须先修改")
	writeJSON(w, http.StatusOK, map[string]any{"change_password": true, "notice": msgPasswordExpired, "rule": s.Passwords.Rule()})
}

type loginPasswordRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	NewPassword string `json:"new_password"`
}

// handleLoginPassword is the login of a person whose password expired: the
// old password again (counted like any login attempt), and the new one;
// the login then goes on as after a password (the second factor, or a
// session). POST /api/login/password.
func (s *Server) handleLoginPassword(w http.ResponseWriter, r *http.Request) {
	var req loginPasswordRequest
	if !readJSON(w, r, &req) {
		return
	}
	staff, ok := s.checkPassword(w, r, req.Username, req.Password)
	if !ok {
		return
	}
	hash, ok := s.newPasswordHash(w, r, staff, req.NewPassword)
	if !ok {
		return
	}
	if !s.setPassword(w, r, staff, staff.ID, hash) {
		return
	}
	s.record(r, staff.ID, core.AuditAdmin, staff.ID, core.AuditOK, "修改本人密码（已过期）")
	if staff = s.Town.Town().StaffMember(staff.ID); staff == nil {
		writeError(w, http.StatusUnauthorized, msgBadLogin)
		return
	}
	if s.SecondFactor && s.Factors != nil {
		s.beginSecondFactor(w, r, staff)
		return
	}
	s.finishLogin(w, r, staff, nil)
}

// handleMyPassword changes the logged-in person's own password: POST
// /api/me/password {current, new}. Their other sessions end; this one too,
// so they log in again with it.
func (s *Server) handleMyPassword(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	var req struct {
		Current string `json:"current"`
		New     string `json:"new"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	// The current password is checked like a login's, within the same
	// counts: a session taken over cannot be used to guess it.
	if ok, refusal, err := s.loginThrottle().Admit(r, staff.ID); err != nil {
		s.log().ErrorContext(r.Context(), "console password throttle", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	} else if !ok {
		s.record(r, staff.ID, core.AuditAdmin, staff.ID, core.AuditRefused, "修改本人密码：尝试过多，未核对原密码")
		writeError(w, http.StatusTooManyRequests, refusal)
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(staff.PasswordHash), []byte(req.Current)) != nil {
		s.record(r, staff.ID, core.AuditAdmin, staff.ID, core.AuditRefused, "修改本人密码：原密码错误")
		writeError(w, http.StatusForbidden, msgBadLogin)
		return
	}
	hash, ok := s.newPasswordHash(w, r, staff, req.New)
	if !ok {
		return
	}
	if !s.setPassword(w, r, staff, staff.ID, hash) {
		return
	}
	s.record(r, staff.ID, core.AuditAdmin, staff.ID, core.AuditOK, "修改本人密码")
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}
