package core_test

import (
	"testing"
	"time"

	"gridbot/core"
)

// Deadlines in working days skip weekends and listed holidays and count
// listed make-up workdays; deadlines in hours run on the clock. The clock
// is fixed.
func TestDeadlines(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	town, err := core.NewTown(core.Town{
		Name: "沙塘镇", CasePrefix: "ST",
		Villages: []core.Village{{ID: "v1", Name: "东村"}},
		Staff:    []core.Staff{{ID: "a", Name: "甲", Role: core.RoleGridLeader}, {ID: "b", Name: "乙", Role: core.RoleGridLeader}},
		Grids:    []core.Grid{{ID: "g1", Name: "一", Kind: core.GridLarge, Village: "v1", LeaderA: "a", LeaderB: "b"}},
		Categories: []core.Category{
			{Code: "h", Name: "按小时", DeadlineHours: 48},
			{Code: "d1", Name: "一个工作日", DeadlineWorkdays: 1},
			{Code: "d3", Name: "三个工作日", DeadlineWorkdays: 3},
		},
		// 2026: National Day 10-01 … 10-07, make-up workday Saturday 10-10.
		Calendar: core.Calendar{
			Holidays: []string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"},
			Workdays: []string{"2026-10-10"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	at := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, cst) }
	tests := []struct {
		name  string
		cat   string
		start time.Time
		want  time.Time
	}{
		{"hours run over the weekend", "h", at(11, 27, 10), at(11, 29, 10)},
		{"Friday + 1 working day is Monday", "d1", at(11, 27, 10), at(11, 30, 10)},
		{"Saturday + 1 working day is Monday", "d1", at(11, 28, 15), at(11, 30, 15)},
		{"Wednesday + 3 crosses the weekend", "d3", at(11, 25, 9), at(11, 30, 9)},
		{"before the holiday: 09-30 + 1 skips 10-01…10-07, the weekend inside it too", "d1", at(9, 30, 9), at(10, 8, 9)},
		{"the make-up Saturday counts", "d3", at(10, 7, 9), at(10, 10, 9)},
		{"the make-up Saturday, then Sunday skipped", "d3", at(10, 8, 9), at(10, 12, 9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := town.Deadline(town.Category(tt.cat), tt.start); !got.Equal(tt.want) {
				t.Errorf("deadline %s, want %s", got.In(cst), tt.want)
			}
		})
	}
}

func TestCalendarChecksDates(t *testing.T) {
	for _, cal := range []core.Calendar{
		{Holidays: []string{"2026-13-01"}},
		{Holidays: []string{"2026-10-10"}, Workdays: []string{"2026-10-10"}},
	} {
		_, err := core.NewTown(core.Town{Name: "镇", CasePrefix: "ST", Calendar: cal,
			Categories: []core.Category{{Code: "c", Name: "c", DeadlineHours: 1}}})
		if err == nil {
			t.Errorf("calendar %+v accepted", cal)
		}
	}
}
