package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store"
)

// FillBoard writes what the board (督办看板) tells apart: a yellow case
// whistled to two departments, one of which returned it; a red case whose
// clock is stopped; an overdue case; a closed one. It returns the numbers
// of the cases not closed and of the closed one.
func FillBoard(t *testing.T, s store.Store, clock *Clock) (live []string, closed string) {
	t.Helper()
	ctx := context.Background()
	step := func(number string, change func(*core.Case)) {
		t.Helper()
		if _, _, err := s.UpdateCase(ctx, number, func(c *core.Case) ([]core.Event, error) {
			change(c)
			return []core.Event{{Kind: core.EventReplied, Actor: "gl1", At: clock.Now(), Text: "x"}}, nil
		}); err != nil {
			t.Fatalf("UpdateCase %s: %v", number, err)
		}
	}
	var numbers []string
	for i, grid := range []string{"g1", "g1", "g2", "g2"} {
		numbers = append(numbers, mustCreate(t, s, clock, "ob"+string(rune('a'+i)), grid).Number)
	}
	step(numbers[0], func(c *core.Case) {
		c.State, c.Warning = core.StateAssigned, core.WarningYellow
		c.Departments = []core.Assist{{Department: "cj", State: core.AssistReturned}, {Department: "zj", State: core.AssistCalled, Lead: true}}
	})
	step(numbers[1], func(c *core.Case) {
		c.State, c.Warning, c.Paused = core.StateInProgress, core.WarningRed, true
		c.Deadline = clock.Now().Add(-time.Hour)
	})
	step(numbers[2], func(c *core.Case) { c.Deadline = clock.Now().Add(-time.Hour) })
	step(numbers[3], func(c *core.Case) { c.State = core.StateClosed })
	return numbers[:3], numbers[3]
}

// CheckBoard checks that the board from the store's tally is the board
// from its cases, and that it shows what FillBoard wrote.
func CheckBoard(t *testing.T, s store.Store, clock *Clock) {
	t.Helper()
	ctx := context.Background()
	tally, err := s.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.Cases(ctx, core.CaseQuery{})
	if err != nil {
		t.Fatal(err)
	}
	town := &core.Town{}
	want := core.Board(town, cases, clock.Now())
	got := core.BoardOf(town, tally, core.FigureScope{}, clock.Now())
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("board of the tally\n%+v\nwant (of the cases)\n%+v", got, want)
	}
	var yellow, red, overdue, returned int
	for _, r := range got {
		yellow, red, overdue = yellow+r.Yellow, red+r.Red, overdue+r.Overdue
		if r.Kind == core.ByDepartment && r.Key == "cj" {
			returned++
		}
	}
	if yellow != 2 || red != 1 || overdue != 1 || returned != 0 {
		t.Errorf("board %+v: want the yellow case on its grid and zj, the red one paused, one overdue, nothing for cj", got)
	}
}

// testBoard: the marks every write keeps carry what the board reads, so
// the board from the tally is the board from the cases.
func testBoard(t *testing.T, s store.Store, clock *Clock) {
	FillBoard(t, s, clock)
	CheckBoard(t, s, clock)
}
