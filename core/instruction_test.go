package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gridbot/core"
)

// TestInstructions: only the town instructs, on a case not closed, with
// words; each instruction stays on the case in order and counts it as
// supervised in the figures.
func TestInstructions(t *testing.T) {
	ctx := context.Background()
	var now time.Time
	l := gridworkLedger(t, &now)
	c, err := l.Submit(ctx, "r", core.Draft{Category: "road", Text: "路灯坏了", Grid: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Assign(ctx, c.Number); err != nil {
		t.Fatal(err)
	}
	for staff, want := range map[string]error{"a": core.ErrForbidden, "v1": core.ErrForbidden, "cj": core.ErrNotFound, "off": core.ErrNotFound} {
		if _, _, err := l.Instruct(ctx, c.Number, staff, "抓紧办"); !errors.Is(err, want) {
			t.Errorf("%s instructs: %v, want %v", staff, err, want)
		}
	}
	for _, bad := range []string{"", "   ", strings.Repeat("批", core.MaxTextLen+1)} {
		if _, _, err := l.Instruct(ctx, c.Number, "town", bad); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("instruction of %d runes: %v", len([]rune(bad)), err)
		}
	}
	got, evs, err := l.Instruct(ctx, c.Number, "town", " 三天内修好 ")
	if err != nil || len(evs) != 1 || evs[0].Kind != core.EventInstructed || evs[0].Text != "三天内修好" {
		t.Fatalf("instructed: %+v %v", evs, err)
	}
	now = now.Add(time.Hour)
	got, _, err = l.Instruct(ctx, c.Number, "town", "镇里派人协助")
	if err != nil || len(got.Instructions) != 2 || got.Instructions[1].Text != "镇里派人协助" || got.Instructions[0].By != "town" || !got.Supervised() {
		t.Fatalf("kept: %+v %v", got.Instructions, err)
	}
	// Resolved is still open to an instruction; closed is not.
	if _, _, err := l.Resolve(ctx, c.Number, "a", "修好了"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Instruct(ctx, c.Number, "town", "请回访"); err != nil {
		t.Errorf("on a resolved case: %v", err)
	}
	if _, err := l.Rate(ctx, "r", 5); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Instruct(ctx, c.Number, "town", "再看看"); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("on a closed case: %v", err)
	}
	cases, _ := l.Store.Cases(ctx, core.CaseQuery{})
	rows := core.GridWork(l.Town.Town(), cases, nil, core.ByGrid, now)
	if tot := rows[len(rows)-1]; tot.Supervised != 1 {
		t.Errorf("figures %+v", tot)
	}
}
