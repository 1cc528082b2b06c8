package core_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store/embedded"
)

// linkedTown is policyTown with households linked: two to v1's cadre on g1,
// one to grid leader a on g1, one to v2's cadre on g2.
func linkedTown(t *testing.T, extra ...core.LinkedHousehold) *core.Town {
	t.Helper()
	base := *policyTown(t)
	base.Linked = append([]core.LinkedHousehold{
		{Cadre: "v1", Grid: "g1", Address: "东村一巷3号", Name: "陈伯"},
		{Cadre: "v1", Grid: "g1", Address: "东村一巷8号", Name: "黄婆婆", Phone: "138 0000 0001"},
		{Cadre: "a", Grid: "g1", Address: "东村二巷1号", Name: "梁伯"},
		{Cadre: "v2", Grid: "g2", Address: "西村一巷1号", Name: "吴婶"},
	}, extra...)
	town, err := core.NewTown(base)
	if err != nil {
		t.Fatal(err)
	}
	return town
}

// TestLinkedDirectory: the directory's links get IDs and villages; a link
// to a department, an unknown grid or cadre, no address, or twice is
// refused with what is wrong.
func TestLinkedDirectory(t *testing.T) {
	town := linkedTown(t)
	h := town.Linked[0]
	if h.ID != core.HouseholdID("g1", "东村一巷3号") || h.Village != "v1" || !strings.HasPrefix(h.ID, "H") {
		t.Fatalf("link: %+v", h)
	}
	if core.HouseholdID("g1", " 东村一巷３号 ") != h.ID {
		t.Error("the ID changes with spaces or full-width digits")
	}
	for _, bad := range []core.LinkedHousehold{
		{Cadre: "cj", Grid: "g1", Address: "东村九巷"},
		{Cadre: "ghost", Grid: "g1", Address: "东村九巷"},
		{Cadre: "v1", Grid: "g9", Address: "东村九巷"},
		{Cadre: "v1", Grid: "g1", Address: " ，"},
		{Cadre: "v1", Grid: "g1", Address: "东村一巷3号"}, // linked twice
		{Cadre: "v1", Grid: "g1", Address: "东村九巷", Phone: "12"},
	} {
		base := *policyTown(t)
		base.Linked = []core.LinkedHousehold{{Cadre: "v1", Grid: "g1", Address: "东村一巷3号"}, bad}
		if _, err := core.NewTown(base); err == nil {
			t.Errorf("%+v was accepted", bad)
		}
	}
}

// TestVisitPolicy: only the linked cadre records a visit; others who may
// read the file are refused, others are told there is no such household.
func TestVisitPolicy(t *testing.T) {
	town := linkedTown(t)
	hh := &town.Linked[0] // v1's, on g1
	for _, tc := range []struct {
		staff string
		see   bool
		want  error
	}{
		{"v1", true, nil},
		{"town", true, core.ErrForbidden},
		{"a", true, core.ErrForbidden}, // leads g1: reads the file
		{"v2", false, core.ErrNotFound},
		{"cj", false, core.ErrNotFound},
		{"off", false, core.ErrForbidden},
	} {
		s := town.StaffMember(tc.staff)
		if got := town.CanSeeHousehold(s, hh); got != tc.see {
			t.Errorf("%s sees the file: %v, want %v", tc.staff, got, tc.see)
		}
		err := town.PermitVisit(s, hh)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.staff, err)
			}
			continue
		}
		if reason, ok := core.RefusalReason(err); !errors.Is(err, tc.want) || !ok || reason == "" {
			t.Errorf("%s: %v, want %v with a reason", tc.staff, err, tc.want)
		}
	}
}

func linkedRig(t *testing.T, now *time.Time) (*core.Town, *embedded.Store, *core.Ledger, *core.Visits) {
	t.Helper()
	town := linkedTown(t)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	*now = time.Date(2026, 11, 25, 9, 0, 0, 0, town.Zone())
	l := &core.Ledger{Store: st, Town: town, Now: func() time.Time { return *now }}
	return town, st, l, &core.Visits{Links: &core.LinkBook{Town: town, Records: st}, Store: st, Ledger: l}
}

