package core_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store/embedded"
)

// TestPolicyDeskSteps is the desk steps' role × state table: notes by
// whoever works on the case, in any state; 催办, 加急 and 合并 by the
// village and the town on open cases; 代录 by the town, a village in its
// grids and a grid leader in theirs, never a department.
func TestPolicyDeskSteps(t *testing.T) {
	town := policyTown(t)
	open := core.Case{Number: "1", State: core.StateAssigned, Village: "v1", Grid: "g1", Assignee: "a", Post: core.PostA,
		Departments: []core.Assist{{Department: "cj", State: core.AssistCalled}}}
	closed := open
	closed.State = core.StateClosed
	returned := open
	returned.Departments = []core.Assist{{Department: "cj", State: core.AssistReturned}}
	urgent := open
	urgent.Urgent = true
	unassigned := open
	unassigned.State, unassigned.Assignee = core.StateSubmitted, ""
	draft := core.Case{State: core.StateSubmitted, Village: "v1", Grid: "g1"}
	tests := []struct {
		staff string
		step  core.Step
		c     core.Case
		want  error
	}{
		{"a", core.StepNote, open, nil},
		{"a", core.StepNote, closed, nil},
		{"cj", core.StepNote, open, nil},
		{"cj", core.StepNote, returned, core.ErrForbidden},
		{"v2", core.StepNote, open, core.ErrNotFound},
		{"off", core.StepNote, open, core.ErrNotFound},
		{"town", core.StepUrge, open, nil},
		{"v1", core.StepUrge, open, nil},
		{"v2", core.StepUrge, open, core.ErrNotFound},
		{"a", core.StepUrge, open, core.ErrForbidden},
		{"cj", core.StepUrge, open, core.ErrForbidden},
		{"town", core.StepUrge, closed, core.ErrWrongState},
		{"town", core.StepUrge, unassigned, core.ErrWrongState},
		{"v1", core.StepUrgent, open, nil},
		{"v1", core.StepUrgent, urgent, core.ErrNoChange},
		{"b", core.StepUrgent, open, core.ErrForbidden},
		{"town", core.StepUrgent, closed, core.ErrWrongState},
		{"town", core.StepMerge, open, nil},
		{"a", core.StepMerge, open, core.ErrForbidden},
		{"v1", core.StepMerge, closed, core.ErrWrongState},
		{"town", core.StepFileFor, draft, nil},
		{"v1", core.StepFileFor, draft, nil},
		{"a", core.StepFileFor, draft, nil},
		{"b", core.StepFileFor, draft, nil},
		{"v2", core.StepFileFor, draft, core.ErrForbidden},
		{"cj", core.StepFileFor, draft, core.ErrForbidden},
		{"off", core.StepFileFor, draft, core.ErrForbidden},
		{"nobody", core.StepFileFor, draft, core.ErrForbidden},
	}
	for _, tt := range tests {
		err := town.Permit(town.StaffMember(tt.staff), tt.step, &tt.c)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s %s on %s: %v, want %v", tt.staff, tt.step, tt.c.State, err, tt.want)
		}
		if reason, ok := core.RefusalReason(err); err != nil && (!ok || reason == "") {
			t.Errorf("%s %s: refused without words: %v", tt.staff, tt.step, err)
		}
	}
	if got := town.Steps(town.StaffMember("v1"), &open); !containsAll(got, core.StepNote, core.StepUrge, core.StepUrgent, core.StepMerge) {
		t.Errorf("the village is offered %v", got)
	}
	if got := town.Steps(town.StaffMember("a"), &open); slices.Contains(got, core.StepUrge) || !slices.Contains(got, core.StepNote) {
		t.Errorf("the handler is offered %v", got)
	}
	for _, s := range []core.Step{core.StepFileFor, core.StepNote, core.StepUrge, core.StepUrgent, core.StepMerge} {
		if s.Label() == string(s) {
			t.Errorf("%s has no label", s)
		}
	}
}

