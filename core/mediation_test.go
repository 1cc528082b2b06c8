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

// TestMediation: a dispute records its parties, sessions and result; other
// categories, departments and other villages are refused; the result is
// kept once and counted in the mediation rate.
func TestMediation(t *testing.T) {
	ctx := context.Background()
	base := policyTown(t)
	tw := *base
	tw.Categories = append([]core.Category{{Code: "dispute", Name: "矛盾纠纷", DeadlineHours: 72}}, base.Categories...)
	town, err := core.NewTown(tw)
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, town.Zone())
	l := &core.Ledger{Store: st, Town: town, Now: func() time.Time { return now }}
	file := func(cat string) string {
		c, err := l.Submit(ctx, "r-"+cat, core.Draft{Category: cat, Text: "邻居漏水吵架", Grid: "g1"})
		if err != nil {
			t.Fatal(err)
		}
		return c.Number
	}
	d, road := file("dispute"), file("road")
	if _, _, err := l.Mediate(ctx, road, "a", "张三、李四", "网格员甲", "已调解"); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("a road case mediated: %v", err)
	}
	if _, _, err := l.EndMediation(ctx, d, "a", core.MediationSettled, ""); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("a result before any session: %v", err)
	}
	if _, _, err := l.Mediate(ctx, d, "a", "", "网格员甲", "双方各退一步"); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("a first session without parties: %v", err)
	}
	for staff, want := range map[string]error{"cj": core.ErrNotFound, "v2": core.ErrNotFound} {
		if _, _, err := l.Mediate(ctx, d, staff, "张三、李四", "x", "y"); !errors.Is(err, want) {
			t.Errorf("%s mediates: %v", staff, err)
		}
	}
	c, evs, err := l.Mediate(ctx, d, "a", "张三、李四", "网格员甲、村调解员", "初步沟通，未达成一致")
	if err != nil || c.Mediation.Parties != "张三、李四" || len(evs) != 1 || evs[0].Kind != core.EventMediated {
		t.Fatalf("session: %+v %v", c.Mediation, err)
	}
	now = now.Add(24 * time.Hour)
	if c, _, err = l.Mediate(ctx, d, "v1", "", "村调解委员会", "签订调解协议"); err != nil || len(c.Mediation.Sessions) != 2 {
		t.Fatalf("second session: %+v %v", c.Mediation, err)
	}
	if _, _, err := l.EndMediation(ctx, d, "v1", "maybe", ""); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("an unknown result: %v", err)
	}
	if _, _, err := l.EndMediation(ctx, d, "v1", core.MediationSettled, "双方签字"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.EndMediation(ctx, d, "v1", core.MediationJudicial, ""); !errors.Is(err, core.ErrNoChange) {
		t.Errorf("a second result: %v", err)
	}
	cases, _ := st.Cases(ctx, core.CaseQuery{})
	rows := core.GridWork(town, cases, nil, core.ByMonth, now)
	if tot := rows[len(rows)-1]; tot.Mediated != 1 || tot.Settled != 1 || tot.SettleRate() != "100.0%" || rows[0].Key != "2026-11" {
		t.Errorf("figures %+v", rows)
	}
}
