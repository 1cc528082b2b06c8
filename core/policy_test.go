package core_test

import (
	"errors"
	"slices"
	"testing"

	"gridbot/core"
)

func policyTown(t *testing.T) *core.Town {
	t.Helper()
	town, err := core.NewTown(core.Town{
		Name: "测试镇", CasePrefix: "ST",
		Villages:    []core.Village{{ID: "v1", Name: "东村"}, {ID: "v2", Name: "西村"}},
		Departments: []core.Department{{ID: "cj", Name: "城建办"}},
		Staff: []core.Staff{
			{ID: "town", Name: "镇", Role: core.RoleTown},
			{ID: "v1", Name: "东村干部", Role: core.RoleVillage, Village: "v1"},
			{ID: "v2", Name: "西村干部", Role: core.RoleVillage, Village: "v2"},
			{ID: "a", Name: "甲", Role: core.RoleGridLeader},
			{ID: "b", Name: "乙", Role: core.RoleGridLeader},
			{ID: "cj", Name: "城建", Role: core.RoleDepartment, Department: "cj"},
			{ID: "off", Name: "离职", Role: core.RoleTown, Disabled: true},
		},
		Grids: []core.Grid{
			{ID: "g1", Name: "一格", Kind: core.GridLarge, Village: "v1", LeaderA: "a", LeaderB: "b"},
			{ID: "g2", Name: "二格", Kind: core.GridLarge, Village: "v2", LeaderA: "b", LeaderB: "b"},
		},
		Categories: []core.Category{{Code: "road", Name: "道路", DeadlineHours: 24}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return town
}

// TestPolicyStaff covers the rows the chat and console table cannot reach:
// reopening and correcting (console only), disabled staff, and the offered
// list. The role × step × state table through both channels is
// console.TestPolicySameOnEveryChannel.
func TestPolicyStaff(t *testing.T) {
	town := policyTown(t)
	open := core.Case{Number: "1", State: core.StateAssigned, Village: "v1", Grid: "g1", Assignee: "a", Post: core.PostA}
	resolved := open
	resolved.State = core.StateResolved
	withB := open
	withB.Assignee, withB.Post = "b", core.PostB
	tests := []struct {
		staff string
		step  core.Step
		c     core.Case
		want  error
	}{
		{"town", core.StepReopen, resolved, nil},
		{"v1", core.StepReopen, resolved, core.ErrForbidden},
		{"a", core.StepReopen, resolved, core.ErrForbidden},
		{"town", core.StepReopen, open, core.ErrWrongState},
		{"v1", core.StepReclassify, open, nil},
		{"v2", core.StepReclassify, open, core.ErrNotFound},
		{"a", core.StepReclassify, open, core.ErrForbidden},
		{"town", core.StepReclassify, resolved, core.ErrWrongState},
		{"off", core.StepAccept, open, core.ErrNotFound},
		{"v1", core.StepAccept, open, nil},
		{"v1", core.StepTransfer, open, nil},
		{"a", core.StepTransfer, withB, core.ErrNoChange},
		{"b", core.StepAccept, withB, nil},
		{"cj", core.StepReply, open, core.ErrNotFound},
		{"town", core.StepRate, resolved, core.ErrForbidden},
	}
	for _, tt := range tests {
		s := town.StaffMember(tt.staff)
		err := town.Permit(s, tt.step, &tt.c)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s %s on %s: %v, want %v", tt.staff, tt.step, tt.c.State, err, tt.want)
		}
		if reason, ok := core.RefusalReason(err); err != nil && (!ok || reason == "") {
			t.Errorf("%s %s: a refusal without words: %v", tt.staff, tt.step, err)
		}
	}

	if err := town.PermitMove(town.StaffMember("v1"), town.Grid("g2")); !errors.Is(err, core.ErrForbidden) {
		t.Errorf("a village moves a case to another village's grid: %v", err)
	}
	if err := town.PermitMove(town.StaffMember("town"), town.Grid("g2")); err != nil {
		t.Errorf("the town moves a case: %v", err)
	}
	if got := town.Steps(town.StaffMember("a"), &open); !slices.Equal(got, []core.Step{core.StepAccept,
		core.StepReply, core.StepResolve, core.StepWhistle, core.StepTransfer, core.StepAskChange, core.StepNote, core.StepTable}) {
		t.Errorf("post A is offered %v", got)
	}
	if got := town.Steps(town.StaffMember("town"), &resolved); !slices.Equal(got, []core.Step{core.StepReply, core.StepReopen, core.StepNote, core.StepInstruct}) {
		t.Errorf("the town is offered %v on a resolved case", got)
	}
}

func TestPolicyResident(t *testing.T) {
	c := core.Case{Resident: "r", Joined: []string{"j"}, State: core.StateResolved}
	closed := c
	closed.State = core.StateClosed
	open := c
	open.State = core.StateInProgress
	tests := []struct {
		who  string
		step core.Step
		c    core.Case
		want error
	}{
		{"r", core.StepRate, c, nil},
		{"j", core.StepRate, c, nil},
		{"j", core.StepRate, closed, nil}, // a joiner rates after the filer closed it
		{"r", core.StepRate, closed, core.ErrWrongState},
		{"x", core.StepRate, c, core.ErrNotFound},
		{"r", core.StepNotFixed, c, nil},
		{"j", core.StepNotFixed, c, core.ErrNotFound},
		{"r", core.StepSupplement, open, nil},
		{"j", core.StepSupplement, open, core.ErrForbidden},
		{"x", core.StepWithdraw, open, core.ErrNotFound},
		{"r", core.StepWithdraw, c, core.ErrWrongState},
		{"x", core.StepJoin, open, nil},
		{"j", core.StepJoin, open, core.ErrNoChange},
		{"r", core.StepJoin, open, core.ErrNoChange},
		{"x", core.StepJoin, c, core.ErrWrongState},
		{"", core.StepJoin, open, nil}, // the ledger refuses an empty resident before asking
		{"r", core.StepAccept, open, core.ErrForbidden},
	}
	for _, tt := range tests {
		err := core.PermitResident(tt.who, tt.step, &tt.c)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%q %s on %s: %v, want %v", tt.who, tt.step, tt.c.State, err, tt.want)
		}
	}
}
