package console

import (
	"net/http"

	"gridbot/core"
)

// handleBindingWatch shows the town what binding codes have been tried in
// the current window: how many, how many were wrong, and whether binding
// is locked (core.Roster.WatchBinding). No openid or code is kept to show.
// Only the town asks; to anyone else it is not there.
func (s *Server) handleBindingWatch(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	if !core.MayAdminister(staff, core.DutyStaff) {
		writeError(w, http.StatusNotFound, msgNoAPI)
		return
	}
	if s.Roster == nil {
		writeJSON(w, http.StatusOK, core.BindWatch{})
		return
	}
	watch, err := s.Roster.WatchBinding(r.Context())
	if err != nil {
		s.log().ErrorContext(r.Context(), "console binding watch", "staff", staff.ID, "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	writeJSON(w, http.StatusOK, watch)
}