// TestVisitRecord: a visit is recorded once per key; one that becomes a
// case files a patrol report on the household's grid, marked with the
// household, once however often it is retried; someone else's household,
// an unknown one and empty words change nothing.
func TestVisitRecord(t *testing.T) {
	ctx := context.Background()
	var now time.Time
	town, st, _, visits := linkedRig(t, &now)
	hh := town.Linked[0].ID
	v, c, err := visits.Record(ctx, "v1", core.VisitReport{Household: hh, Found: " 家里都好 ", Key: "k1"})
	if err != nil || c != nil || v.Found != "家里都好" || v.Grid != "g1" || v.Month != "2026-11" {
		t.Fatalf("visit: %+v %v %v", v, c, err)
	}
	again, _, err := visits.Record(ctx, "v1", core.VisitReport{Household: hh, Found: "家里都好", Key: "k1"})
	if err != nil || again.ID != v.ID {
		t.Fatalf("retry: %+v %v", again, err)
	}
	report := core.VisitReport{Household: hh, Found: "门口路灯坏了", Case: true, Category: "road", Key: "k2"}
	v2, c, err := visits.Record(ctx, "v1", report)
	if err != nil || c == nil || !c.Found() || c.Household != hh || c.Grid != "g1" || c.Finder != "v1" || v2.Case != c.Number {
		t.Fatalf("visit with a case: %+v %+v %v", v2, c, err)
	}
	v3, c3, err := visits.Record(ctx, "v1", report)
	if err != nil || c3.Number != c.Number || v3.ID != v2.ID {
		t.Fatalf("retried: %+v %+v %v", v3, c3, err)
	}
	for _, tc := range []struct {
		staff string
		r     core.VisitReport
		want  error
	}{
		{"a", core.VisitReport{Household: hh, Found: "看看"}, core.ErrForbidden},
		{"v2", core.VisitReport{Household: hh, Found: "看看"}, core.ErrNotFound},
		{"v1", core.VisitReport{Household: "Hnone", Found: "看看"}, core.ErrNotFound},
		{"v1", core.VisitReport{Household: hh, Found: "  "}, core.ErrInvalid},
		{"v1", core.VisitReport{Household: hh, Found: strings.Repeat("长", core.MaxTextLen+1)}, core.ErrInvalid},
		{"v1", core.VisitReport{Household: hh, Found: "坏了", Case: true, Category: "nope"}, core.ErrInvalid},
	} {
		if _, _, err := visits.Record(ctx, tc.staff, tc.r); !errors.Is(err, tc.want) {
			t.Errorf("%s %+v: %v, want %v", tc.staff, tc.r, err, tc.want)
		}
	}
	got, err := st.HouseholdVisits(ctx, hh, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("the file's visits: %+v %v", got, err)
	}
	counts, err := st.VisitCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := core.VisitFigures(town, counts, core.FigureScope{}, core.ByCadre)
	if len(rows) != 2 || rows[0].Key != "v1" || rows[0].Name != "东村干部" || rows[0].Visits != 2 || rows[1].Visits != 2 {
		t.Fatalf("by cadre: %+v", rows)
	}
	if rows := core.VisitFigures(town, counts, core.FigureScope{Village: "v2"}, core.ByGrid); len(rows) != 1 || rows[0].Visits != 0 {
		t.Fatalf("v2 sees: %+v", rows)
	}
}

