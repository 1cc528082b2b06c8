package core_test

import (
	"slices"
	"testing"

	"gridbot/core"
)

// Reach holds every case CanSee lets a staff member see, for every role
// and every way of seeing a case (their grid, their village, assigned to
// them, a meeting they lead, a case filed in their village under a grid
// that is another's now, a grid gone from the directory): a list read
// from its indexes misses nothing the policy allows.
func TestReachHoldsWhatCanSeeAllows(t *testing.T) {
	town, err := core.NewTown(core.Town{
		Name: "测试镇", CasePrefix: "ST",
		Villages: []core.Village{{ID: "v1", Name: "东村"}, {ID: "v2", Name: "西村"}},
		Staff: []core.Staff{
			{ID: "l1", Name: "甲", Role: core.RoleGridLeader},
			{ID: "l2", Name: "乙", Role: core.RoleGridLeader},
			{ID: "vs1", Name: "丙", Role: core.RoleVillage, Village: "v1"},
			{ID: "vs2", Name: "丁", Role: core.RoleVillage, Village: "v2"},
			{ID: "admin", Name: "镇办", Role: core.RoleTown},
			{ID: "d1", Name: "戊", Role: core.RoleDepartment, Department: "cj"},
		},
		Departments: []core.Department{{ID: "cj", Name: "城建办"}},
		Grids: []core.Grid{
			{ID: "g1", Name: "一格", Kind: core.GridLarge, Village: "v1", LeaderA: "l1", LeaderB: "l2"},
			{ID: "g2", Name: "二格", Kind: core.GridLarge, Village: "v1", LeaderA: "l2", LeaderB: "l2"},
			{ID: "g3", Name: "三格", Kind: core.GridLarge, Village: "v2", LeaderA: "l2", LeaderB: "l2"},
		},
		Categories: []core.Category{{Code: "env", Name: "环境", DeadlineHours: 72}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var cases []core.Case
	for _, grid := range []string{"g1", "g2", "g3", "gone"} {
		for _, village := range []string{"v1", "v2"} {
			for _, assignee := range []string{"", "l1", "l2", "vs1", "admin"} {
				for _, leader := range []string{"", "l1", "vs2", "d1"} {
					c := core.Case{Grid: grid, Village: village, Assignee: assignee, State: core.StateAssigned}
					if leader != "" {
						c.Meeting = &core.Meeting{Decided: true, Leader: leader}
					}
					cases = append(cases, c)
				}
			}
		}
	}
	for _, s := range []string{"l1", "l2", "vs1", "vs2"} {
		staff := town.StaffMember(s)
		scopes, ok := town.Reach(staff)
		if !ok {
			t.Fatalf("%s: no reach", s)
		}
		q := core.CaseQuery{Within: scopes}
		seen := 0
		for i := range cases {
			c := &cases[i]
			if town.CanSee(staff, c) {
				seen++
				if !q.Match(c) {
					t.Errorf("%s may see %+v (meeting %+v) but its reach %+v misses it", s, c, c.Meeting, scopes)
				}
			}
		}
		if seen == 0 || seen == len(cases) {
			t.Errorf("%s sees %d of %d cases: the test does not tell", s, seen, len(cases))
		}
	}
	for _, s := range []string{"admin", "d1"} {
		if scopes, ok := town.Reach(town.StaffMember(s)); ok {
			t.Errorf("%s: reach %+v, want none (the town sees all; a department is its department's index)", s, scopes)
		}
	}
	if got := core.CaseStaff(&core.Case{Assignee: "l1", Meeting: &core.Meeting{Leader: "l2"}}); !slices.Equal(got, []string{"l1"}) {
		t.Errorf("an undecided meeting's leader: CaseStaff = %v", got)
	}
}
