package core

import (
	"math"
	"slices"
	"strconv"
)

// Places index the open cases for 附议 (JoinCandidates): each open case is
// found under its category and its grid ("grid:<id>"), and, when located,
// under the cell of a fixed lattice its location falls in ("cell:<i>,<j>",
// CellDeg degrees on a side, about 550 m north–south). A draft's
// candidates are then the cases in the few cells around it and in its
// grid: a bounded read however long the ledger.

// CellDeg is the side of a place cell in degrees.
const CellDeg = 0.005

// GridPlace is the place of every case of grid.
func GridPlace(grid string) string { return "grid:" + grid }

// CellPlace is the place of the lattice cell p falls in.
func CellPlace(p Point) string {
	i, j := cellOf(p)
	return "cell:" + strconv.Itoa(i) + "," + strconv.Itoa(j)
}

func cellOf(p Point) (int, int) {
	return int(math.Floor(p.Lat / CellDeg)), int(math.Floor(p.Lng / CellDeg))
}

// CellsAround lists the places of the cells that hold every point within
// radiusM metres of p (a few cells for a few hundred metres; at most
// 49, for a radius of up to about 1.6 km, beyond which the lookup is no
// longer a neighbourhood and the cells are capped).
func CellsAround(p Point, radiusM float64) []string {
	dLat := radiusM / 111_000
	cos := math.Cos(p.Lat * math.Pi / 180)
	dLng := dLat
	if cos > 0.01 {
		dLng = dLat / cos
	}
	i0, j0 := cellOf(Point{Lat: p.Lat - dLat, Lng: p.Lng - dLng})
	i1, j1 := cellOf(Point{Lat: p.Lat + dLat, Lng: p.Lng + dLng})
	i0, i1 = max(i0, (i0+i1)/2-3), min(i1, (i0+i1)/2+3)
	j0, j1 = max(j0, (j0+j1)/2-3), min(j1, (j0+j1)/2+3)
	var out []string
	for i := i0; i <= i1; i++ {
		for j := j0; j <= j1; j++ {
			out = append(out, "cell:"+strconv.Itoa(i)+","+strconv.Itoa(j))
		}
	}
	return out
}

// PlacesOf lists the places case c is found under: its grid's, and its
// cell's when located.
func PlacesOf(c *Case) []string {
	out := []string{GridPlace(c.Grid)}
	if c.Location != nil {
		out = append(out, CellPlace(c.Location.Point))
	}
	return out
}

// inPlaces reports whether c is found under any of places.
func inPlaces(c *Case, places []string) bool {
	for _, p := range PlacesOf(c) {
		if slices.Contains(places, p) {
			return true
		}
	}
	return false
}
