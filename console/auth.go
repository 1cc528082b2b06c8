package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"gridbot/core"
)

// SessionCookie is the name of the console's login cookie.
const SessionCookie = "gridbot_session"

// sessionKeyPrefix starts the Ephemeral key of a login. The key holds the
// SHA-256 of the token, so a leaked store does not hand out logins.
const sessionKeyPrefix = "console:session:"

// UnknownUserHash is a bcrypt hash of a password nobody has. A login
// compares against it when the user does not exist, so a wrong name takes
// as long as a wrong password (the city's view does the same).
const UnknownUserHash = "$2a$10$xTtO0VzL7a9n5LMifImDCODoYJsKaVQs7eubqPAu.bi1LJMcDigE6"

// session is what a login keeps in core.Ephemeral. Besides who and when,
// it keeps what the login was granted on: the person's session generation
// and a fingerprint of their role and scope. A session whose generation or
// fingerprint no longer matches has ended, on every instance: a password
// reset, a disable, a logout (the generation: EndSessions) or a role or
// scope changed anywhere, even in the town directory file (the
// fingerprint). The password hash is not in the fingerprint: an instance
// learns a reset made on another a little later (its staff book's
// refresh), and a login with the new password must not be refused there
// meanwhile; the generation already ended the old sessions.
type session struct {
	Staff   string    `json:"staff"`
	Created time.Time `json:"created"`
	Gen     int64     `json:"gen"`
	Grant   string    `json:"grant"`
	// Seen is the session's last request, to the minute (login_sessions.go).
	Seen time.Time `json:"seen,omitzero"`
}

// Session generations: a counter per person in the shared keys, counted up
// to end every session they hold. It lives far longer than a session, so
// that by the time it expires and starts again from zero no session from
// before is left that could match.
const (
	genKeyPrefix = "console:session-gen:"
	genLifetime  = 400 * 24 * time.Hour
)

func genKey(staff string) string { return genKeyPrefix + staff }

// grant fingerprints what a login of staff was granted: role and scope.
func grant(staff *core.Staff) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{string(staff.Role), staff.Village, staff.Department}, "\x00")))
	return hex.EncodeToString(sum[:12])
}

// parseGen reads a generation as the store keeps it; a missing one is 0.
func parseGen(v []byte, ok bool) int64 {
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(string(v), 10, 64)
	return n
}

// EndSessions ends every session staff member id holds, on every instance
// sharing keys: their next request is refused, and their websockets close
// within Hub.sessionEvery (at once on this instance when hub is given).
// Call it after a password reset, a disable, a role change, a logout.
func EndSessions(ctx context.Context, keys SessionStore, hub *Hub, id string) error {
	if _, err := keys.Incr(ctx, genKey(id), genLifetime); err != nil {
		return fmt.Errorf("end sessions of %s: %w", id, err)
	}
	if hub != nil {
		hub.endStaff(id)
	}
	return nil
}

// valid reports whether sess, read with generation gen, is still a login
// of staff (nil: no such person).
func (sess *session) valid(staff *core.Staff, gen int64) bool {
	return staff != nil && !staff.Disabled && staff.PasswordHash != "" && sess.Gen == gen && sess.Grant == grant(staff)
}

// staffView is a staff member as the page shows them.
type staffView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      core.Role `json:"role"`
	RoleLabel string    `json:"role_label"`
}

func newStaffView(s *core.Staff) staffView {
	return staffView{ID: s.ID, Name: s.Name, Role: s.Role, RoleLabel: roleLabel(s.Role)}
}

func roleLabel(r core.Role) string {
	switch r {
	case core.RoleTown:
		return "镇级"
	case core.RoleVillage:
		return "村（社区）"
	case core.RoleDepartment:
		return "部门"
	case core.RoleGridLeader:
		return "网格员"
	case core.RoleSysAdmin:
		return "系统管理员"
	case core.RoleAuditAdmin:
		return "审计管理员"
	case core.RoleSecAdmin:
		return "安全管理员"
	}
	return string(r)
}

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return sessionKeyPrefix + hex.EncodeToString(sum[:])
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	staff, ok := s.checkPassword(w, r, req.Username, req.Password)
	if !ok {
		return
	}
	if s.passwordExpired(staff) {
		s.answerExpired(w, r, staff)
		return
	}
	if s.SecondFactor && s.Factors != nil {
		s.beginSecondFactor(w, r, staff)
		return
	}
	s.finishLogin(w, r, staff, nil)
}

