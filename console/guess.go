package console

import (
	"context"
	"net/http"
	"strconv"

	"gridbot/core"
)

// What staff see of how residents write and how well the category guess
// does (issue 16): a case's words as written plus, where it differs, a
// simplified reading; and the share of right guesses month by month.

// GuessFigures reads the category guess's months; *core.GuessBook
// satisfies it.
type GuessFigures interface {
	GuessMonths(ctx context.Context) ([]core.GuessMonth, error)
}

var _ GuessFigures = (*core.GuessBook)(nil)

// simplifiedReading is text in simplified characters, or "" when it reads
// the same (or the server has no Simplify).
func (s *Server) simplifiedReading(text string) string {
	if s.Simplify == nil {
		return ""
	}
	if r := s.Simplify(text); r != text {
		return r
	}
	return ""
}

// guessMonthView is one month of guesses as the figures page shows it.
type guessMonthView struct {
	Month     string `json:"month"`
	Guessed   int    `json:"guessed"`
	Corrected int    `json:"corrected"`
	Right     int    `json:"right"`
	RightRate string `json:"right_rate"` // "92.3%", "—" with no guess
}

// handleGuessFigures answers GET /api/figures/guess: {"months":[…]}, the
// cases filed with the guessed category each month, how many staff
// corrected (更正), and the share right.
func (s *Server) handleGuessFigures(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
	out := []guessMonthView{}
	if s.Guesses != nil {
		months, err := s.Guesses.GuessMonths(r.Context())
		if err != nil {
			s.figuresFailed(w, r, staff, err)
			return
		}
		for _, m := range months {
			rate := "—"
			if m.Guessed > 0 {
				rate = strconv.FormatFloat(100*float64(m.Right())/float64(m.Guessed), 'f', 1, 64) + "%"
			}
			out = append(out, guessMonthView{Month: m.Month, Guessed: m.Guessed, Corrected: m.Corrected, Right: m.Right(), RightRate: rate})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"months": out})
}
