package console

import (
	"net/http"
	"time"

	"gridbot/core"
)

// The security administrator's page (安全管理员): who has enrolled a second
// factor, the reset of a lost one, and the security settings in force
// (set in the configuration file, shown here for the record).

// SecuritySettings are the login and session rules in force, as the
// security administrator's page shows them.
type SecuritySettings struct {
	SecondFactor       bool          `json:"second_factor"`
	SessionLifetime    time.Duration `json:"session_lifetime_ns"`
	LoginAttempts      int           `json:"login_attempts_per_account_and_address"`
	LoginWindowMinutes int           `json:"login_window_minutes"`
}

// factorView is one staff member's second factor, for the security
// administrator: never the secret.
type factorView struct {
	staffView
	Disabled      bool       `json:"disabled"`
	Enrolled      bool       `json:"enrolled"`
	EnrolledAt    *time.Time `json:"enrolled_at,omitempty"`
	RecoveryLeft  int        `json:"recovery_left"`
	Administrator bool       `json:"administrator"`
}

func (s *Server) handleSecurityStaff(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	town := s.Town.Town()
	enrolled := map[string][]byte{}
	if s.Factors != nil {
		var err error
		if enrolled, err = s.Factors.RecordsIn(r.Context(), factorNS); err != nil {
			s.log().ErrorContext(r.Context(), "console security staff", "err", err)
			writeError(w, http.StatusInternalServerError, msgServerError)
			return
		}
	}
	out := make([]factorView, 0, len(town.Staff))
	for i := range town.Staff {
		st := &town.Staff[i]
		v := factorView{staffView: newStaffView(st), Disabled: st.Disabled, Administrator: st.Role.Administers()}
		if raw, ok := enrolled[st.ID]; ok {
			if f, err := decodeFactor(raw); err == nil {
				at := f.Enrolled
				v.Enrolled, v.EnrolledAt, v.RecoveryLeft = true, &at, len(f.Recovery)
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"staff": out, "settings": SecuritySettings{SecondFactor: s.SecondFactor,
		SessionLifetime: s.sessionTTL(), LoginAttempts: maxPairAttempts, LoginWindowMinutes: int(loginWindow / time.Minute)}})
}

// handleSecurityReset forgets a member's second factor (a lost phone) and
// ends their sessions; their next login enrols anew. Not one's own: a
// second security administrator, or the server's operator, does that.
func (s *Server) handleSecurityReset(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	id := r.PathValue("id")
	noteAudit(r, id, "重置第二因素")
	if s.Town.Town().StaffMember(id) == nil {
		writeError(w, http.StatusNotFound, msgStaffNotFound)
		return
	}
	if id == staff.ID {
		writeError(w, http.StatusForbidden, "不能重置自己的第二因素")
		return
	}
	if err := s.ResetSecondFactor(r.Context(), id); err != nil {
		s.log().ErrorContext(r.Context(), "console security reset", "target", id, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	s.log().InfoContext(r.Context(), "console second factor reset", "staff", staff.ID, "target", id)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}
