package console

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"gridbot/core"
)

// TestCaseTextSimplifiedAndGuessFigures: a case written in traditional
// characters shows its words as written and a simplified reading; the
// figures give the share of right guesses by month.
func TestCaseTextSimplifiedAndGuessFigures(t *testing.T) {
	book := &core.GuessBook{}
	f := newFixture(t, func(f *fixture) {
		f.srv.Simplify = func(s string) string { return strings.NewReplacer("燈", "灯", "壞", "坏").Replace(s) }
		book.Records = f.store
		f.srv.Guesses = book
	})
	trad := f.submit(t, "g1", "road", "村口路燈壞咗")
	cookie := f.login(t, "cadre1")
	_, body := f.request(t, http.MethodGet, "/api/cases/"+trad, cookie, nil)
	got := decode[struct {
		Case           struct{ Text string }
		TextSimplified string `json:"text_simplified"`
	}](t, body)
	if got.Case.Text != "村口路燈壞咗" || got.TextSimplified != "村口路灯坏咗" {
		t.Errorf("case text %q, simplified %q", got.Case.Text, got.TextSimplified)
	}
	_, body = f.request(t, http.MethodGet, "/api/cases/"+f.cases["g2"], cookie, nil)
	if same := decode[struct {
		TextSimplified string `json:"text_simplified"`
	}](t, body); same.TextSimplified != "" {
		t.Errorf("a simplified case got a reading %q", same.TextSimplified)
	}

	ctx := context.Background()
	for _, n := range []string{"ST1", "ST2", "ST3"} {
		if err := book.NoteGuessed(ctx, n, "road", "2026-11"); err != nil {
			t.Fatal(err)
		}
	}
	if err := book.NoteCorrected(ctx, "ST2"); err != nil {
		t.Fatal(err)
	}
	_, body = f.request(t, http.MethodGet, "/api/figures/guess", cookie, nil)
	months := decode[struct{ Months []guessMonthView }](t, body).Months
	if len(months) != 1 || months[0] != (guessMonthView{Month: "2026-11", Guessed: 3, Corrected: 1, Right: 2, RightRate: "66.7%"}) {
		t.Errorf("guess figures %+v", months)
	}
}
