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
	c.Put(7, core.FigureTally{Live: []core.FigureMarks{{Number: "A"}}})
	for _, tt := range []struct {
		version int
		want    bool
	}{{7, true}, {8, false}, {6, false}} {
		got, ok := c.Get(tt.version)
		if ok != tt.want || ok && (len(got.Live) != 1 || got.Live[0].Number != "A") {
			t.Errorf("Get(%d) = %+v, %v; want kept %v", tt.version, got, ok, tt.want)
		}
	}
	c.Put(8, core.FigureTally{})
	if _, ok := c.Get(7); ok {
		t.Error("the tally of version 7 is still kept after version 8's")
	}
}
