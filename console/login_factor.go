package console

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"gridbot/core"
	"gridbot/totp"
)

// The second factor (身份鉴别, two factors for each user): when
// Server.SecondFactor is on, a right password does not log in; it opens a
// short pending login (a cookie scoped to /api/login) that a code from the
// person's authenticator app, or one of their recovery codes, completes.
// At the first login the person enrols: the page shows the QR code of a new
// secret, and the first code read from it proves the app holds it; then
// ten recovery codes are shown, once.
//
//	POST /api/login        {"username","password"} → {"second_factor":"code"|"enrol", "secret"?, "otpauth"?}
//	GET  /api/login/qr     the enrolment's QR code (PNG)
//	POST /api/login/code   {"code"} → {"staff", "recovery_codes"?}
//
// Codes are counted before they are checked, per account, like passwords:
// maxCodeAttempts wrong or right within loginWindow, then the account's
// codes wait out the window (a correct code clears the count). A code's
// 30-second step is used once.

// PendingCookie holds a pending login between the password and the code.
const PendingCookie = "gridbot_pending"

const (
	pendingKeyPrefix  = "console:pending:"
	pendingTTL        = 5 * time.Minute
	codeKeyPrefix     = "console:code:"
	usedStepKeyPrefix = "console:code-used:"
	usedRecoveryKey   = "console:recovery-used:"
	maxCodeAttempts   = 5
	recoveryCodeCount = 10
	// factorNS is the Records namespace of enrolled second factors.
	factorNS = "second-factor"
)

// Messages of the second factor.
const (
	msgPendingGone = "登录已超时，请重新输入用户名和密码"
	msgBadCode     = "验证码不正确"
	msgCodeTooMany = "验证码错误次数过多，请15分钟后再试"
	msgNoFactors   = "第二因素暂不可用"
)

// factor is a person's enrolled second factor, as kept in Records.
type factor struct {
	Secret   string    `json:"secret"`
	Recovery []string  `json:"recovery"` // hashes of the recovery codes not yet used
	Enrolled time.Time `json:"enrolled"`
}

// pending is a login whose password was right, waiting for its code.
type pending struct {
	Staff string `json:"staff"`
	Gen   int64  `json:"gen"`
	Grant string `json:"grant"`
	// Secret and URL are the new key of an enrolment; empty when the
	// person has a factor already.
	Secret string `json:"secret,omitempty"`
	URL    string `json:"url,omitempty"`
}

// readFactor returns staff id's enrolled factor, or nil.
func (s *Server) readFactor(ctx context.Context, id string) (*factor, error) {
	raw, ok, err := s.Factors.Record(ctx, factorNS, id)
	if err != nil || !ok {
		return nil, err
	}
	f, err := decodeFactor(raw)
	if err != nil {
		return nil, fmt.Errorf("second factor of %s: %w", id, err)
	}
	return f, nil
}

func decodeFactor(raw []byte) (*factor, error) {
	var f factor
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

func (s *Server) writeFactor(ctx context.Context, id string, f *factor) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return s.Factors.PutRecord(ctx, factorNS, id, raw)
}

