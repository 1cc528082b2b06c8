package console

import (
	"net/http"

	"gridbot/core"
)

// The town map (GET /api/map): every grid the staff member sees, drawn
// from the directory's boundaries and coloured by its open cases, and pins
// for the open cases whose location the staff member may read. The page
// draws it as SVG, so it needs no internet; a 天地图 tile layer goes under
// it when Server.TiandituKey is set.

// maxPins bounds the pins one map answer carries.
const maxPins = 2000

// mapGrid is one grid on the map with its open cases counted as the board
// counts them.
type mapGrid struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Place    string        `json:"place"`
	Village  string        `json:"village"`
	Kind     core.GridKind `json:"kind"`
	Boundary []core.Point  `json:"boundary"`
	Open     int           `json:"open"`
	Yellow   int           `json:"yellow"`
	Red      int           `json:"red"`
	Overdue  int           `json:"overdue"`
}

// mapPin is an open case where the resident said the matter is.
type mapPin struct {
	Number       string       `json:"number"`
	Grid         string       `json:"grid"`
	Lat          float64      `json:"lat"`
	Lng          float64      `json:"lng"`
	StateLabel   string       `json:"state_label"`
	CategoryName string       `json:"category_name"`
	Warning      core.Warning `json:"warning,omitempty"`
	Overdue      bool         `json:"overdue"`
}

// mapTiles names the background layer, when one is configured.
type mapTiles struct {
	Tianditu string `json:"tianditu"` // the browser key (tk) of 天地图
}

func (s *Server) handleMap(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	open := listFilter{states: []core.State{core.StateSubmitted, core.StateAssigned, core.StateInProgress, core.StateReopened}}
	cases, err := s.visibleCases(r.Context(), staff, open, 0)
	if err != nil {
		s.figuresFailed(w, r, staff, err)
		return
	}
	town, now := s.Town.Town(), s.now()
	counts := map[string]core.BoardRow{}
	for _, row := range core.Board(town, cases, now) {
		if row.Kind == core.ByGrid {
			counts[row.Key] = row
		}
	}
	grids := []mapGrid{}
	for _, g := range town.Grids {
		if !gridVisible(town, staff, &g) {
			continue
		}
		c := counts[g.ID]
		b := g.Boundary
		if b == nil {
			b = []core.Point{}
		}
		grids = append(grids, mapGrid{ID: g.ID, Name: g.Name, Place: town.PlaceName(g.ID), Village: g.Village,
			Kind: g.Kind, Boundary: b, Open: c.Open, Yellow: c.Yellow, Red: c.Red, Overdue: c.Overdue})
	}
	// A pin shows where the resident is, which only those handling the
	// case may read (see handles).
	pins := []mapPin{}
	for i := range cases {
		c := &cases[i]
		if c.Location == nil || !town.SeesPersonalData(staff, c) || len(pins) == maxPins {
			continue
		}
		v := newCaseView(town, c, now)
		pins = append(pins, mapPin{Number: c.Number, Grid: c.Grid, Lat: c.Location.Lat, Lng: c.Location.Lng,
			StateLabel: v.StateLabel, CategoryName: v.CategoryName, Warning: c.Warning, Overdue: v.Overdue})
	}
	answer := map[string]any{"grids": grids, "pins": pins}
	if s.TiandituKey != "" {
		answer["tiles"] = mapTiles{Tianditu: s.TiandituKey}
	}
	writeJSON(w, http.StatusOK, answer)
}
