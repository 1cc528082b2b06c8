package core

import (
	"reflect"
	"testing"
	"time"
)

// The grid's own work read from what a store keeps of each callback
// waiting (CallbackWaiting) is the same as read from the whole marks, for
// every grouping and scope: the rule reads nothing the store drops.
func TestCallbackWaitingKeepsWhatTheFiguresRead(t *testing.T) {
	now := time.Date(2026, 5, 10, 9, 0, 0, 0, time.UTC)
	full := []FigureMarks{
		{Number: "A1", Month: "2026-04", Village: "v1", Grid: "g1", Category: "c1", Departments: []string{"d1", "d2"},
			State: StateClosed, CallbackDue: now.Add(-time.Hour), CallbacksDone: 2, Origin: OriginOfPatrol, Changed: now},
		{Number: "A2", Month: "2026-05", Village: "v2", Grid: "g2", State: StateResolved, CallbackDue: now.Add(-48 * time.Hour),
			Supervised: true, Closes: []string{"2026-05"}},
		{Number: "A3", Month: "2026-05", Village: "v1", Grid: "g1", Departments: []string{"d2"}, State: StateClosed,
			CallbackDue: now.Add(time.Hour)}, // not yet due
		{Number: "A4", Month: "2026-03", Village: "v1", Grid: "g3", State: StateClosed}, // none waiting
	}
	var kept []FigureMarks
	for i := range full {
		w, ok := full[i].CallbackWaiting()
		if ok != !full[i].CallbackDue.IsZero() {
			t.Fatalf("%s: waiting %v", full[i].Number, ok)
		}
		if ok {
			kept = append(kept, w)
		}
	}
	if len(kept) != 3 {
		t.Fatalf("kept %d", len(kept))
	}
	town := &Town{}
	scopes := []FigureScope{{}, {Village: "v1"}, {Grids: []string{"g1"}}, {Department: "d2"}, {Department: "d9"}}
	for _, sc := range scopes {
		for _, by := range []Grouping{ByGrid, ByVillage, ByDepartment, ByMonth} {
			fromFull := GridWorkOf(town, FigureTally{Callbacks: full}, sc, by, now)
			fromKept := GridWorkOf(town, FigureTally{Callbacks: kept}, sc, by, now)
			if !reflect.DeepEqual(fromFull, fromKept) {
				t.Errorf("scope %+v by %s:\n full %+v\n kept %+v", sc, by, fromFull, fromKept)
			}
		}
	}
	if rows := GridWorkOf(town, FigureTally{Callbacks: kept}, FigureScope{}, ByGrid, now); rows[len(rows)-1].CallbacksDue != 2 {
		t.Errorf("total %+v, want 2 callbacks due", rows[len(rows)-1])
	}
}
