package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gridbot/core"
)

// TestCallbacks: a low rating, a 没解决 and an unrated close each make one
// callback task for the village; a good rating makes none; the village or
// the town records it (not the grid, not a department, not twice); a
// resident reached and not satisfied puts a settled case back to work; a
// late record is marked late.
func TestCallbacks(t *testing.T) {
	ctx := context.Background()
	var now time.Time
	l := gridworkLedger(t, &now)
	resolved := func(resident string) core.Case {
		t.Helper()
		c, err := l.Submit(ctx, resident, core.Draft{Category: "road", Text: "路灯坏了", Grid: "g1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := l.Assign(ctx, c.Number); err != nil {
			t.Fatal(err)
		}
		if c, _, err = l.Resolve(ctx, c.Number, "a", "已修好"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	kinds := func(number string) []core.EventKind {
		evs, _ := l.CaseEvents(ctx, number)
		var out []core.EventKind
		for _, e := range evs {
			out = append(out, e.Kind)
		}
		return out
	}
	last := func(number string) core.Event {
		evs, _ := l.CaseEvents(ctx, number)
		return evs[len(evs)-1]
	}

	// A rating of 5 makes no callback.
	good := resolved("r-good")
	if c, _ := l.Rate(ctx, "r-good", 5); c.Callback != nil {
		t.Errorf("a good rating made a callback: %+v", c.Callback)
	}
	if got := kinds(good.Number); got[len(got)-1] == core.EventCallbackDue {
		t.Errorf("events %v", got)
	}

	// A rating of 2 reopens it and makes one, due in three working days
	// (Wednesday → Monday).
	low := resolved("r-low")
	c, err := l.Rate(ctx, "r-low", 2)
	if err != nil {
		t.Fatal(err)
	}
	if c.Callback == nil || c.Callback.Reason != core.ReasonRating || !c.Callback.Due.Equal(time.Date(2026, 11, 30, 9, 0, 0, 0, now.Location())) {
		t.Fatalf("callback %+v", c.Callback)
	}
	if e := last(low.Number); e.Kind != core.EventCallbackDue || e.Data[core.DataReason] != core.ReasonRating {
		t.Errorf("last event %+v", e)
	}

	// Who may record it, and what bad input does.
	for staff, want := range map[string]error{"a": core.ErrForbidden, "cj": core.ErrNotFound, "v2": core.ErrNotFound} {
		if _, _, err := l.RecordCallback(ctx, low.Number, staff, core.CallbackAnswer{Reached: true, Satisfied: true}); !errors.Is(err, want) {
			t.Errorf("%s records a callback: %v, want %v", staff, err, want)
		}
	}
	if _, _, err := l.RecordCallback(ctx, low.Number, "v1", core.CallbackAnswer{Reached: false}); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("not reached without a note: %v", err)
	}
	// Reached and not satisfied on a case already back at work: recorded,
	// nothing reopened again.
	c, evs, err := l.RecordCallback(ctx, low.Number, "v1", core.CallbackAnswer{Reached: true, Note: "居民说灯还是不亮"})
	if err != nil || c.Callback != nil || len(evs) != 1 || evs[0].Data[core.DataSatisfied] != "false" || evs[0].Data[core.DataOnTime] != "true" {
		t.Fatalf("recorded: %+v %+v %v", c.Callback, evs, err)
	}
	if _, _, err := l.RecordCallback(ctx, low.Number, "v1", core.CallbackAnswer{Reached: true, Satisfied: true}); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("recorded twice: %v", err)
	}

	// 没解决 makes one too.
	nf := resolved("r-nf")
	if c, err := l.NotFixed(ctx, "r-nf"); err != nil || c.Callback == nil || c.Callback.Reason != core.ReasonNotDone {
		t.Errorf("not fixed: %+v %v", c.Callback, err)
	}
	_ = nf

	// Left unrated, the sweep closes it with a callback; recorded late,
	// reached and not satisfied, it goes back to work.
	quiet := resolved("r-quiet")
	now = now.Add(73 * time.Hour)
	c, _, err = l.Supervise(ctx, quiet.Number)
	if err != nil || c.State != core.StateClosed || c.Callback == nil || c.Callback.Reason != core.ReasonUnrated {
		t.Fatalf("unrated close: %s %+v %v", c.State, c.Callback, err)
	}
	now = now.Add(7 * 24 * time.Hour)
	c, evs, err = l.RecordCallback(ctx, quiet.Number, "town", core.CallbackAnswer{Reached: true, Note: "灯又坏了"})
	if err != nil || c.State != core.StateReopened || len(evs) != 2 || evs[0].Data[core.DataOnTime] != "false" ||
		evs[1].Kind != core.EventReopened || evs[1].Data[core.DataReason] != core.ReasonCallback || c.Callback != nil {
		t.Fatalf("late callback: %s %+v %+v %v", c.State, evs, c.Callback, err)
	}
	// Not reached: recorded with the note, the case left as it is.
	quiet2 := resolved("r-quiet2")
	now = now.Add(73 * time.Hour)
	if _, _, err := l.Supervise(ctx, quiet2.Number); err != nil {
		t.Fatal(err)
	}
	c, evs, err = l.RecordCallback(ctx, quiet2.Number, "v1", core.CallbackAnswer{Reached: false, Satisfied: true, Note: "电话无人接听"})
	if err != nil || c.State != core.StateClosed || evs[0].Data[core.DataReached] != "false" || evs[0].Data[core.DataSatisfied] != "" {
		t.Fatalf("not reached: %s %+v %v", c.State, evs, err)
	}
	// The figures: four callbacks due (one still waiting past its date),
	// two recorded in time.
	cases, _ := l.Store.Cases(ctx, core.CaseQuery{})
	events, _ := l.Store.EventsSince(ctx, 0, 1000)
	rows := core.GridWork(l.Town.Town(), cases, events, core.ByGrid, now)
	if tot := rows[len(rows)-1]; tot.Key != "total" || tot.CallbacksDue != 4 || tot.CallbacksOnTime != 2 || tot.CallbackRate() != "50.0%" {
		t.Errorf("figures %+v", tot)
	}
	// Offered exactly while due, to the village and the town.
	town := l.Town.Town()
	c, _ = l.Case(ctx, nf.Number)
	for staff, want := range map[string]bool{"v1": true, "town": true, "a": false} {
		if got := containsStep(town.Steps(town.StaffMember(staff), &c), core.StepCallback); got != want {
			t.Errorf("%s offered 回访: %v", staff, got)
		}
	}
}