// beginSecondFactor answers a right password when the second factor is
// on: a pending login, and what the page asks for next.
func (s *Server) beginSecondFactor(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	ctx := r.Context()
	f, err := s.readFactor(ctx, staff.ID)
	if err != nil {
		s.log().ErrorContext(ctx, "console second factor", "staff", staff.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	v, ok, err := s.Sessions.Get(ctx, genKey(staff.ID))
	if err != nil {
		s.log().ErrorContext(ctx, "console second factor", "staff", staff.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	p := pending{Staff: staff.ID, Gen: parseGen(v, ok), Grant: grant(staff)}
	answer := map[string]any{"second_factor": "code"}
	if f == nil {
		key, err := totp.NewKey(s.issuer(), staff.ID)
		if err != nil {
			s.log().ErrorContext(ctx, "console second factor", "staff", staff.ID, "err", err)
			writeError(w, http.StatusInternalServerError, msgServerError)
			return
		}
		p.Secret, p.URL = key.Secret, key.URL
		answer = map[string]any{"second_factor": "enrol", "secret": key.Secret, "otpauth": key.URL}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	body, _ := json.Marshal(p)
	if err := s.Sessions.Set(ctx, pendingKeyPrefix+sessionKey(token), body, pendingTTL); err != nil {
		s.log().ErrorContext(ctx, "console second factor", "staff", staff.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: PendingCookie, Value: token, Path: "/api/login", MaxAge: int(pendingTTL / time.Second),
		HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteStrictMode})
	s.record(r, staff.ID, core.AuditLogin, "", core.AuditOK, "密码正确，等待第二因素")
	writeJSON(w, http.StatusOK, answer)
}

// pendingOf reads the request's pending login, still valid for its person.
func (s *Server) pendingOf(r *http.Request) (*pending, *core.Staff, string, error) {
	c, err := r.Cookie(PendingCookie)
	if err != nil || c.Value == "" {
		return nil, nil, "", nil
	}
	key := pendingKeyPrefix + sessionKey(c.Value)
	raw, ok, err := s.Sessions.Get(r.Context(), key)
	if err != nil || !ok {
		return nil, nil, "", err
	}
	var p pending
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, nil, "", fmt.Errorf("decode pending login: %w", err)
	}
	gen, ok, err := s.Sessions.Get(r.Context(), genKey(p.Staff))
	if err != nil {
		return nil, nil, "", err
	}
	staff := s.Town.Town().StaffMember(p.Staff)
	sess := session{Staff: p.Staff, Gen: p.Gen, Grant: p.Grant}
	if !sess.valid(staff, parseGen(gen, ok)) {
		return nil, nil, "", nil
	}
	return &p, staff, key, nil
}

// handleLoginQR draws the pending enrolment's key as a QR code.
func (s *Server) handleLoginQR(w http.ResponseWriter, r *http.Request) {
	p, _, _, err := s.pendingOf(r)
	if err != nil {
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	if p == nil || p.URL == "" {
		writeError(w, http.StatusUnauthorized, msgPendingGone)
		return
	}
	png, err := totp.QR(p.URL, 240)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console second factor qr", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(png)
}

// handleLoginCode completes a pending login with a code.
func (s *Server) handleLoginCode(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code string `json:"code"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	ctx := r.Context()
	p, staff, key, err := s.pendingOf(r)
	if err != nil {
		s.log().ErrorContext(ctx, "console second factor", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	if p == nil {
		writeError(w, http.StatusUnauthorized, msgPendingGone)
		return
	}
	// Counted before checking, so codes sent at once cannot outrun it.
	countKey := codeKeyPrefix + p.Staff
	n, err := s.Sessions.Incr(ctx, countKey, loginWindow)
	if err != nil {
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	if n > maxCodeAttempts {
		s.record(r, staff.ID, core.AuditSecondFactor, "", core.AuditRefused, "验证码尝试过多，未核对")
		writeError(w, http.StatusTooManyRequests, msgCodeTooMany)
		return
	}
	now := s.now()
	var recovery []string
	detail := ""
	if p.Secret != "" {
		if ok, _ := CodeOnce(ctx, s.Sessions, usedStepKeyPrefix, p.Staff, p.Secret, req.Code, now); !ok {
			s.record(r, staff.ID, core.AuditSecondFactor, "", core.AuditRefused, "绑定时验证码错误")
			writeError(w, http.StatusUnauthorized, msgBadCode)
			return
		}
		codes, hashes, err := totp.RecoveryCodes(recoveryCodeCount)
		if err == nil {
			err = s.writeFactor(ctx, staff.ID, &factor{Secret: p.Secret, Recovery: hashes, Enrolled: now})
		}
		if err != nil {
			s.log().ErrorContext(ctx, "console second factor enrol", "staff", staff.ID, "err", err)
			writeError(w, http.StatusInternalServerError, msgServerError)
			return
		}
		recovery, detail = codes, "绑定身份验证器"
	} else {
		f, err := s.readFactor(ctx, staff.ID)
		if err != nil || f == nil {
			// Reset since the password: start again.
			if err != nil {
				s.log().ErrorContext(ctx, "console second factor", "staff", staff.ID, "err", err)
			}
			writeError(w, http.StatusUnauthorized, msgPendingGone)
			return
		}
		ok := false
		if totp.LooksLikeRecovery(req.Code) {
			ok, err = s.useRecovery(ctx, staff.ID, f, req.Code)
			if err != nil {
				s.log().ErrorContext(ctx, "console recovery code", "staff", staff.ID, "err", err)
				writeError(w, http.StatusInternalServerError, msgServerError)
				return
			}
			detail = "使用恢复码，剩余 " + strconv.Itoa(len(f.Recovery)) + " 个"
		} else {
			ok, _ = CodeOnce(ctx, s.Sessions, usedStepKeyPrefix, p.Staff, f.Secret, req.Code, now)
			detail = "验证码"
		}
		if !ok {
			s.record(r, staff.ID, core.AuditSecondFactor, "", core.AuditRefused, detail+"错误")
			writeError(w, http.StatusUnauthorized, msgBadCode)
			return
		}
	}
	_ = s.Sessions.Delete(ctx, key)
	_ = s.Sessions.Delete(ctx, countKey)
	http.SetCookie(w, &http.Cookie{Name: PendingCookie, Value: "", Path: "/api/login", MaxAge: -1,
		HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteStrictMode})
	s.record(r, staff.ID, core.AuditSecondFactor, "", core.AuditOK, detail)
	s.finishLogin(w, r, staff, map[string]any{"recovery_codes": recovery})
}

// CodeOnce reports whether code is secret's code at now, its 30-second
// step not used before by id: a code logs in once, even two sent at once
// (the mark is taken before the answer). used starts the marks' keys in
// keys, so that logins sharing a store keep apart: the console's, and the
// city's view (cmd/gridbot). On a store error the code is refused.
func CodeOnce(ctx context.Context, keys core.Ephemeral, used, id, secret, code string, now time.Time) (bool, error) {
	step, ok := totp.Check(secret, code, now)
	if !ok {
		return false, nil
	}
	took, err := keys.SetNX(ctx, used+id+":"+strconv.FormatInt(step, 10), []byte("1"), 3*totp.Step)
	if err != nil {
		return false, fmt.Errorf("mark code used: %w", err)
	}
	return took, nil
}

// useRecovery spends one of f's recovery codes if code is one; the mark
// taken first makes two uses at once of one code succeed once.
func (s *Server) useRecovery(ctx context.Context, id string, f *factor, code string) (bool, error) {
	h := totp.HashRecovery(code)
	at := -1
	for i, k := range f.Recovery {
		if k == h {
			at = i
		}
	}
	if at < 0 {
		return false, nil
	}
	took, err := s.Sessions.SetNX(ctx, usedRecoveryKey+id+":"+h, []byte("1"), genLifetime)
	if err != nil || !took {
		return false, err
	}
	f.Recovery = append(f.Recovery[:at], f.Recovery[at+1:]...)
	if err := s.writeFactor(ctx, id, f); err != nil {
		return false, err
	}
	return true, nil
}

// ResetSecondFactor forgets staff member id's second factor, so that their
// next login enrols anew, and ends their sessions: the security
// administrator's step when a phone is lost.
func (s *Server) ResetSecondFactor(ctx context.Context, id string) error {
	if s.Factors == nil {
		return errors.New("second factors are off")
	}
	if err := s.Factors.DeleteRecord(ctx, factorNS, id); err != nil {
		return fmt.Errorf("reset second factor of %s: %w", id, err)
	}
	return EndSessions(ctx, s.Sessions, s.Hub, id)
}

// issuer names the service in authenticator apps.
func (s *Server) issuer() string {
	if name := s.Town.Town().Name; name != "" {
		return "网格通 " + name
	}
	return "网格通"
}
