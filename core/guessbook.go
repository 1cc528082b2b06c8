package core

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Namespaces of the guess's records.
const (
	nsGuessExamples = "guess-examples" // Example by key
	nsGuessCases    = "guess-cases"    // GuessedCase by case number
)

// GuessedCase records that a case was filed with the category the guess
// offered; Corrected is set when staff changed it. A guess is right when
// staff never changed the category.
type GuessedCase struct {
	Month     string `json:"month"` // 2006-01, in the town's zone
	Category  string `json:"category"`
	Corrected bool   `json:"corrected,omitempty"`
}

// GuessMonth is one month of guesses: how many cases were filed with the
// guessed category, and how many of those staff corrected.
type GuessMonth struct {
	Month     string `json:"month"`
	Guessed   int    `json:"guessed"`
	Corrected int    `json:"corrected"`
}

// Right is how many of the month's guesses staff left as they were.
func (g GuessMonth) Right() int { return g.Guessed - g.Corrected }

// GuessBook keeps what the category guess learns from, in the store every
// instance shares: the examples staff corrections give, and which cases
// were filed on a guess.
type GuessBook struct {
	Records Records
	// MaxExamples bounds the examples kept; zero means MaxGuessExamples.
	MaxExamples int

	mu         sync.Mutex
	prunedInto string // the month whose first guess last pruned the old months
}

// GuessMonthsKept is how many months of guessed cases the figures keep:
// the record of each case filed on a guess is forgotten once its month is
// this far behind, so the figures, which read them all, stay bounded.
const GuessMonthsKept = 24

// MaxGuessExamples is how many corrections the guess keeps learning from:
// about sixteen months at twenty corrections a day, more than the year a
// guess is measured with (BenchmarkGuess). Past it the oldest are
// forgotten first, so the store, the model each instance builds and the
// cost of a guess stay bounded, and the model follows how the town writes
// now.
const MaxGuessExamples = 10000

func (b *GuessBook) maxExamples() int {
	if b.MaxExamples > 0 {
		return b.MaxExamples
	}
	return MaxGuessExamples
}

// MaxExampleGrams bounds one example: a case's text is at most
// MaxTextLen characters, two grams each.
const MaxExampleGrams = 2 * MaxTextLen

// AddExample keeps ex; the same key again replaces it.
func (b *GuessBook) AddExample(ctx context.Context, ex Example) error {
	if ex.Key == "" || ex.Category == "" || len(ex.Grams) > MaxExampleGrams {
		return fmt.Errorf("guess example: key and category are needed: %w", ErrInvalid)
	}
	v, err := json.Marshal(ex)
	if err != nil {
		return fmt.Errorf("guess example: %w", err)
	}
	if err := b.Records.PutRecord(ctx, nsGuessExamples, ex.Key, v); err != nil {
		return fmt.Errorf("guess example: %w", err)
	}
	return b.prune(ctx)
}

// prune forgets the oldest examples beyond the bound. Keys are the ledger's
// event numbers, so the smallest are the oldest.
func (b *GuessBook) prune(ctx context.Context) error {
	all, err := b.Records.RecordsIn(ctx, nsGuessExamples)
	if err != nil {
		return fmt.Errorf("guess example: prune: %w", err)
	}
	over := len(all) - b.maxExamples()
	if over <= 0 {
		return nil
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, byAge)
	for _, k := range keys[:over] {
		if err := b.Records.DeleteRecord(ctx, nsGuessExamples, k); err != nil {
			return fmt.Errorf("guess example: prune: %w", err)
		}
	}
	return nil
}

