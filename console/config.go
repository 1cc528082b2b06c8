package console

import (
	"net/http"
	"time"

	"gridbot/core"
)

// ProductName is the one name people see for gridbot, on every page the
// console serves and in its downloads.
const ProductName = "网格通"

// townZoneName is the IANA name of the town's time zone: the page formats
// every time in it (Intl.DateTimeFormat), whatever zone the PC is set to, so
// the console and the WeChat pushes (Beijing time) agree.
//
// This is the one place the console decides the zone. When core.Town
// carries a configurable zone, return it here.
func townZoneName(*core.Town) string { return "Asia/Shanghai" }

// townLocation is the town's zone for times the server writes (exports).
func townLocation(town *core.Town) *time.Location {
	if loc, err := time.LoadLocation(townZoneName(town)); err == nil {
		return loc
	}
	return core.ChinaTime() // no tzdata on this machine: the same offset
}

// pageConfig is what the page needs before anyone logs in.
type pageConfig struct {
	Product string `json:"product"`
	Town    string `json:"town"`
	Zone    string `json:"zone"`
}

// handleConfig answers GET /api/config; it needs no login (the login page
// shows the product and town names) and carries nothing private.
func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	town := s.Town.Town()
	writeJSON(w, http.StatusOK, pageConfig{Product: ProductName, Town: town.Name, Zone: townZoneName(town)})
}
