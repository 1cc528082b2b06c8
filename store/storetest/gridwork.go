package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store"
)

// testGridWork: the grid's own work — a case found by the grid, one under
// instruction, a dispute settled, callbacks recorded in time and late, one
// waiting on a closed case — is counted in the write of each event, and
// the cases with a callback waiting are known (closed or not) until it is
// recorded; GridWorkOf over the store's tally says what GridWork says over
// the whole history.
func testGridWork(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	var rule core.FigureRule
	var want core.FigureTally
	marks := map[string]*core.FigureMarks{}
	var all []core.Event
	mirror := func(c core.Case, evs []core.Event) {
		m, d := rule.Mark(marks[c.Number], &c, evs)
		marks[c.Number] = &m
		want.Add(d)
		all = append(all, evs...)
	}
	step := func(number string, change func(*core.Case) []core.Event) {
		t.Helper()
		c, evs, err := s.UpdateCase(ctx, number, func(c *core.Case) ([]core.Event, error) { return change(c), nil })
		if err != nil {
			t.Fatalf("UpdateCase %s: %v", number, err)
		}
		mirror(c, evs)
	}
	ev := func(kind core.EventKind, actor string, data map[string]string) core.Event {
		return core.Event{Kind: kind, Actor: actor, At: clock.Now(), Data: data}
	}
	var numbers []string
	for i, grid := range []string{"g1", "g1", "g2", "g2"} {
		c, first := newCase(clock, fmt.Sprintf("o%d", i), grid)
		if i == 0 {
			c.Origin, c.Finder, c.Resident = core.OriginPatrol, "gl1", ""
		}
		got, gotEv, err := s.CreateCase(ctx, c, first)
		if err != nil {
			t.Fatal(err)
		}
		mirror(got, []core.Event{gotEv})
		numbers = append(numbers, got.Number)
	}
	callbackDue := func(n string, due time.Time) {
		step(n, func(c *core.Case) []core.Event {
			c.State = core.StateClosed
			c.Callback = &core.Callback{Reason: core.ReasonUnrated, Due: due, At: clock.Now()}
			return []core.Event{ev(core.EventClosed, core.ActorSystem, nil),
				ev(core.EventCallbackDue, core.ActorSystem, map[string]string{core.DataDue: due.Format(time.RFC3339)})}
		})
	}
	calledBack := func(n string) {
		step(n, func(c *core.Case) []core.Event {
			due := c.Callback.Due
			c.Callback = nil
			return []core.Event{ev(core.EventCalledBack, "c1", map[string]string{core.DataReached: "true",
				core.DataDue: due.Format(time.RFC3339), core.DataOnTime: strconv.FormatBool(!clock.Now().After(due))})}
		})
	}
	step(numbers[1], func(c *core.Case) []core.Event {
		c.Instructions = []core.Instruction{{By: "t1", Text: "抓紧", At: clock.Now()}}
		return []core.Event{ev(core.EventInstructed, "t1", nil)}
	})
	step(numbers[2], func(c *core.Case) []core.Event {
		c.Mediation = &core.Mediation{Parties: "甲、乙", Result: core.MediationSettled, ResultAt: clock.Now()}
		return []core.Event{ev(core.EventMediationEnded, "c1", map[string]string{core.DataResult: core.MediationSettled})}
	})
	callbackDue(numbers[1], clock.Now().Add(72*time.Hour))
	callbackDue(numbers[2], clock.Now().Add(72*time.Hour))
	callbackDue(numbers[3], clock.Now().Add(24*time.Hour))
	clock.Advance(time.Hour)
	calledBack(numbers[1]) // in time
	clock.Advance(96 * time.Hour)
	calledBack(numbers[2]) // late
	// numbers[3]'s is waiting, past its date.

	got, err := s.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for cell, w := range want.Cells {
		if got.Cells[cell] != w {
			t.Errorf("cell %+v = %v, want %v", cell, got.Cells[cell], w)
		}
	}
	if len(got.Cells) != len(want.Cells) {
		t.Errorf("%d cells, want %d", len(got.Cells), len(want.Cells))
	}
	if len(got.Callbacks) != 1 || got.Callbacks[0].Number != numbers[3] {
		t.Fatalf("callbacks waiting %+v, want %s's only", got.Callbacks, numbers[3])
	}
	var cases []core.Case
	for _, n := range numbers {
		c, err := s.Case(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	town := &core.Town{}
	for _, by := range []core.Grouping{core.ByGrid, core.ByVillage, core.ByDepartment, core.ByMonth} {
		fromTally := core.GridWorkOf(town, got, core.FigureScope{}, by, clock.Now())
		fromHistory := core.GridWork(town, cases, all, by, clock.Now())
		if !reflect.DeepEqual(fromTally, fromHistory) {
			t.Errorf("by %s:\n tally   %+v\n history %+v", by, fromTally, fromHistory)
		}
	}
	total := core.GridWorkOf(town, got, core.FigureScope{}, core.ByGrid, clock.Now())
	if tot := total[len(total)-1]; tot.Cases != 4 || tot.Found != 1 || tot.Supervised != 1 || tot.Mediated != 1 || tot.Settled != 1 ||
		tot.CallbacksDue != 3 || tot.CallbacksOnTime != 1 {
		t.Errorf("total %+v", tot)
	}
	calledBack(numbers[3])
	if got, err := s.Figures(ctx); err != nil || len(got.Callbacks) != 0 {
		t.Errorf("callbacks waiting after the last was recorded: %+v %v", got.Callbacks, err)
	}
}

// FillGridWork writes the grid's own work a store's migration tests
// count: a case found by the grid, one under instruction whose callback
// was recorded in time, a dispute settled, and a closed case whose
// callback waits past its date. It returns their numbers.
func FillGridWork(t *testing.T, s store.Store, clock *Clock) []string {
	t.Helper()
	ctx := context.Background()
	ev := func(kind core.EventKind, actor string, data map[string]string) core.Event {
		return core.Event{Kind: kind, Actor: actor, At: clock.Now(), Data: data}
	}
	step := func(number string, change func(*core.Case) []core.Event) {
		t.Helper()
		if _, _, err := s.UpdateCase(ctx, number, func(c *core.Case) ([]core.Event, error) { return change(c), nil }); err != nil {
			t.Fatalf("UpdateCase %s: %v", number, err)
		}
	}
	var numbers []string
	for i, grid := range []string{"g1", "g1", "g2", "g2"} {
		c, first := newCase(clock, fmt.Sprintf("o%d", i), grid)
		if i == 0 {
			c.Origin, c.Finder, c.Resident = core.OriginPatrol, "gl1", ""
		}
		got, _, err := s.CreateCase(ctx, c, first)
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, got.Number)
	}
	step(numbers[1], func(c *core.Case) []core.Event {
		c.Instructions = []core.Instruction{{By: "t1", Text: "抓紧", At: clock.Now()}}
		return []core.Event{ev(core.EventInstructed, "t1", nil)}
	})
	step(numbers[2], func(c *core.Case) []core.Event {
		c.Mediation = &core.Mediation{Parties: "甲、乙", Result: core.MediationSettled, ResultAt: clock.Now()}
		return []core.Event{ev(core.EventMediationEnded, "c1", map[string]string{core.DataResult: core.MediationSettled})}
	})
	for _, n := range []string{numbers[1], numbers[3]} {
		due := clock.Now().Add(24 * time.Hour)
		step(n, func(c *core.Case) []core.Event {
			c.State = core.StateClosed
			c.Callback = &core.Callback{Reason: core.ReasonUnrated, Due: due, At: clock.Now()}
			return []core.Event{ev(core.EventClosed, core.ActorSystem, nil),
				ev(core.EventCallbackDue, core.ActorSystem, map[string]string{core.DataDue: due.Format(time.RFC3339)})}
		})
	}
	step(numbers[1], func(c *core.Case) []core.Event {
		c.Callback = nil
		return []core.Event{ev(core.EventCalledBack, "c1", map[string]string{core.DataReached: "true", core.DataOnTime: "true"})}
	})
	clock.Advance(48 * time.Hour)
	return numbers
}