// checkPassword counts a login attempt and checks its password; ok is
// false (and the client answered, the refusal on the audit trail) unless
// username is an enabled member whose password this is.
func (s *Server) checkPassword(w http.ResponseWriter, r *http.Request, username, password string) (*core.Staff, bool) {
	if ok, refusal, err := s.loginThrottle().Admit(r, username); err != nil {
		s.log().ErrorContext(r.Context(), "console login throttle", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return nil, false
	} else if !ok {
		s.log().WarnContext(r.Context(), "console login throttled")
		s.record(r, loginActor(s.Town.Town(), username), core.AuditLogin, "", core.AuditRefused, "尝试过多，未核对密码")
		writeError(w, http.StatusTooManyRequests, refusal)
		return nil, false
	}
	staff := s.Town.Town().StaffMember(username)
	hash := UnknownUserHash
	if staff != nil && staff.PasswordHash != "" {
		hash = staff.PasswordHash
	}
	match := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	if staff == nil || staff.PasswordHash == "" || staff.Disabled || !match {
		// An unknown name is not logged: it is sometimes a mistyped password.
		if staff != nil {
			s.log().InfoContext(r.Context(), "console login refused", "staff", staff.ID)
			why := "密码错误"
			if staff.Disabled {
				why = "账号已停用"
			} else if staff.PasswordHash == "" {
				why = "账号未设密码"
			}
			s.record(r, staff.ID, core.AuditLogin, "", core.AuditRefused, why)
		} else {
			s.log().InfoContext(r.Context(), "console login refused for an unknown user")
			s.record(r, "?", core.AuditLogin, "", core.AuditRefused, "用户名不存在")
		}
		writeError(w, http.StatusUnauthorized, msgBadLogin)
		return nil, false
	}
	return staff, true
}

// finishLogin logs staff in: the throttle learns the address, a session
// starts, the cookie is set, and the answer carries extra besides the
// staff member.
func (s *Server) finishLogin(w http.ResponseWriter, r *http.Request, staff *core.Staff, extra map[string]any) {
	// This address now knows the account: a stranger's flood from
	// elsewhere no longer keeps its holder out from here.
	if err := s.loginThrottle().LoggedIn(r, staff.ID); err != nil {
		s.log().WarnContext(r.Context(), "console login throttle", "err", err)
	}
	endedOthers, err := s.endOlderSessions(r, staff)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console login", "staff", staff.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	token, err := s.startSession(r.Context(), staff)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console login", "staff", staff.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Value:    token,
		Path:     "/",
		MaxAge:   int(s.sessionTTL() / time.Second),
		HttpOnly: true,
		Secure:   s.overTLS(r),
		SameSite: http.SameSiteStrictMode,
	})
	s.log().InfoContext(r.Context(), "console login", "staff", staff.ID)
	s.record(r, staff.ID, core.AuditLogin, "", core.AuditOK, "")
	answer := map[string]any{"staff": newStaffView(staff)}
	if endedOthers {
		answer["notice"] = msgEndedOthers
	}
	for k, v := range extra {
		if v != nil {
			answer[k] = v
		}
	}
	writeJSON(w, http.StatusOK, answer)
}

// startSession stores a new login for staff and returns its token.
func (s *Server) startSession(ctx context.Context, staff *core.Staff) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	v, ok, err := s.Sessions.Get(ctx, genKey(staff.ID))
	if err != nil {
		return "", fmt.Errorf("session generation: %w", err)
	}
	now := s.now()
	sess := session{Staff: staff.ID, Created: now, Gen: parseGen(v, ok), Grant: grant(staff), Seen: now}
	v, err = json.Marshal(sess)
	if err != nil {
		return "", fmt.Errorf("session record: %w", err)
	}
	if err := s.Sessions.Set(ctx, sessionKey(token), v, s.sessionKeyTTL(&sess, now)); err != nil {
		return "", fmt.Errorf("store session: %w", err)
	}
	return token, nil
}

// handleLogout ends every session of the person logged in, websockets
// included, on every instance: a logout on one device should not leave
// another one open to whoever finds it.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		staff, err := s.SessionStaff(r)
		if err == nil && staff != nil {
			err = EndSessions(r.Context(), s.Sessions, s.Hub, staff.ID)
		}
		if err == nil {
			err = s.Sessions.Delete(r.Context(), sessionKey(c.Value))
		}
		if err == nil && staff != nil {
			err = s.Sessions.Delete(r.Context(), liveKeyPrefix+staff.ID)
		}
		if err != nil {
			s.log().ErrorContext(r.Context(), "console logout", "err", err)
			writeError(w, http.StatusInternalServerError, msgServerError)
			return
		}
		if staff != nil {
			s.log().InfoContext(r.Context(), "console logout", "staff", staff.ID)
			s.record(r, staff.ID, core.AuditLogout, "", core.AuditOK, "")
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteStrictMode,
	})
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	writeJSON(w, http.StatusOK, map[string]any{"staff": newStaffView(staff)})
}

