package console

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
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

// unknownUserHash is a bcrypt hash of a password nobody has. Login compares
// against it when the user does not exist, so a wrong name takes as long as
// a wrong password.
const unknownUserHash = "$2a$10$xTtO0VzL7a9n5LMifImDCODoYJsKaVQs7eubqPAu.bi1LJMcDigE6"

// session is what a login keeps in core.Ephemeral.
type session struct {
	Staff   string    `json:"staff"`
	Created time.Time `json:"created"`
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

// Login throttling: failed logins are counted per username and per client
// address for loginWindow; past the limit, logins are refused without
// checking the password until the window passes. The per-address limit is
// higher, as a town office may share one address.
const (
	loginKeyPrefix  = "console:login-fails:"
	maxUserFailures = 5
	maxAddrFailures = 50
	loginWindow     = 15 * time.Minute
)

// loginCounters names the counters of a login attempt. The username is
// hashed so that the key holds nothing a person typed.
func (s *Server) loginCounters(r *http.Request, username string) []struct {
	key string
	max int
} {
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		addr = r.RemoteAddr
	}
	user := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(username))))
	return []struct {
		key string
		max int
	}{
		{loginKeyPrefix + "user:" + hex.EncodeToString(user[:8]), maxUserFailures},
		{loginKeyPrefix + "addr:" + addr, cmp.Or(s.addrFailures, maxAddrFailures)},
	}
}

func (s *Server) failures(ctx context.Context, key string) (int, error) {
	v, ok, err := s.Sessions.Get(ctx, key)
	if err != nil || !ok {
		return 0, err
	}
	n, _ := strconv.Atoi(string(v))
	return n, nil
}

// throttled reports whether the attempt is over a limit.
func (s *Server) throttled(ctx context.Context, r *http.Request, username string) (bool, error) {
	for _, c := range s.loginCounters(r, username) {
		n, err := s.failures(ctx, c.key)
		if err != nil {
			return false, err
		}
		if n >= c.max {
			return true, nil
		}
	}
	return false, nil
}

// countFailure adds a failed attempt to the counters.
func (s *Server) countFailure(ctx context.Context, r *http.Request, username string) error {
	for _, c := range s.loginCounters(r, username) {
		if ok, err := s.Sessions.SetNX(ctx, c.key, []byte("1"), loginWindow); err != nil {
			return err
		} else if ok {
			continue
		}
		n, err := s.failures(ctx, c.key)
		if err != nil {
			return err
		}
		if err := s.Sessions.Set(ctx, c.key, []byte(strconv.Itoa(n+1)), loginWindow); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	if over, err := s.throttled(r.Context(), r, req.Username); err != nil {
		s.log().ErrorContext(r.Context(), "console login throttle", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	} else if over {
		s.log().WarnContext(r.Context(), "console login throttled")
		writeError(w, http.StatusTooManyRequests, msgTooMany)
		return
	}
	staff := s.Town.Town().StaffMember(req.Username)
	hash := unknownUserHash
	if staff != nil && staff.PasswordHash != "" {
		hash = staff.PasswordHash
	}
	match := bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Password)) == nil
	if staff == nil || staff.PasswordHash == "" || staff.Disabled || !match {
		// An unknown name is not logged: it is sometimes a mistyped password.
		if staff != nil {
			s.log().InfoContext(r.Context(), "console login refused", "staff", staff.ID)
		} else {
			s.log().InfoContext(r.Context(), "console login refused for an unknown user")
		}
		if err := s.countFailure(r.Context(), r, req.Username); err != nil {
			s.log().ErrorContext(r.Context(), "console login throttle", "err", err)
		}
		writeError(w, http.StatusUnauthorized, msgBadLogin)
		return
	}
	_ = s.Sessions.Delete(r.Context(), s.loginCounters(r, req.Username)[0].key)
	token, err := s.startSession(r.Context(), staff.ID)
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
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	s.log().InfoContext(r.Context(), "console login", "staff", staff.ID)
	writeJSON(w, http.StatusOK, map[string]any{"staff": newStaffView(staff)})
}

// startSession stores a new login for staff and returns its token.
func (s *Server) startSession(ctx context.Context, staff string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	v, err := json.Marshal(session{Staff: staff, Created: s.now()})
	if err != nil {
		return "", fmt.Errorf("session record: %w", err)
	}
	if err := s.Sessions.Set(ctx, sessionKey(token), v, s.sessionTTL()); err != nil {
		return "", fmt.Errorf("store session: %w", err)
	}
	return token, nil
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := s.Sessions.Delete(r.Context(), sessionKey(c.Value)); err != nil {
			s.log().ErrorContext(r.Context(), "console logout", "err", err)
			writeError(w, http.StatusInternalServerError, msgServerError)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	writeJSON(w, http.StatusOK, map[string]any{"staff": newStaffView(staff)})
}

// SessionStaff returns the staff member logged in with the request's
// cookie, or nil. A staff member removed from the directory or disabled since
// logging in is logged out.
func (s *Server) SessionStaff(r *http.Request) (*core.Staff, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	v, ok, err := s.Sessions.Get(r.Context(), sessionKey(c.Value))
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	if !ok {
		return nil, nil
	}
	var sess session
	if err := json.Unmarshal(v, &sess); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	staff := s.Town.Town().StaffMember(sess.Staff)
	if staff == nil || staff.Disabled || staff.PasswordHash == "" {
		return nil, nil
	}
	return staff, nil
}

// staffHandler is a handler that runs for a logged-in staff member.
type staffHandler func(w http.ResponseWriter, r *http.Request, staff *core.Staff)

// authed answers 401 unless the request carries a valid session.
func (s *Server) authed(h staffHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		staff, err := s.SessionStaff(r)
		if err != nil {
			s.log().ErrorContext(r.Context(), "console session", "err", err)
			writeError(w, http.StatusInternalServerError, msgServerError)
			return
		}
		if staff == nil {
			writeError(w, http.StatusUnauthorized, msgLoginFirst)
			return
		}
		h(w, r, staff)
	})
}
