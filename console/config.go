package console

import (
	"net/http"
)

// ProductName is the one name people see for gridbot, on every page the
// console serves and in its downloads.
const ProductName = "网格通"

// pageConfig is what the page needs before anyone logs in.
type pageConfig struct {
	Product string `json:"product"`
	Town    string `json:"town"`
	// Zone is the IANA name of the town's time zone: the page formats
	// every time in it (Intl.DateTimeFormat), whatever zone the PC is set
	// to, so the console, the pushes and the exports agree.
	Zone string `json:"zone"`
}

// handleConfig answers GET /api/config; it needs no login (the login page
// shows the product and town names) and carries nothing private.
func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	town := s.Town.Town()
	writeJSON(w, http.StatusOK, pageConfig{Product: ProductName, Town: town.Name, Zone: town.TimeZone})
}
