package core_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/store/embedded"
)

func residentLedger(t testing.TB) (*core.Ledger, *core.Households, *embedded.Store) {
	t.Helper()
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "g.db"), embedded.Options{CasePrefix: town.CasePrefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &core.Ledger{Store: st, Town: town}, &core.Households{Records: st}, st
}

// 注销 erases the phone, address, location label and voice notes of every
// case the resident filed, in the store, and keeps the cases.
func TestAnonymiseErasesPersonalData(t *testing.T) {
	ctx := context.Background()
	l, hh, st := residentLedger(t)
	loc := &core.Location{Point: core.Point{Lat: 22.35, Lng: 112.56}, Label: "幸福路3号门口"}
	for _, d := range []core.Draft{
		{Category: "env", Text: "垃圾没人收", Grid: "L10", Phone: "13900001111", Address: "幸福路3号", Location: loc,
			Voices: []core.Media{{MediaID: "v1"}}, Photos: []core.Media{{MediaID: "p1"}}},
		{Category: "light", Text: "路灯不亮", Grid: "L10", Phone: "13900001111"},
	} {
		if _, err := l.Submit(ctx, "ores", d); err != nil {
			t.Fatal(err)
		}
	}
	other, err := l.Submit(ctx, "oother", core.Draft{Category: "env", Text: "别人的事", Grid: "L10", Phone: "13700000000"})
	if err != nil {
		t.Fatal(err)
	}
	media := &core.MediaStore{Records: st}
	if err := media.Put(ctx, core.MediaFile{ID: "v1", Case: "x", Kind: core.MediaVoice, Data: []byte("amr")}); err != nil {
		t.Fatal(err)
	}
	if err := hh.SaveHousehold(ctx, core.Household{OpenID: "ores", Grid: "L10", Address: "幸福路3号", Name: "陈伯", Phone: "13900001111"}); err != nil {
		t.Fatal(err)
	}
	voices, err := l.Anonymise(ctx, "ores")
	if err != nil || len(voices) != 1 || voices[0] != "v1" {
		t.Fatalf("anonymise: %v %v", voices, err)
	}
	if err := hh.Forget(ctx, "ores", voices); err != nil {
		t.Fatal(err)
	}
	cases, _ := st.Cases(ctx, core.CaseQuery{Resident: "ores"})
	if len(cases) != 2 {
		t.Fatalf("%d cases kept, want 2", len(cases))
	}
	for _, c := range cases {
		if c.Phone != "" || c.Address != "" || len(c.Voices) != 0 || c.Location != nil && c.Location.Label != "" || c.Text == "" {
			t.Errorf("case %s after 注销: %+v", c.Number, c)
		}
	}
	if c, _ := st.Case(ctx, other.Number); c.Phone == "" {
		t.Error("another resident's case lost its phone")
	}
	if _, ok, _ := hh.Household(ctx, "ores"); ok {
		t.Error("the household file is still there")
	}
	if _, ok, _ := media.Get(ctx, "v1"); ok {
		t.Error("the voice note is still kept")
	}
	if again, err := l.Anonymise(ctx, "ores"); err != nil || len(again) != 0 {
		t.Errorf("second anonymise: %v %v", again, err)
	}
}

// Join, supplement and withdraw, and who may do them.
func TestResidentSteps(t *testing.T) {
	ctx := context.Background()
	l, _, st := residentLedger(t)
	here := &core.Location{Point: core.Point{Lat: 22.3500, Lng: 112.5600}}
	c, err := l.Submit(ctx, "ores", core.Draft{Category: "light", Text: "路灯不亮", Grid: "L10", Location: here})
	if err != nil {
		t.Fatal(err)
	}
	near := core.Draft{Category: "light", Grid: "L10", Location: &core.Location{Point: core.Point{Lat: 22.3509, Lng: 112.5600}}}
	far := near
	far.Location = &core.Location{Point: core.Point{Lat: 22.3600, Lng: 112.5600}}
	for _, tt := range []struct {
		name     string
		resident string
		d        core.Draft
		want     int
	}{
		{"100 m away", "oneighbour", near, 1},
		{"1 km away", "oneighbour", far, 0},
		{"no location, same grid", "oneighbour", core.Draft{Category: "light", Grid: "L10"}, 1},
		{"another category", "oneighbour", core.Draft{Category: "env", Grid: "L10"}, 0},
		{"one's own case", "ores", near, 0},
	} {
		got, err := l.JoinCandidates(ctx, tt.resident, tt.d, 200)
		if err != nil || len(got) != tt.want {
			t.Errorf("%s: %d candidates (%v), want %d", tt.name, len(got), err, tt.want)
		}
	}
	if _, err := l.Join(ctx, c.Number, "oneighbour"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Join(ctx, c.Number, "oneighbour"); !errors.Is(err, core.ErrNoChange) {
		t.Errorf("joining twice: %v", err)
	}
	if _, err := l.Supplement(ctx, c.Number, "oneighbour", core.Addition{Text: "还是黑"}); !errors.Is(err, core.ErrForbidden) {
		t.Errorf("a joined resident supplements: %v", err)
	}
	if _, err := l.Supplement(ctx, c.Number, "ores", core.Addition{Text: "三盏都不亮", Photo: &core.Media{MediaID: "p9"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Withdraw(ctx, c.Number, "ores", ""); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("withdraw without a reason: %v", err)
	}
	if _, err := l.Withdraw(ctx, c.Number, "ores", "已经修好了"); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Case(ctx, c.Number)
	if got.State != core.StateClosed || len(got.Joined) != 1 || len(got.Photos) != 1 {
		t.Errorf("case %+v", got)
	}
	evs, _ := st.Events(ctx, c.Number)
	var kinds []core.EventKind
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	want := []core.EventKind{core.EventSubmitted, core.EventJoined, core.EventSupplemented, core.EventWithdrawn, core.EventClosed}
	if len(kinds) != len(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events %v, want %v", kinds, want)
		}
	}
	if evs[3].Text != "已经修好了" || evs[4].Data[core.DataReason] != core.ReasonWithdrawn {
		t.Errorf("withdrawal not recorded: %+v %+v", evs[3], evs[4])
	}
	if _, err := l.Supplement(ctx, c.Number, "ores", core.Addition{Text: "还有"}); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("supplementing a closed case: %v", err)
	}
}
