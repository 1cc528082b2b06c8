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

// TestExtensionAndPause: the deadline moves only when a request is
// approved, by working days; a paused case is neither overdue nor warned,
// and resumes by hand or by itself at its date with the deadline moved by
// the time it stood still.
func TestExtensionAndPause(t *testing.T) {
	ctx := context.Background()
	town := policyTown(t)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Wednesday 2026-11-25 09:00; the category gives 24 hours.
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, town.Zone())
	l := &core.Ledger{Store: st, Town: town, Now: func() time.Time { return now }}
	c, err := l.Submit(ctx, "r", core.Draft{Category: "road", Text: "路灯坏了", Grid: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Assign(ctx, c.Number); err != nil {
		t.Fatal(err)
	}
	deadline := c.Deadline

	bad := []core.TermChange{
		{Kind: core.ChangeExtend, Days: 0, Reason: "x"},
		{Kind: core.ChangeExtend, Days: core.MaxExtensionDays + 1, Reason: "x"},
		{Kind: core.ChangeExtend, Days: 3},
		{Kind: core.ChangePause, Reason: "x", Until: now.Add(-time.Hour)},
		{Kind: "forever", Reason: "x"},
	}
	for _, ch := range bad {
		if _, _, err := l.AskChange(ctx, c.Number, "a", ch); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("%+v: %v, want invalid", ch, err)
		}
	}
	// Asked, the deadline stands; a refusal needs words, then leaves it.
	if _, _, err := l.AskChange(ctx, c.Number, "a", core.TermChange{Kind: core.ChangeExtend, Days: 3, Reason: "等配件"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.DecideChange(ctx, c.Number, "v1", false, ""); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("refused without a note: %v", err)
	}
	if _, _, err := l.DecideChange(ctx, c.Number, "a", true, ""); !errors.Is(err, core.ErrForbidden) {
		t.Errorf("the leader approves their own request: %v", err)
	}
	got, _, err := l.DecideChange(ctx, c.Number, "v1", true, "")
	if err != nil {
		t.Fatal(err)
	}
	// Three working days after Thursday 09:00 is Tuesday 09:00.
	if want := deadline.AddDate(0, 0, 5); !got.Deadline.Equal(want) || got.Extensions != 1 || got.Pending != nil {
		t.Errorf("extended to %s (%d, %+v), want %s", got.Deadline, got.Extensions, got.Pending, want)
	}
	deadline = got.Deadline

	// A village's own request goes to the town.
	if _, _, err := l.AskChange(ctx, c.Number, "v1", core.TermChange{Kind: core.ChangePause, Reason: "等判决",
		Until: now.Add(10 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.DecideChange(ctx, c.Number, "v1", true, ""); !errors.Is(err, core.ErrForbidden) {
		t.Errorf("a village approves its own pause: %v", err)
	}
	if got, _, err = l.DecideChange(ctx, c.Number, "town", true, "同意"); err != nil || !got.Paused {
		t.Fatalf("pause: %+v %v", got, err)
	}

	// Long past the deadline, the paused case is not overdue and not warned.
	now = deadline.Add(72 * time.Hour)
	if got.Overdue(now) {
		t.Error("a paused case is overdue")
	}
	if _, _, err := l.Supervise(ctx, c.Number); !errors.Is(err, core.ErrNoChange) {
		t.Errorf("supervising a paused case: %v", err)
	}
	// At its date it resumes by itself, the deadline moved by 10 days.
	now = time.Date(2026, 12, 5, 10, 0, 0, 0, town.Zone())
	got, evs, err := l.Supervise(ctx, c.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Paused || evs[0].Kind != core.EventResumed || !got.Deadline.Equal(deadline.Add(10*24*time.Hour)) {
		t.Errorf("resumed %v at %s, events %+v", got.Paused, got.Deadline, evs)
	}
	if _, _, err := l.Resume(ctx, c.Number, "a"); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("resume a running case: %v", err)
	}
}
