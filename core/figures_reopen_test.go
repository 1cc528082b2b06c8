package core_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/store/embedded"
)

// A case the resident says is not fixed (没解决) is not resolved until it
// is resolved again, and the answer counts against satisfaction: the rates
// no longer read 100/100/100 (issue 12, "the figures flattered").
func TestRatesCountAReopenedCase(t *testing.T) {
	ctx := context.Background()
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{CasePrefix: town.CasePrefix})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := &core.Ledger{Store: st, Town: town}
	leader := town.Grid("L10").LeaderA
	work := func(resident, text string) string {
		t.Helper()
		c, err := l.Submit(ctx, resident, core.Draft{Category: "light", Text: text, Grid: "L10"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := l.Assign(ctx, c.Number); err != nil {
			t.Fatal(err)
		}
		if _, _, err := l.Accept(ctx, c.Number, leader); err != nil {
			t.Fatal(err)
		}
		if _, _, err := l.Resolve(ctx, c.Number, leader, "已修好"); err != nil {
			t.Fatal(err)
		}
		return c.Number
	}
	rates := func() core.RateRow {
		t.Helper()
		cases, err := st.Cases(ctx, core.CaseQuery{})
		if err != nil {
			t.Fatal(err)
		}
		events, err := st.EventsSince(ctx, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		rows := core.Rates(town, core.Rules{}, cases, events, core.ByGrid, time.Now())
		return rows[len(rows)-1]
	}
	type rates3 struct{ response, resolution, satisfaction string }
	read := func(r core.RateRow) rates3 {
		return rates3{r.ResponseRate(), r.ResolutionRate(), r.SatisfactionRate()}
	}

	work("ores-1", "路灯不亮")
	reopened := work("ores-2", "路灯一闪一闪")
	if _, err := l.Rate(ctx, "ores-1", 5); err != nil {
		t.Fatal(err)
	}
	if got, want := read(rates()), (rates3{"100.0%", "100.0%", "100.0%"}); got != want {
		t.Fatalf("before the reopening: %+v, want %+v", got, want)
	}
	if _, err := l.NotFixed(ctx, "ores-2"); err != nil {
		t.Fatal(err)
	}
	if got, want := read(rates()), (rates3{"100.0%", "50.0%", "50.0%"}); got != want {
		t.Errorf("after 没解决: %+v, want %+v", got, want)
	}
	// Resolved again and rated well: resolved now, and both answers count.
	if _, _, err := l.Accept(ctx, reopened, leader); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Resolve(ctx, reopened, leader, "换了灯管"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Rate(ctx, "ores-2", 5); err != nil {
		t.Fatal(err)
	}
	if got, want := read(rates()), (rates3{"100.0%", "100.0%", "66.7%"}); got != want {
		t.Errorf("resolved again and rated 5: %+v, want %+v", got, want)
	}
	// A low rating reopens too; it counts though a later rating replaces
	// the case's own.
	work("ores-3", "路灯倒了")
	if _, err := l.Rate(ctx, "ores-3", 1); err != nil {
		t.Fatal(err)
	}
	r := rates()
	if got, want := read(r), (rates3{"100.0%", "66.7%", "50.0%"}); got != want {
		t.Errorf("rated 1: %+v, want %+v (%+v)", got, want, r)
	}
}
