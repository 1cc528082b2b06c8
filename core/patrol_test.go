package core_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store/embedded"
)

// gridworkLedger is a ledger over a fresh embedded store and policyTown, its
// clock at now.
func gridworkLedger(t *testing.T, now *time.Time) *core.Ledger {
	t.Helper()
	town := policyTown(t)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if now.IsZero() {
		*now = time.Date(2026, 11, 25, 9, 0, 0, 0, town.Zone())
	}
	return &core.Ledger{Store: st, Town: town, Now: func() time.Time { return *now }}
}

// TestPatrolPolicy: who may report on which grid, each refusal in words.
func TestPatrolPolicy(t *testing.T) {
	town := policyTown(t)
	for _, tc := range []struct {
		staff, grid string
		want        error
	}{
		{"a", "g1", nil},                 // post A of g1
		{"b", "g1", nil},                 // post B of g1
		{"a", "g2", core.ErrForbidden},   // not a leader of g2
		{"v1", "g1", nil},                // g1 is in v1
		{"v1", "g2", core.ErrForbidden},  // g2 is in v2
		{"town", "g2", nil},              // anywhere
		{"cj", "g1", core.ErrForbidden},  // departments report through the grid
		{"off", "g1", core.ErrForbidden}, // disabled
		{"ghost", "g1", core.ErrForbidden},
		{"a", "nowhere", core.ErrInvalid},
	} {
		err := town.PermitPatrol(town.StaffMember(tc.staff), town.Grid(tc.grid))
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s on %s: %v", tc.staff, tc.grid, err)
			}
			continue
		}
		reason, ok := core.RefusalReason(err)
		if !errors.Is(err, tc.want) || !ok || reason == "" {
			t.Errorf("%s on %s: %v (%q), want %v with a reason", tc.staff, tc.grid, err, reason, tc.want)
		}
	}
}

// TestPatrolReport: a report is filed on the grid, marked found by the grid
// with its finder, routed like a resident's, has no resident, files once
// per key, and closes when resolved.
func TestPatrolReport(t *testing.T) {
	ctx := context.Background()
	var now time.Time
	l := gridworkLedger(t, &now)
	d := core.Draft{Category: "road", Text: " 村口井盖缺失 ", Grid: "g1", Key: "msg-1",
		Photos:   []core.Media{{MediaID: "m1"}},
		Location: &core.Location{Point: core.Point{Lat: 22.3, Lng: 112.5}, Label: "村口"}}
	c, err := l.Patrol(ctx, "a", d)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Found() || c.Finder != "a" || c.Resident != "" || c.Text != "村口井盖缺失" || c.Village != "v1" || c.State != core.StateSubmitted {
		t.Fatalf("filed %+v", c)
	}
	again, err := l.Patrol(ctx, "a", d)
	if err != nil || again.Number != c.Number {
		t.Errorf("the same report again filed %s (%v), want %s", again.Number, err, c.Number)
	}
	// Another finder's key is another report.
	other, err := l.Patrol(ctx, "b", d)
	if err != nil || other.Number == c.Number {
		t.Errorf("b's report with a's key: %s %v", other.Number, err)
	}
	evs, err := l.CaseEvents(ctx, c.Number)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %v %v", evs, err)
	}
	if e := evs[0]; e.Kind != core.EventSubmitted || e.Actor != "a" || e.Data[core.DataOrigin] != core.OriginPatrol ||
		core.EventLabel(e) != "网格主动发现上报" {
		t.Errorf("submitted event %+v (%s)", e, core.EventLabel(e))
	}

	// Bad input changes nothing.
	for name, bad := range map[string]core.Draft{
		"no text":      {Category: "road", Text: "  ", Grid: "g1"},
		"no category":  {Category: "nope", Text: "x", Grid: "g1"},
		"long key":     {Category: "road", Text: "x", Grid: "g1", Key: string(make([]byte, 65))},
		"ten photos":   {Category: "road", Text: "x", Grid: "g1", Photos: make([]core.Media, 10)},
		"someone else": {Category: "road", Text: "x", Grid: "g2"},
	} {
		if _, err := l.Patrol(ctx, "a", bad); err == nil {
			t.Errorf("%s: filed", name)
		}
	}
	if cs, _ := l.Store.Cases(ctx, core.CaseQuery{}); len(cs) != 2 {
		t.Errorf("%d cases after the refusals, want 2", len(cs))
	}

	// Assigned and worked like any case; resolving closes it.
	if _, _, err := l.Assign(ctx, c.Number); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Accept(ctx, c.Number, "a"); err != nil {
		t.Fatal(err)
	}
	got, evs, err := l.Resolve(ctx, c.Number, "a", "已补装井盖")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != core.StateClosed || len(evs) != 2 || evs[1].Kind != core.EventClosed || evs[1].Data[core.DataReason] != core.ReasonFound {
		t.Errorf("resolved report: %s %+v", got.State, evs)
	}
	// No resident may rate it or call it not fixed.
	for _, step := range []core.Step{core.StepRate, core.StepNotFixed, core.StepSupplement} {
		if err := core.PermitResident("", step, &got); err == nil {
			t.Errorf("the empty resident may %s a patrol report", step)
		}
	}
}
