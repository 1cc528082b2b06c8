package ledgerfill_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/ledgerfill"
	"gridbot/store/embedded"
)

// A fill over Months (the demo's first month) dates every case within
// those months; neither years nor months is refused.
func TestFillOverMonths(t *testing.T) {
	town := sampleTown(t)
	st := openStore(t, town, embedded.Options{})
	ctx := context.Background()
	l := &core.Ledger{Store: st, Town: town}
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, town.Zone())
	if _, err := ledgerfill.Fill(ctx, l, ledgerfill.Options{Cases: 10, End: end}); err == nil {
		t.Error("a fill over no time")
	}
	if _, err := ledgerfill.Fill(ctx, l, ledgerfill.Options{Cases: 60, Months: 1, End: end, Seed: 3, Workers: 4}); err != nil {
		t.Fatal(err)
	}
	cases, err := st.Cases(ctx, core.CaseQuery{})
	if err != nil || len(cases) != 60 {
		t.Fatalf("%d cases, %v", len(cases), err)
	}
	for _, c := range cases {
		if c.CreatedAt.Before(end.AddDate(0, -1, 0)) || c.CreatedAt.After(end) {
			t.Errorf("%s filed %s, outside the month", c.Number, c.CreatedAt)
		}
	}
	// The sweeps due by the end are in the history: a service starting on
	// the fill at its end has nothing to hand over, warn or escalate, and
	// so pushes nobody notices about the past.
	atEnd := &core.Ledger{Store: st, Town: town, Now: func() time.Time { return end }}
	for _, c := range cases {
		if c.State == core.StateSubmitted {
			t.Errorf("%s left submitted: the sweep would route it at start", c.Number)
		}
		if _, _, err := atEnd.Supervise(ctx, c.Number); !errors.Is(err, core.ErrNoChange) {
			t.Errorf("%s (%s) still due for the sweep at the end: %v", c.Number, c.State, err)
		}
	}
}