// byAge orders example keys (event numbers) oldest first.
func byAge(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// Examples returns every example kept, by key.
func (b *GuessBook) Examples(ctx context.Context) ([]Example, error) {
	all, err := b.Records.RecordsIn(ctx, nsGuessExamples)
	if err != nil {
		return nil, fmt.Errorf("guess examples: %w", err)
	}
	out := make([]Example, 0, len(all))
	for _, v := range all {
		var ex Example
		if err := json.Unmarshal(v, &ex); err != nil {
			continue // a record this version cannot read teaches nothing
		}
		out = append(out, ex)
	}
	slices.SortFunc(out, func(a, b Example) int { return byAge(a.Key, b.Key) })
	return out, nil
}

// ResetExamples forgets every example: the guess starts again from the
// configured cues alone. It returns how many were forgotten.
func (b *GuessBook) ResetExamples(ctx context.Context) (int, error) {
	all, err := b.Records.RecordsIn(ctx, nsGuessExamples)
	if err != nil {
		return 0, fmt.Errorf("guess reset: %w", err)
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if err := b.Records.DeleteRecord(ctx, nsGuessExamples, k); err != nil {
			return 0, fmt.Errorf("guess reset: %w", err)
		}
	}
	return len(keys), nil
}

// NoteGuessed records that case number was filed in month (Town.MonthKey)
// with the guessed category.
func (b *GuessBook) NoteGuessed(ctx context.Context, number, category, month string) error {
	v, err := json.Marshal(GuessedCase{Month: month, Category: category})
	if err != nil {
		return fmt.Errorf("note guessed: %w", err)
	}
	if err := b.Records.PutRecord(ctx, nsGuessCases, number, v); err != nil {
		return fmt.Errorf("note guessed: %w", err)
	}
	return b.pruneMonths(ctx, month)
}

// pruneMonths forgets the guessed cases of months GuessMonthsKept or more
// before month; it looks once a month (per instance), when the month's
// first guess is noted.
func (b *GuessBook) pruneMonths(ctx context.Context, month string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prunedInto == month {
		return nil
	}
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return nil // a month this version cannot read: nothing to compare with
	}
	oldest := t.AddDate(0, -(GuessMonthsKept - 1), 0).Format("2006-01")
	all, err := b.Records.RecordsIn(ctx, nsGuessCases)
	if err != nil {
		return fmt.Errorf("note guessed: prune: %w", err)
	}
	var old []string
	for k, v := range all {
		var g GuessedCase
		if json.Unmarshal(v, &g) == nil && g.Month != "" && g.Month < oldest {
			old = append(old, k)
		}
	}
	for _, k := range old {
		if err := b.Records.DeleteRecord(ctx, nsGuessCases, k); err != nil {
			return fmt.Errorf("note guessed: prune: %w", err)
		}
	}
	b.prunedInto = month
	return nil
}

// NoteCorrected marks case number's guess wrong, if it was filed on one.
func (b *GuessBook) NoteCorrected(ctx context.Context, number string) error {
	v, ok, err := b.Records.Record(ctx, nsGuessCases, number)
	if err != nil || !ok {
		return err
	}
	var g GuessedCase
	if err := json.Unmarshal(v, &g); err != nil || g.Corrected {
		return nil
	}
	g.Corrected = true
	if v, err = json.Marshal(g); err != nil {
		return fmt.Errorf("note corrected: %w", err)
	}
	if err := b.Records.PutRecord(ctx, nsGuessCases, number, v); err != nil {
		return fmt.Errorf("note corrected: %w", err)
	}
	return nil
}

// GuessMonths returns the share of right guesses month by month, oldest
// first.
func (b *GuessBook) GuessMonths(ctx context.Context) ([]GuessMonth, error) {
	all, err := b.Records.RecordsIn(ctx, nsGuessCases)
	if err != nil {
		return nil, fmt.Errorf("guess months: %w", err)
	}
	by := map[string]*GuessMonth{}
	for _, v := range all {
		var g GuessedCase
		if json.Unmarshal(v, &g) != nil || g.Month == "" {
			continue
		}
		m := by[g.Month]
		if m == nil {
			m = &GuessMonth{Month: g.Month}
			by[g.Month] = m
		}
		m.Guessed++
		if g.Corrected {
			m.Corrected++
		}
	}
	out := make([]GuessMonth, 0, len(by))
	for _, m := range by {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b GuessMonth) int {
		switch {
		case a.Month < b.Month:
			return -1
		case a.Month > b.Month:
			return 1
		}
		return 0
	})
	return out, nil
}
