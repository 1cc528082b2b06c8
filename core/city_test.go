package core

import "testing"

func TestCityMay(t *testing.T) {
	for _, role := range []Role{RoleTown, RoleVillage, RoleGridLeader, RoleDepartment, RoleSysAdmin, RoleAuditAdmin, RoleSecAdmin, ""} {
		for _, d := range []CityDuty{CityViewFigures, CityDrillDown, CityReadCases, CityWorkCases, CityReadPersonalData} {
			if CityMay(role, d) {
				t.Errorf("%s may %s", role, d)
			}
		}
	}
	for d, want := range map[CityDuty]bool{CityViewFigures: true, CityDrillDown: true, CityReadCases: false,
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