func containsAll(steps []core.Step, want ...core.Step) bool {
	for _, w := range want {
		if !slices.Contains(steps, w) {
			return false
		}
	}
	return true
}

func deskLedger(t *testing.T) (*core.Ledger, *time.Time) {
	t.Helper()
	town := policyTown(t)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, town.Zone())
	return &core.Ledger{Store: st, Town: town, Now: func() time.Time { return now }}, &now
}

func filed(t *testing.T, l *core.Ledger, resident, text string) core.Case {
	t.Helper()
	ctx := context.Background()
	c, err := l.Submit(ctx, resident, core.Draft{Category: "road", Text: text, Grid: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	if c, _, err = l.Assign(ctx, c.Number); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFileFor: a case filed for a resident runs like one they filed, marked
// with its channel and its filer; the same phone gives the same household
// key and no WeChat user's; bad input changes nothing.
func TestFileFor(t *testing.T) {
	ctx := context.Background()
	l, _ := deskLedger(t)
	f := core.ProxyFiling{Draft: core.Draft{Category: "road", Text: "桥头路灯不亮", Grid: "g1", Phone: "138-0013-8000"},
		Channel: core.IntakePhone, Contact: "李阿姨"}
	c, err := l.FileFor(ctx, "a", f)
	if err != nil {
		t.Fatal(err)
	}
	if c.Channel != core.IntakePhone || c.Phone != "13800138000" || c.Contact != "李阿姨" || c.State != core.StateSubmitted ||
		!core.IsOfflineResident(c.Resident) || strings.Contains(c.Resident, "13800138000") || c.Deadline.IsZero() {
		t.Errorf("filed %+v", c)
	}
	evs, _ := l.CaseEvents(ctx, c.Number)
	if len(evs) != 1 || evs[0].Kind != core.EventSubmitted || evs[0].Actor != "a" || evs[0].Data[core.DataVia] != "phone" {
		t.Errorf("events %+v", evs)
	}
	again, err := l.FileFor(ctx, "v1", core.ProxyFiling{Draft: core.Draft{Category: "road", Text: "又坏了", Grid: "g1",
		Phone: "13800138000"}, Channel: core.IntakeWalkIn})
	if err != nil || again.Resident != c.Resident {
		t.Errorf("the same phone: %q vs %q (%v)", again.Resident, c.Resident, err)
	}
	bound, err := l.FileFor(ctx, "town", core.ProxyFiling{Draft: core.Draft{Category: "road", Text: "路面塌陷", Grid: "g2"},
		Channel: core.IntakeWalkIn, OpenID: "o-resident"})
	if err != nil || bound.Resident != "o-resident" {
		t.Errorf("bound: %+v %v", bound, err)
	}
	if _, _, err := l.Assign(ctx, c.Number); err != nil {
		t.Errorf("routing a filed case: %v", err)
	}

	long := strings.Repeat("字", core.MaxTextLen+1)
	bad := []struct {
		staff string
		f     core.ProxyFiling
		want  error
	}{
		{"a", core.ProxyFiling{Draft: core.Draft{Category: "road", Text: "x", Grid: "g1"}}, core.ErrInvalid},
		{"a", core.ProxyFiling{Draft: core.Draft{Category: "nope", Text: "x", Grid: "g1"}, Channel: core.IntakePhone}, core.ErrInvalid},
		{"a", core.ProxyFiling{Draft: core.Draft{Category: "road", Text: " ", Grid: "g1"}, Channel: core.IntakePhone}, core.ErrInvalid},
		{"a", core.ProxyFiling{Draft: core.Draft{Category: "road", Text: long, Grid: "g1"}, Channel: core.IntakePhone}, core.ErrInvalid},
		{"a", core.ProxyFiling{Draft: core.Draft{Category: "road", Text: "x", Grid: "g1", Phone: "138abc"}, Channel: core.IntakePhone}, core.ErrInvalid},
		{"a", core.ProxyFiling{Draft: core.Draft{Category: "road", Text: "x", Grid: "g1"}, Channel: core.IntakePhone,
			Contact: strings.Repeat("名", core.MaxContactLen+1)}, core.ErrInvalid},
		{"a", core.ProxyFiling{Draft: core.Draft{Category: "road", Text: "x", Grid: "g1",
			Location: &core.Location{Point: core.Point{Lat: 91}}}, Channel: core.IntakePhone}, core.ErrInvalid},
		{"v2", core.ProxyFiling{Draft: core.Draft{Category: "road", Text: "x", Grid: "g1"}, Channel: core.IntakePhone}, core.ErrForbidden},
		{"cj", core.ProxyFiling{Draft: core.Draft{Category: "road", Text: "x", Grid: "g1"}, Channel: core.IntakePhone}, core.ErrForbidden},
	}
	before, _ := l.Store.Cases(ctx, core.CaseQuery{})
	for _, b := range bad {
		if _, err := l.FileFor(ctx, b.staff, b.f); !errors.Is(err, b.want) {
			t.Errorf("%s %+v: %v, want %v", b.staff, b.f, err, b.want)
		}
	}
	if after, _ := l.Store.Cases(ctx, core.CaseQuery{}); len(after) != len(before) {
		t.Errorf("refused filings wrote %d cases", len(after)-len(before))
	}
}

// TestNotesUrgeUrgent: a note is on the log; an urge is counted and a
// second within the interval refused; 加急 brings the deadline to the
// category's urgent term, never later than it was.
func TestNotesUrgeUrgent(t *testing.T) {
	ctx := context.Background()
	l, now := deskLedger(t)
	c := filed(t, l, "r1", "路灯坏了")
	if _, _, err := l.AddNote(ctx, c.Number, "a", "已电话联系居民，明早去看"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.AddNote(ctx, c.Number, "a", strings.Repeat("长", core.MaxTextLen+1)); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("a long note: %v", err)
	}
	if _, _, err := l.AddNote(ctx, c.Number, "v2", "别的村的人"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("another village's note: %v", err)
	}
	got, evs, err := l.Urge(ctx, c.Number, "v1", "请今天内处理")
	if err != nil || got.Urges != 1 || len(evs) != 1 || evs[0].Kind != core.EventUrged || evs[0].Data[core.DataCount] != "1" {
		t.Fatalf("urge: %+v %+v %v", got, evs, err)
	}
	if _, _, err := l.Urge(ctx, c.Number, "town", ""); !errors.Is(err, core.ErrNoChange) {
		t.Errorf("an urge within the interval: %v", err)
	}
	*now = now.Add(core.UrgeInterval)
	if got, _, err = l.Urge(ctx, c.Number, "town", ""); err != nil || got.Urges != 2 {
		t.Errorf("the second urge: %+v %v", got, err)
	}

	if _, _, err := l.MarkUrgent(ctx, c.Number, "v1", ""); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("urgent without a reason: %v", err)
	}
	got, _, err = l.MarkUrgent(ctx, c.Number, "v1", "学生上学必经之路")
	// The category gives 24 hours and sets no urgent term: half of it.
	if want := now.Add(12 * time.Hour); err != nil || !got.Urgent || !got.Deadline.Equal(want) {
		t.Errorf("urgent: deadline %s (%v), want %s", got.Deadline, err, want)
	}
	if _, _, err := l.MarkUrgent(ctx, c.Number, "town", "再加急"); !errors.Is(err, core.ErrNoChange) {
		t.Errorf("urgent twice: %v", err)
	}
	// A deadline already sooner than the urgent term stays.
	*now = got.Deadline.Add(-time.Hour)
	d := filed(t, l, "r2", "井盖松了")
	town := l.Town.Town()
	cat := *town.Category("road")
	cat.UrgentHours = 30
	if u := town.UrgentDeadline(&cat, *now); !u.Equal(now.Add(30 * time.Hour)) {
		t.Errorf("urgent_hours 30: %s", u)
	}
	if got, _, _ := l.MarkUrgent(ctx, d.Number, "town", "急"); !got.Deadline.Equal(now.Add(12 * time.Hour)) {
		t.Errorf("urgent deadline %s", got.Deadline)
	}
}

// TestMerge: the merged case closes naming the survivor; its resident and
// joiners join the survivor once; bad targets change nothing.
func TestMerge(t *testing.T) {
	ctx := context.Background()
	l, _ := deskLedger(t)
	survivor := filed(t, l, "r1", "桥头路灯不亮")
	dup := filed(t, l, "r2", "桥边的灯坏了")
	if _, err := l.Join(ctx, dup.Number, "r3"); err != nil {
		t.Fatal(err)
	}
	other := filed(t, l, "r4", "另一件")
	if _, _, err := l.Merge(ctx, dup.Number, dup.Number, "town", ""); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("into itself: %v", err)
	}
	if _, _, err := l.Merge(ctx, dup.Number, "ST209901010001", "town", ""); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("into nothing: %v", err)
	}
	if _, _, err := l.Merge(ctx, dup.Number, survivor.Number, "a", ""); !errors.Is(err, core.ErrForbidden) {
		t.Errorf("a grid leader merges: %v", err)
	}
	got, evs, err := l.Merge(ctx, dup.Number, survivor.Number, "v1", "同一盏灯")
	if err != nil || got.State != core.StateClosed || got.MergedInto != survivor.Number || len(evs) != 1 || evs[0].Kind != core.EventMerged {
		t.Fatalf("merge: %+v %+v %v", got, evs, err)
	}
	s, _ := l.Case(ctx, survivor.Number)
	if !slices.Equal(s.Joined, []string{"r2", "r3"}) {
		t.Errorf("survivor joined %v", s.Joined)
	}
	if err := core.PermitResident("r2", core.StepRate, &s); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("the merged case's resident and the survivor: %v", err)
	}
	if _, _, err := l.Merge(ctx, dup.Number, other.Number, "town", ""); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("merging a merged case again: %v", err)
	}
	if _, _, err := l.Merge(ctx, other.Number, dup.Number, "town", ""); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("merging into a closed case: %v", err)
	}
	if o, _ := l.Case(ctx, other.Number); o.State != core.StateAssigned || len(o.Joined) != 0 {
		t.Errorf("refused merges changed %+v", o)
	}
}

