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

func TestReclassify(t *testing.T) {
	ctx := context.Background()
	town, err := core.NewTown(core.Town{
		Name: "测试镇", CasePrefix: "ST",
		Villages: []core.Village{{ID: "v1", Name: "东村"}, {ID: "v2", Name: "西村"}},
		Staff: []core.Staff{
			{ID: "l1", Name: "甲", Role: core.RoleGridLeader},
			{ID: "l2", Name: "乙", Role: core.RoleGridLeader},
			{ID: "admin", Name: "镇办", Role: core.RoleTown},
		},
		Grids: []core.Grid{
			{ID: "g1", Name: "一格", Kind: core.GridLarge, Village: "v1", LeaderA: "l1", LeaderB: "l1"},
			{ID: "g2", Name: "二格", Kind: core.GridLarge, Village: "v2", LeaderA: "l2", LeaderB: "l2"},
		},
		Categories: []core.Category{
			{Code: "road", Name: "道路", DeadlineHours: 24},
			{Code: "env", Name: "环境", DeadlineHours: 72},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	store, err := embedded.Open(filepath.Join(t.TempDir(), "db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	ledger := &core.Ledger{Store: store, Town: town, Now: func() time.Time { return t0 }}
	c, err := ledger.Submit(ctx, "o-res", core.Draft{Category: "road", Text: "路灯坏了", Grid: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ledger.Assign(ctx, c.Number); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ledger.Accept(ctx, c.Number, "l1"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, category, grid, reason string
		want                         error
	}{
		{"no reason", "env", "", " ", core.ErrInvalid},
		{"unknown category", "nope", "", "选错了", core.ErrInvalid},
		{"unknown grid", "", "g9", "选错了", core.ErrInvalid},
		{"nothing differs", "road", "g1", "再确认", core.ErrNoChange},
		{"category and grid", "env", "g2", "居民选错了类别和网格", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, evs, err := ledger.Reclassify(ctx, c.Number, "admin", tt.category, tt.grid, tt.reason)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("err %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Category != "env" || got.Grid != "g2" || got.Village != "v2" || got.Assignee != "l2" ||
				got.State != core.StateAssigned || !got.Deadline.Equal(t0.Add(72*time.Hour)) {
				t.Errorf("case %+v", got)
			}
			if len(evs) != 2 || evs[0].Kind != core.EventReclassified || evs[0].Actor != "admin" ||
				evs[0].Text != "居民选错了类别和网格" || evs[0].Data[core.DataOldGrid] != "g1" ||
				evs[0].Data[core.DataOldCategory] != "road" || evs[1].Kind != core.EventAssigned ||
				evs[1].Data[core.DataAssignee] != "l2" {
				t.Errorf("events %+v", evs)
			}
			if core.EventReclassified.Label() == string(core.EventReclassified) {
				t.Error("no label for the reclassified event")
			}
		})
	}
	if _, _, err := ledger.Resolve(ctx, c.Number, "l2", "已处理"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ledger.Reclassify(ctx, c.Number, "admin", "road", "", "晚了"); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("reclassify a resolved case: %v", err)
	}
}
