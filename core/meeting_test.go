package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gridbot/core"
)

// TestMeeting: a hard case goes on the meeting list once, with a reason;
// only the town decides, naming a linked leader who then sees the case,
// help and dated milestones; each milestone is warned a day before and
// reported once past its date by the sweep, however often it runs; handlers
// mark them reached in order.
func TestMeeting(t *testing.T) {
	ctx := context.Background()
	var now time.Time
	l := gridworkLedger(t, &now)
	town := l.Town.Town()
	c, err := l.Submit(ctx, "r", core.Draft{Category: "road", Text: "桥面塌陷需要大修", Grid: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Assign(ctx, c.Number); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Table(ctx, c.Number, "a", " "); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("tabled without a reason: %v", err)
	}
	if _, _, err := l.Table(ctx, c.Number, "v2", "难办"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("another village tables it: %v", err)
	}
	got, evs, err := l.Table(ctx, c.Number, "a", "涉及资金，网格无法解决")
	if err != nil || !got.OnAgenda() || evs[0].Kind != core.EventTabled {
		t.Fatalf("tabled: %+v %v", got.Meeting, err)
	}
	if _, _, err := l.Table(ctx, c.Number, "v1", "再提"); !errors.Is(err, core.ErrNoChange) {
		t.Errorf("tabled twice: %v", err)
	}
	// v2 (another village) cannot see it yet; the meeting makes them its
	// linked leader.
	v2 := town.StaffMember("v2")
	if town.CanSee(v2, &got) {
		t.Fatal("v2 sees g1's case before the meeting")
	}
	day := 24 * time.Hour
	d := core.Decision{Leader: "v2", Help: "镇里协调资金，城建办出方案",
		Milestones: []core.Milestone{{Text: "出方案", Due: now.Add(3 * day)}, {Text: "完工", Due: now.Add(10 * day)}}}
	if _, _, err := l.Convene(ctx, c.Number, "v1", d); !errors.Is(err, core.ErrForbidden) {
		t.Errorf("a village decides: %v", err)
	}
	for name, bad := range map[string]core.Decision{
		"no leader":      {Leader: "ghost", Help: "x", Milestones: d.Milestones},
		"disabled":       {Leader: "off", Help: "x", Milestones: d.Milestones},
		"no help":        {Leader: "v2", Milestones: d.Milestones},
		"no milestone":   {Leader: "v2", Help: "x"},
		"past milestone": {Leader: "v2", Help: "x", Milestones: []core.Milestone{{Text: "x", Due: now.Add(-time.Hour)}}},
		"empty words":    {Leader: "v2", Help: "x", Milestones: []core.Milestone{{Text: " ", Due: now.Add(day)}}},
	} {
		if _, _, err := l.Convene(ctx, c.Number, "town", bad); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := l.ReachMilestone(ctx, c.Number, "a", ""); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("a milestone before the decision: %v", err)
	}
	got, _, err = l.Convene(ctx, c.Number, "town", d)
	if err != nil || got.OnAgenda() || got.Meeting.Leader != "v2" || len(got.Meeting.Milestones) != 2 {
		t.Fatalf("decided: %+v %v", got.Meeting, err)
	}
	if !town.CanSee(v2, &got) {
		t.Error("the linked leader does not see the case")
	}
	if _, _, err := l.Convene(ctx, c.Number, "town", d); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("decided twice: %v", err)
	}

	// The sweep: nothing yet; a day before the first, a warning; past it,
	// overdue, once.
	kinds := func(evs []core.Event) (out []core.EventKind) {
		for _, e := range evs {
			if e.Kind == core.EventMilestoneWarned || e.Kind == core.EventMilestoneOverdue {
				out = append(out, e.Kind)
			}
		}
		return out
	}
	sweep := func() []core.EventKind {
		_, evs, err := l.Supervise(ctx, c.Number)
		if err != nil && !errors.Is(err, core.ErrNoChange) {
			t.Fatal(err)
		}
		return kinds(evs)
	}
	start := now
	now = start.Add(day)
	if got := sweep(); len(got) != 0 {
		t.Errorf("day 1: %v", got)
	}
	now = start.Add(2*day + time.Hour)
	if got := sweep(); len(got) != 1 || got[0] != core.EventMilestoneWarned {
		t.Errorf("a day before: %v", got)
	}
	if got := sweep(); len(got) != 0 {
		t.Errorf("warned twice: %v", got)
	}
	now = start.Add(3*day + time.Hour)
	if got := sweep(); len(got) != 1 || got[0] != core.EventMilestoneOverdue {
		t.Errorf("past the date: %v", got)
	}
	if got := sweep(); len(got) != 0 {
		t.Errorf("reported twice: %v", got)
	}
	// Reached late, then the second in time; then nothing is left.
	for _, who := range []string{"v2", "a"} {
		_, evs, err := l.ReachMilestone(ctx, c.Number, who, "已完成")
		if err != nil || evs[0].Kind != core.EventMilestoneDone {
			t.Fatalf("%s reaches a milestone: %+v %v", who, evs, err)
		}
	}
	if _, _, err := l.ReachMilestone(ctx, c.Number, "a", ""); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("a third milestone: %v", err)
	}
	if _, _, err := l.ReachMilestone(ctx, c.Number, "cj", ""); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("a department not called: %v", err)
	}
}