// TestLinkMatchAndImport: a resident's case from a linked household's phone
// or address in its village is matched and marked once; the import links
// households checked as the directory's, the town only.
func TestLinkMatchAndImport(t *testing.T) {
	ctx := context.Background()
	var now time.Time
	town, st, l, visits := linkedRig(t, &now)
	links := visits.Links
	file := func(d core.Draft) core.Case {
		c, err := l.Submit(ctx, "o-res", d)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	byPhone := file(core.Draft{Category: "road", Text: "路灯坏了", Grid: "g1", Phone: "13800000001"})
	byAddr := file(core.Draft{Category: "road", Text: "路灯坏了", Grid: "g1", Address: "东村 一巷3号"})
	otherVillage := file(core.Draft{Category: "road", Text: "路灯坏了", Grid: "g2", Address: "东村一巷3号"})
	none := file(core.Draft{Category: "road", Text: "路灯坏了", Grid: "g1", Address: "东村九巷"})
	for _, tc := range []struct {
		c    core.Case
		want string
	}{{byPhone, town.Linked[1].ID}, {byAddr, town.Linked[0].ID}, {otherVillage, ""}, {none, ""}} {
		h, err := links.Match(ctx, &tc.c)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if h != nil {
			got = h.ID
		}
		if got != tc.want {
			t.Errorf("%s matched %q, want %q", tc.c.Address+tc.c.Phone, got, tc.want)
		}
	}
	h, _ := links.Match(ctx, &byPhone)
	c, evs, err := l.LinkHousehold(ctx, byPhone.Number, h)
	if err != nil || c.Household != h.ID || len(evs) != 1 || evs[0].Kind != core.EventHouseholdLinked || evs[0].Data[core.DataCadre] != "v1" {
		t.Fatalf("linked: %+v %+v %v", c, evs, err)
	}
	if _, _, err := l.LinkHousehold(ctx, byPhone.Number, h); !errors.Is(err, core.ErrNoChange) {
		t.Errorf("linked twice: %v", err)
	}
	if m, _ := links.Match(ctx, &c); m != nil {
		t.Error("a case marked already matched again")
	}

	rows := []core.LinkedHousehold{
		{Cadre: "a", Grid: "g1", Address: "东村五巷5号", Name: "新户"},
		{Cadre: "cj", Grid: "g1", Address: "东村五巷6号"},
		{Cadre: "a", Grid: "g1", Address: "东村五巷5号"},
		{Cadre: "a", Grid: "g1", Address: "东村一巷3号", Name: "陈伯"}, // moves from v1 to a
	}
	if _, _, err := links.Import(ctx, town.StaffMember("v1"), rows, 2); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a village imported: %v", err)
	}
	n, refused, err := links.Import(ctx, town.StaffMember("town"), rows, 2)
	if err != nil || n != 2 || len(refused) != 2 || refused[0].Row != 3 || refused[1].Row != 4 {
		t.Fatalf("import: %d %+v %v", n, refused, err)
	}
	mine, err := links.Of(ctx, "a")
	if err != nil || len(mine) != 3 {
		t.Fatalf("a's households: %+v %v", mine, err)
	}
	if v1s, _ := links.Of(ctx, "v1"); len(v1s) != 1 {
		t.Errorf("v1 keeps %d households, want 1 (one moved to a)", len(v1s))
	}
	_ = st
}

// TestVisitReplayedAtOnce: fifty copies of one visit (a resent form, a
// retried message) sent at once record one visit and file one case.
func TestVisitReplayedAtOnce(t *testing.T) {
	ctx := context.Background()
	var now time.Time
	town, st, _, visits := linkedRig(t, &now)
	hh := town.Linked[0].ID
	r := core.VisitReport{Household: hh, Found: "门口路灯坏了", Case: true, Category: "road", Key: "form-9"}
	var wg sync.WaitGroup
	ids, numbers := make([]string, 50), make([]string, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, c, err := visits.Record(ctx, "v1", r)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i], numbers[i] = v.ID, c.Number
		}()
	}
	wg.Wait()
	for i := range ids {
		if ids[i] != ids[0] || numbers[i] != numbers[0] {
			t.Fatalf("copy %d: visit %s case %s, the first %s %s", i, ids[i], numbers[i], ids[0], numbers[0])
		}
	}
	got, err := st.HouseholdVisits(ctx, hh, 100)
	if err != nil || len(got) != 1 {
		t.Fatalf("visits %+v %v", got, err)
	}
	cases, err := st.Cases(ctx, core.CaseQuery{})
	if err != nil || len(cases) != 1 {
		t.Fatalf("%d cases, want 1 (%v)", len(cases), err)
	}
}
