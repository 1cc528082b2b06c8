package dialogs

import (
	"context"
	"strings"
	"testing"

	"gridbot/core"
)

// A staff correction teaches every instance sharing the store: the instance
// that handled it at once, the others at their next Refresh; a reset book
// starts them again from the cues alone. A guess that staff corrected is
// counted wrong in its month.
func TestLearnerLearnsFromCorrections(t *testing.T) {
	ctx := context.Background()
	town := testTown(t)
	l := newFakeLedger(town, newClock().Now)
	book := &core.GuessBook{Records: newMemRecords()}
	c, err := l.Submit(ctx, "o-r", core.Draft{Category: "env", Text: "巷尾嗰度啲猪栏好大阵味", Grid: "g1", Village: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := book.NoteGuessed(ctx, c.Number, "env", "2026-11"); err != nil {
		t.Fatal(err)
	}
	a := &Learner{Book: book, Cases: l, Town: town, Script: testScript(t)}
	b := &Learner{Book: book, Cases: l, Town: town, Script: testScript(t)}
	probe := "隔篱猪栏好大阵味"
	guessOf := func(lr *Learner) []Guess { return Reader{Script: testScript(t), Model: lr}.Guess(town, probe) }
	if g := guessOf(a); len(g) != 0 {
		t.Fatalf("a cold model guessed %v", g)
	}
	ev := core.Event{Seq: 7, Case: c.Number, Kind: core.EventReclassified,
		Data: map[string]string{core.DataOldCategory: "env", core.DataCategory: "dispute"}}
	for range 2 { // a redelivered event teaches once
		if err := a.Learn(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if a.Examples() != 1 {
		t.Fatalf("instance a learnt %d examples", a.Examples())
	}
	if g := guessOf(a); len(g) == 0 || g[0].Code != "dispute" {
		t.Errorf("after the correction instance a guessed %v", g)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if g := guessOf(b); b.Examples() != 1 || len(g) == 0 || g[0].Code != "dispute" {
		t.Errorf("after Refresh instance b (%d examples) guessed %v", b.Examples(), g)
	}
	// Other events and a grid-only correction teach nothing.
	for _, other := range []core.Event{
		{Seq: 8, Case: c.Number, Kind: core.EventAccepted},
		{Seq: 9, Case: c.Number, Kind: core.EventReclassified, Data: map[string]string{"grid": "g2"}},
	} {
		if err := a.Learn(ctx, other); err != nil || a.Examples() != 1 {
			t.Errorf("event %s: %v, %d examples", other.Kind, err, a.Examples())
		}
	}
	months, err := book.GuessMonths(ctx)
	if err != nil || len(months) != 1 || months[0] != (core.GuessMonth{Month: "2026-11", Guessed: 1, Corrected: 1}) {
		t.Errorf("guess months: %+v %v", months, err)
	}
	if n, err := book.ResetExamples(ctx); n != 1 || err != nil {
		t.Fatalf("reset: %d %v", n, err)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if g := guessOf(b); b.Examples() != 0 || len(g) != 0 {
		t.Errorf("after a reset instance b (%d examples) guessed %v", b.Examples(), g)
	}
}

// The examples stay bounded: past the book's bound the oldest correction
// is forgotten first, and an instance that learnt it rebuilds its model
// from those kept at its next Refresh.
func TestLearnerForgetsTheOldestPastTheBound(t *testing.T) {
	ctx := context.Background()
	town := testTown(t)
	l := newFakeLedger(town, newClock().Now)
	book := &core.GuessBook{Records: newMemRecords(), MaxExamples: 5}
	a := &Learner{Book: book, Cases: l, Town: town, Script: testScript(t)}
	b := &Learner{Book: book, Cases: l, Town: town, Script: testScript(t)}
	c, err := l.Submit(ctx, "o-r", core.Draft{Category: "env", Text: "巷尾嗰度啲猪栏好大阵味", Grid: "g1", Village: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	// Sequence numbers 6…17 cross from one digit to two: 9 is older than 10.
	for seq := uint64(6); seq <= 17; seq++ {
		ev := core.Event{Seq: seq, Case: c.Number, Kind: core.EventReclassified,
			Data: map[string]string{core.DataOldCategory: "env", core.DataCategory: "dispute"}}
		if err := a.Learn(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if seq == 8 {
			if err := b.Refresh(ctx); err != nil || b.Examples() != 3 {
				t.Fatalf("b learnt %d examples (%v)", b.Examples(), err)
			}
		}
	}
	kept, err := book.Examples(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, ex := range kept {
		keys = append(keys, ex.Key)
	}
	if got := strings.Join(keys, ","); got != "13,14,15,16,17" {
		t.Fatalf("kept %s, want the five newest", got)
	}
	for _, lr := range []*Learner{a, b} {
		if err := lr.Refresh(ctx); err != nil || lr.Examples() != 5 {
			t.Fatalf("after Refresh an instance holds %d examples (%v)", lr.Examples(), err)
		}
	}
}

// The guessed cases the figures read stay bounded: when a month's first
// guess is noted, months GuessMonthsKept or more behind are forgotten.
func TestGuessMonthsAgeOut(t *testing.T) {
	ctx := context.Background()
	book := &core.GuessBook{Records: newMemRecords()}
	for i, month := range []string{"2023-12", "2024-01", "2024-02", "2024-03", "2025-06"} {
		if err := book.NoteGuessed(ctx, "ST"+month+string(rune('a'+i)), "env", month); err != nil {
			t.Fatal(err)
		}
	}
	if months, _ := book.GuessMonths(ctx); len(months) != 5 {
		t.Fatalf("before: %+v", months)
	}
	if err := book.NoteGuessed(ctx, "ST-new", "env", "2026-02"); err != nil {
		t.Fatal(err)
	}
	months, err := book.GuessMonths(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range months {
		got = append(got, m.Month)
	}
	// 24 months up to 2026-02 start at 2024-03.
	if strings.Join(got, ",") != "2024-03,2025-06,2026-02" {
		t.Fatalf("months kept: %v", got)
	}
}
