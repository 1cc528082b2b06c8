package tallycache

import (
	"testing"

	"gridbot/core"
)

func TestCache(t *testing.T) {
	var c Cache[int]
	if _, ok := c.Get(0); ok {
		t.Fatal("the zero cache holds a tally")
	}
	cell := core.FigureCell{Month: "2026-11", Grid: "g1"}
	kept := core.FigureTally{Cells: map[core.FigureCell]core.FigureCounts{cell: {1}},
		Live: []core.FigureMarks{{Number: "A"}}}
	got := c.Put(7, kept)
	got.Cells[cell] = core.FigureCounts{9}
	got.Live[0].Number = "B"
	got.Live = append(got.Live, core.FigureMarks{Number: "C"})
	for _, tt := range []struct {
		version int
		want    bool
	}{{7, true}, {8, false}, {6, false}} {
		again, ok := c.Get(tt.version)
		if ok != tt.want {
			t.Errorf("Get(%d) kept = %v, want %v", tt.version, ok, tt.want)
		}
		if ok && (again.Cells[cell] != core.FigureCounts{1} || len(again.Live) != 1 || again.Live[0].Number != "A") {
			t.Errorf("Get(%d) = %+v: a reader's changes reached the kept tally", tt.version, again)
		}
	}
}