// SessionStaff returns the staff member logged in with the request's
// cookie, or nil. A session ends when its person is removed, disabled, has
// their password, role or scope changed, or their sessions were ended
// (EndSessions), whichever instance did it.
func (s *Server) SessionStaff(r *http.Request) (*core.Staff, error) {
	staff, _, err := s.sessionOf(r)
	return staff, err
}

// sessionOf is SessionStaff, with the session's store key.
func (s *Server) sessionOf(r *http.Request) (*core.Staff, string, error) {
	staff, key, _, err := s.sessionWhy(r)
	return staff, key, err
}

// sessionWhy is sessionOf, and when the request's session has ended, the
// words to tell the person why.
func (s *Server) sessionWhy(r *http.Request) (*core.Staff, string, string, error) {
	staff, key, sess, err := s.readSession(r)
	if err != nil || sess == nil {
		return nil, "", msgLoginFirst, err
	}
	now := s.now()
	if staff == nil || s.expired(sess, now) {
		return nil, "", s.endedWhy(r.Context(), sess, now), nil
	}
	s.touch(r.Context(), key, *sess, now)
	return staff, key, "", nil
}

// readSession reads the request's session: its person (nil when it is no
// longer valid for them), its key and record (nil when there is none).
func (s *Server) readSession(r *http.Request) (*core.Staff, string, *session, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, "", nil, nil
	}
	key := sessionKey(c.Value)
	v, ok, err := s.Sessions.Get(r.Context(), key)
	if err != nil {
		return nil, "", nil, fmt.Errorf("read session: %w", err)
	}
	if !ok {
		return nil, "", nil, nil
	}
	var sess session
	if err := json.Unmarshal(v, &sess); err != nil {
		return nil, "", nil, fmt.Errorf("decode session: %w", err)
	}
	gen, ok, err := s.Sessions.Get(r.Context(), genKey(sess.Staff))
	if err != nil {
		return nil, "", nil, fmt.Errorf("read session generation: %w", err)
	}
	staff := s.Town.Town().StaffMember(sess.Staff)
	if !sess.valid(staff, parseGen(gen, ok)) {
		return nil, key, &sess, nil
	}
	return staff, key, &sess, nil
}

// staffHandler is a handler that runs for a logged-in staff member.
type staffHandler func(w http.ResponseWriter, r *http.Request, staff *core.Staff)

// authed answers 401 unless the request carries a valid session.
func (s *Server) authed(h staffHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		staff, _, why, err := s.sessionWhy(r)
		if err != nil {
			s.log().ErrorContext(r.Context(), "console session", "err", err)
			writeError(w, http.StatusInternalServerError, msgServerError)
			return
		}
		if staff == nil {
			writeError(w, http.StatusUnauthorized, why)
			return
		}
		h(w, r, staff)
	})
}

// endedFeeds returns those of fs whose sessions have ended: gone from the
// store (a logout, or expired), past their lifetime, or no longer valid
// (see session.valid). The sessions and generations are read in one batch,
// once per session however many tabs share it. On a store error it ends
// nothing: a blip must not close every console.
func (s *Server) endedFeeds(ctx context.Context, fs []*follower) []*follower {
	index := map[string]int{}
	var ops []core.KeyOp
	read := func(key string) {
		if _, seen := index[key]; !seen {
			index[key] = len(ops)
			ops = append(ops, core.KeyOp{Kind: core.KeyGet, Key: key})
		}
	}
	for _, f := range fs {
		read(f.session)
		read(genKey(f.staff))
	}
	core.BatchKeys(ctx, s.Sessions, ops)
	for _, op := range ops {
		if op.Err != nil {
			if ctx.Err() == nil {
				s.log().WarnContext(ctx, "console feed: session check", "err", op.Err)
			}
			return nil
		}
	}
	// Each session is judged once, however many tabs share it.
	town, now := s.Town.Town(), s.now()
	verdicts := make(map[string]bool, len(index)) // session key+staff → ended
	var ended []*follower
	for _, f := range fs {
		id := f.session + "\x00" + f.staff
		gone, seen := verdicts[id]
		if !seen {
			op := ops[index[f.session]]
			var sess session
			gone = !op.OK || json.Unmarshal(op.Got, &sess) != nil || sess.Staff != f.staff || s.expired(&sess, now)
			if !gone {
				gen := ops[index[genKey(f.staff)]]
				gone = !sess.valid(town.StaffMember(f.staff), parseGen(gen.Got, gen.OK))
			}
			verdicts[id] = gone
		}
		if gone {
			ended = append(ended, f)
		}
	}
	return ended
}

// loginActor names who tried a login for the audit trail: the account when
// it exists, else "?" — an unknown name is sometimes a mistyped password.
func loginActor(town *core.Town, username string) string {
	if st := town.StaffMember(username); st != nil {
		return st.ID
	}
	return "?"
}
