package core_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store/embedded"
)

// TestTownZone: one zone, the town's, dates case numbers and months, and a
// zone that does not exist is refused when the directory is read.
func TestTownZone(t *testing.T) {
	town := func(zone string) (*core.Town, error) {
		return core.NewTown(core.Town{
			Name: "测试镇", CasePrefix: "ST", TimeZone: zone,
			Villages:   []core.Village{{ID: "v1", Name: "东村"}},
			Staff:      []core.Staff{{ID: "l1", Name: "甲", Role: core.RoleGridLeader}},
			Grids:      []core.Grid{{ID: "g1", Name: "一格", Kind: core.GridLarge, Village: "v1", LeaderA: "l1", LeaderB: "l1"}},
			Categories: []core.Category{{Code: "road", Name: "道路", DeadlineHours: 24}},
		})
	}
	if _, err := town("Mars/Olympus"); err == nil {
		t.Error("an unknown time zone was accepted")
	}
	// 20:00 UTC on the 30th of November is the 1st of December in China
	// and still the 30th in London.
	at := time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ zone, day, month string }{
		{"", "20261201", "2026-12"},
		{"Asia/Shanghai", "20261201", "2026-12"},
		{"Europe/London", "20261130", "2026-11"},
	} {
		tw, err := town(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := tw.MonthKey(at); got != tt.month {
			t.Errorf("%q: month %s, want %s", tt.zone, got, tt.month)
		}
		st, err := embedded.Open(filepath.Join(t.TempDir(), "db"), embedded.Options{CasePrefix: "ST"})
		if err != nil {
			t.Fatal(err)
		}
		l := &core.Ledger{Store: st, Town: tw, Now: func() time.Time { return at }}
		c, err := l.Submit(context.Background(), "r", core.Draft{Category: "road", Text: "路灯坏了", Grid: "g1"})
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.Number, "ST"+tt.day) {
			t.Errorf("%q: number %s, want dated %s", tt.zone, c.Number, tt.day)
		}
	}
}
