package routing

import (
	"strings"
	"testing"
	"time"

	"gridbot/configs"
	"gridbot/core"
)

// TestPatrolNotices: a patrol report goes to whoever handles its grid as
// found by the grid, naming the finder, and never to a resident — there is
// none; one who joined it still hears its progress.
func TestPatrolNotices(t *testing.T) {
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	c := core.Case{Number: "ST0001", Category: "light", Grid: "L10", Village: "v10", Origin: core.OriginPatrol,
		Finder: "gl-L10-a", Assignee: "gl-L10-a", Post: core.PostA}
	finder := town.StaffMember("gl-L10-a").Name
	outs := noticesFor(town, core.Event{Kind: core.EventAssigned, Actor: core.ActorSystem,
		Data: map[string]string{core.DataPost: "A"}}, &c)
	if len(outs) != 1 || outs[0].to != "gl-L10-a" || !strings.Contains(outs[0].notice.Title, "主动发现") ||
		!strings.Contains(outs[0].notice.Title, finder) {
		t.Errorf("assigned: %+v", outs)
	}
	for _, kind := range []core.EventKind{core.EventAccepted, core.EventReplied, core.EventResolved, core.EventExtended} {
		for _, o := range noticesFor(town, core.Event{Kind: kind, Actor: "gl-L10-a", Text: "x",
			Data: map[string]string{core.DataAskedBy: "gl-L10-a"}}, &c) {
			if o.to == core.ActorResident || o.notice.To == "" && !strings.HasPrefix(o.to, "gl-") && town.StaffMember(o.to) == nil {
				t.Errorf("%s: a push to %q (%q)", kind, o.to, o.notice.To)
			}
		}
	}
	c.Joined = []string{"oneighbour"}
	outs = noticesFor(town, core.Event{Kind: core.EventAccepted, Actor: "gl-L10-a"}, &c)
	if len(outs) != 1 || outs[0].to != core.ActorJoinedPrefix+"oneighbour" {
		t.Errorf("accepted with a neighbour joined: %+v", outs)
	}
}

// TestCallbackNotices: a callback task goes to the case's village staff,
// with its reason, date and how to answer; never to the resident.
func TestCallbackNotices(t *testing.T) {
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	c := core.Case{Number: "ST0001", Category: "light", Grid: "L10", Village: "v10", Resident: "oresident", Assignee: "gl-L10-a"}
	outs := noticesFor(town, core.Event{Kind: core.EventCallbackDue, Actor: core.ActorSystem,
		Data: map[string]string{core.DataReason: core.ReasonRating, core.DataDue: "2026-11-30T09:00:00+08:00"}}, &c)
	if len(outs) == 0 {
		t.Fatal("nobody told of the callback")
	}
	for _, o := range outs {
		s := town.StaffMember(o.to)
		if s == nil || s.Role != core.RoleVillage || s.Village != "v10" {
			t.Errorf("callback pushed to %q", o.to)
		}
		if !strings.Contains(o.notice.Title, "居民评价不满意") || !strings.Contains(o.notice.Text, "11月30日 09:00") ||
			!strings.Contains(o.notice.Text, "回访 ST0001 已联系 满意") {
			t.Errorf("notice %+v", o.notice)
		}
	}
}

// TestInstructionNotices: a leader's instruction reaches the assignee and
// the departments still working the case, with the leader's words; never
// the resident or a department that returned it.
func TestInstructionNotices(t *testing.T) {
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	var depts []string
	for _, d := range town.Departments[:2] {
		depts = append(depts, d.ID)
	}
	c := core.Case{Number: "ST0001", Category: "light", Grid: "L10", Village: "v10", Resident: "oresident", Assignee: "gl-L10-a",
		Departments: []core.Assist{{Department: depts[0], State: core.AssistSigned, Lead: true}, {Department: depts[1], State: core.AssistReturned}}}
	outs := noticesFor(town, core.Event{Kind: core.EventInstructed, Actor: "town-admin", Text: "三天内必须修好"}, &c)
	got := map[string]bool{}
	for _, o := range outs {
		got[o.to] = true
		if !strings.Contains(o.notice.Text, "三天内必须修好") || !strings.Contains(o.notice.Title, "督办批示") {
			t.Errorf("notice %+v", o.notice)
		}
		if s := town.StaffMember(o.to); s == nil || (s.Role == core.RoleDepartment && s.Department != depts[0]) {
			t.Errorf("pushed to %q", o.to)
		}
	}
	if !got["gl-L10-a"] || got[core.ActorResident] || len(got) < 2 {
		t.Errorf("recipients %v", got)
	}
}

// TestMeetingNotices: the town hears a case tabled; the linked leader and
// the handlers hear the decision with its milestones; a milestone's
// warning reaches the handlers, its lateness the leader and the town too.
func TestMeetingNotices(t *testing.T) {
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	leader := "v10-cadre"
	c := core.Case{Number: "ST0001", Category: "light", Grid: "L10", Village: "v10", Resident: "oresident", Assignee: "gl-L10-a",
		Meeting: &core.Meeting{Reason: "缺资金", Decided: true, Leader: leader, Help: "镇里拨款",
			Milestones: []core.Milestone{{Text: "出方案", Due: time.Date(2026, 12, 5, 17, 0, 0, 0, town.Zone())}}}}
	to := func(ev core.Event) map[string]string {
		got := map[string]string{}
		for _, o := range noticesFor(town, ev, &c) {
			got[o.to] = o.notice.Title + "|" + o.notice.Text
		}
		return got
	}
	if got := to(core.Event{Kind: core.EventTabled, Text: "缺资金"}); len(got) == 0 || got["town-admin"] == "" || got[core.ActorResident] != "" {
		t.Errorf("tabled: %v", got)
	}
	got := to(core.Event{Kind: core.EventConvened, Data: map[string]string{core.DataLeader: leader}})
	if !strings.Contains(got[leader], "挂钩领导") || !strings.Contains(got["gl-L10-a"], "节点1：出方案（12月05日 17:00）") {
		t.Errorf("convened: %v", got)
	}
	due := map[string]string{core.DataMilestone: "0", core.DataDue: "2026-12-05T17:00:00+08:00"}
	if got := to(core.Event{Kind: core.EventMilestoneWarned, Text: "出方案", Data: due}); got["gl-L10-a"] == "" || got[leader] != "" {
		t.Errorf("warned: %v", got)
	}
	if got := to(core.Event{Kind: core.EventMilestoneOverdue, Text: "出方案", Data: due}); got["gl-L10-a"] == "" || got[leader] == "" || got["town-admin"] == "" {
		t.Errorf("overdue: %v", got)
	}
}