// TestHouseholdByPhone: the phone index follows the household file — a
// changed phone moves it, 注销 removes it — and holds a hash, not the
// number.
func TestHouseholdByPhone(t *testing.T) {
	ctx := context.Background()
	l, _ := deskLedger(t)
	recs := l.Store.(core.Records)
	h := &core.Households{Records: recs}
	if err := h.SaveHousehold(ctx, core.Household{OpenID: "o1", Grid: "g1", Phone: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	if hh, ok, err := h.ByPhone(ctx, "138 0013 8000"); err != nil || !ok || hh.OpenID != "o1" {
		t.Errorf("by phone: %+v %v %v", hh, ok, err)
	}
	if err := h.SaveHousehold(ctx, core.Household{OpenID: "o1", Grid: "g1", Phone: "13900139000"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := h.ByPhone(ctx, "13800138000"); ok {
		t.Error("the old phone still finds the household")
	}
	if hh, ok, _ := h.ByPhone(ctx, "13900139000"); !ok || hh.OpenID != "o1" {
		t.Error("the new phone does not find it")
	}
	if err := h.Forget(ctx, "o1", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := h.ByPhone(ctx, "13900139000"); ok {
		t.Error("a forgotten household is found by phone")
	}
	if _, ok, _ := h.ByPhone(ctx, "not a phone"); ok {
		t.Error("found by a non-phone")
	}
}
