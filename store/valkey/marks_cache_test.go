package valkey

import (
	"testing"
	"time"

	"gridbot/core"
)

// A figures page expands a case's marks again only when its value changed
// since the page before, and keeps no case the last page did not read.
func TestMarksCacheExpandsOnlyChangedValues(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	value := func(state core.State) []byte {
		c := core.Case{Number: "ST202612030001", State: state, Grid: "g1", CreatedAt: at}
		raw, err := encodeCase(&c, &core.FigureMarks{Number: c.Number, Grid: "g1", State: state})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	cache := newMarksCache()
	first := cache.read()
	a, err := first.of("ST202612030001", value(core.StateAssigned))
	if err != nil || a.State != core.StateAssigned {
		t.Fatalf("%+v, %v", a, err)
	}
	first.of("ST202612030002", value(core.StateAssigned))
	first.done()

	second := cache.read()
	same, _ := second.of("ST202612030001", value(core.StateAssigned))
	if same != a {
		t.Error("an unchanged value was expanded again")
	}
	changed, err := second.of("ST202612030001", value(core.StateResolved))
	if err != nil || changed == a || changed.State != core.StateResolved {
		t.Errorf("a changed value read as %+v, %v", changed, err)
	}
	second.done()
	if _, kept := cache.last["ST202612030002"]; kept || len(cache.last) != 1 {
		t.Errorf("the cache kept %d cases, the one the last page skipped among them: %v", len(cache.last), kept)
	}
	if _, err := cache.read().of("ST202612030001", []byte{0x7f, 1, 2}); err == nil {
		t.Error("a value of no known tag read")
	}
}
