package core

import "time"

// The city's rule (a deployment of several towns, README: Towns as
// tenants). City staff are the city's, not any town's: no town directory
// may name them (Role.Valid refuses RoleCity), and they work no case. They
// read every town's figures rolled up, one town's figures down to its
// villages and grids, and one town's list of cases as CityCase shows them —
// never a resident, their words, phone or place, nor anything staff wrote.

// RoleCity is a city's staff member (市级): the rolled-up figures of every
// town, read only.
const RoleCity Role = "city"

// CityDuty is one thing a city staff member might ask to do.
type CityDuty string

// City duties.
const (
	// CityViewFigures: every town's figures (三率, counts) and their total.
	CityViewFigures CityDuty = "view_figures"
	// CityDrillDown: one town's figures by village or grid.
	CityDrillDown CityDuty = "drill_down"
	// CityReadCases: a town's list of cases, as CityCaseOf shows them.
	CityReadCases CityDuty = "read_cases"
	// CityWorkCases: any step on a case.
	CityWorkCases CityDuty = "work_cases"
	// CityReadPersonalData: residents' words, phones, places.
	CityReadPersonalData CityDuty = "read_personal_data"
)

// CityMay reports whether someone of role may do d at the city's level:
// only city staff, and only to read figures and cases without personal
// data.
func CityMay(role Role, d CityDuty) bool {
	if role != RoleCity {
		return false
	}
	return d == CityViewFigures || d == CityDrillDown || d == CityReadCases
}

// CityCase is a case as city staff read it: where and what kind, its
// state and its term — nothing of the resident, their words or place, nor
// of what staff wrote.
type CityCase struct {
	Number   string    `json:"number"`
	State    string    `json:"state"`
	Category string    `json:"category"`
	Place    string    `json:"place"`
	Created  time.Time `json:"created_at"`
	Deadline time.Time `json:"deadline"`
	Overdue  bool      `json:"overdue"`
	Rating   int       `json:"rating,omitempty"`
}

// CityCaseOf is c as city staff read it.
func CityCaseOf(t *Town, c *Case, now time.Time) CityCase {
	cat := c.Category
	if k := t.Category(c.Category); k != nil {
		cat = k.Name
	}
	return CityCase{Number: c.Number, State: c.State.Label(), Category: cat, Place: t.PlaceName(c.Grid),
		Created: c.CreatedAt, Deadline: c.Deadline, Overdue: c.Overdue(now), Rating: c.Rating}
}

// CityScope is the part of a town's figures city staff read: all of it
// (the figures carry no personal data).
func CityScope() FigureScope { return FigureScope{} }

// SumRates adds rows into one, named key and name: a city's towns into its
// total.
func SumRates(key, name string, rows ...RateRow) RateRow {
	total := RateRow{Key: key, Name: name}
	for _, r := range rows {
		total.add(r)
	}
	return total
}
