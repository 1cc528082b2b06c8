package core_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gridbot/core"
)

// One resident files at most Recent cases in Window and holds at most Open
// open cases; a refused filing writes nothing, a retry of a filed draft gets
// its case back, and another resident is not held back.
func TestSubmitLimit(t *testing.T) {
	ctx := context.Background()
	l, _, _ := residentLedger(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	l.Now = func() time.Time { return now }
	l.Limits = core.SubmitLimits{Recent: 3, Window: 10 * time.Minute, Open: 5, ExemptPrefixes: []string{"open311:"}}
	draft := func(i int) core.Draft {
		return core.Draft{Category: "env", Text: fmt.Sprintf("垃圾没人收 %d", i), Grid: "L10", Key: fmt.Sprint("k", i)}
	}
	for i := range 3 {
		if _, err := l.Submit(ctx, "oflood", draft(i)); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
	}
	if _, err := l.Submit(ctx, "oflood", draft(3)); !errors.Is(err, core.ErrTooMany) {
		t.Fatalf("a fourth case in 10 minutes: %v, want ErrTooMany", err)
	}
	if c, err := l.Submit(ctx, "oflood", draft(2)); err != nil || c.Text != "垃圾没人收 2" {
		t.Fatalf("a retry of the third filing: %+v %v, want its case back", c, err)
	}
	if _, err := l.Submit(ctx, "oneighbour", draft(0)); err != nil {
		t.Fatalf("another resident: %v", err)
	}
	for i := range 10 {
		if _, err := l.Submit(ctx, "open311:hotline", draft(100+i)); err != nil {
			t.Fatalf("an exempt channel's case %d: %v", i, err)
		}
	}
	cs, err := l.ResidentCases(ctx, "oflood")
	if err != nil || len(cs) != 3 {
		t.Fatalf("resident's cases %d %v, want 3", len(cs), err)
	}

	// Past the window two more may be filed; then five are open.
	now = now.Add(11 * time.Minute)
	for i := 4; i < 6; i++ {
		if _, err := l.Submit(ctx, "oflood", draft(i)); err != nil {
			t.Fatalf("case %d after the window: %v", i, err)
		}
	}
	now = now.Add(11 * time.Minute)
	if _, err := l.Submit(ctx, "oflood", draft(6)); !errors.Is(err, core.ErrTooMany) {
		t.Fatalf("a sixth open case: %v, want ErrTooMany", err)
	}
	// A settled case frees a place.
	s := l.Town.Town().StaffMember(l.Town.Town().Grid("L10").LeaderA)
	if _, _, err := l.Assign(ctx, cs[0].Number); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Resolve(ctx, cs[0].Number, s.ID, "已清理"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Submit(ctx, "oflood", draft(7)); err != nil {
		t.Fatalf("after one was resolved: %v", err)
	}
}

// The defaults hold without settings: six cases at once are five.
func TestSubmitLimitDefaults(t *testing.T) {
	ctx := context.Background()
	l, _, _ := residentLedger(t)
	var err error
	n := 0
	for ; n < 60 && err == nil; n++ {
		_, err = l.Submit(ctx, "oflood", core.Draft{Category: "env", Text: "刷单", Grid: "L10"})
	}
	if !errors.Is(err, core.ErrTooMany) || n != core.DefaultSubmitRecent+1 {
		t.Fatalf("refused at filing %d with %v, want ErrTooMany at %d", n, err, core.DefaultSubmitRecent+1)
	}
}

// BenchmarkSubmit files cases on the embedded store, each resident's third:
// with the filing limit read from the resident's index before each, and
// without (the resident exempt), to show what the limit costs.
func BenchmarkSubmit(b *testing.B) {
	for _, exempt := range []bool{false, true} {
		b.Run(map[bool]string{false: "limited", true: "exempt"}[exempt], func(b *testing.B) {
			ctx := context.Background()
			l, _, _ := residentLedger(b)
			if exempt {
				l.Limits.ExemptPrefixes = []string{"obench"}
			}
			n := 0
			for b.Loop() {
				n++
				resident := fmt.Sprint("obench", n/3) // three filings per resident
				if _, err := l.Submit(ctx, resident, core.Draft{Category: "env", Text: "垃圾没人收", Grid: "L10"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
