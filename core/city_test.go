package core

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCityMay(t *testing.T) {
	for _, role := range []Role{RoleTown, RoleVillage, RoleGridLeader, RoleDepartment, RoleSysAdmin, RoleAuditAdmin, RoleSecAdmin, ""} {
		for _, d := range []CityDuty{CityViewFigures, CityDrillDown, CityReadCases, CityWorkCases, CityReadPersonalData} {
			if CityMay(role, d) {
				t.Errorf("%s may %s", role, d)
			}
		}
	}
	for d, want := range map[CityDuty]bool{CityViewFigures: true, CityDrillDown: true, CityReadCases: true,
		CityWorkCases: false, CityReadPersonalData: false, "other": false} {
		if CityMay(RoleCity, d) != want {
			t.Errorf("city %s: want %v", d, want)
		}
	}
	// No town's directory may name a city staff member.
	if RoleCity.Valid() {
		t.Error("a town's directory could give the city role")
	}
	sum := SumRates("total", "合计", RateRow{Cases: 2, Rated: 1, Satisfied: 1}, RateRow{Cases: 3, Rated: 2})
	if sum.Cases != 5 || sum.Rated != 3 || sum.Satisfied != 1 || sum.SatisfactionRate() != Percent(1, 3) {
		t.Fatalf("sum: %+v", sum)
	}
}

func TestCityCaseHoldsNothingPersonal(t *testing.T) {
	town := figuresTown(t)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	c := &Case{Number: "ST202611010001", State: StateAssigned, Category: "road", Grid: "g1", Village: "v1",
		Text: "王阿姨家门口的路灯坏了", Phone: "13812345678", Address: "东村12号", Resident: "o-secret-openid",
		Location: &Location{Point: Point{Lat: 22.35, Lng: 112.54}, Label: "东村口"}, Result: "电工已修好",
		Published: "路灯已修复", CreatedAt: now.Add(-72 * time.Hour), Deadline: now.Add(-time.Hour)}
	view := CityCaseOf(town, c, now)
	raw, err := json.Marshal(view)
	if err != nil {
		t.Fatal(err)
	}
	for _, personal := range []string{c.Text, c.Phone, c.Address, c.Resident, "22.35", "东村口", c.Result, c.Published} {
		if strings.Contains(string(raw), personal) {
			t.Errorf("%q in %s", personal, raw)
		}
	}
	if view.Category != "道路" || !view.Overdue || view.Place == "" || view.State != StateAssigned.Label() {
		t.Fatalf("view: %+v", view)
	}
}
