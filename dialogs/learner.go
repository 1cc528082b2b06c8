package dialogs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gridbot/core"
)

// ExampleBook keeps the examples the guess learns from, shared by every
// instance; *core.GuessBook satisfies it.
type ExampleBook interface {
	AddExample(ctx context.Context, ex core.Example) error
	Examples(ctx context.Context) ([]core.Example, error)
	NoteCorrected(ctx context.Context, number string) error
}

var _ ExampleBook = (*core.GuessBook)(nil)

// CaseReader returns one case; *core.Ledger satisfies it.
type CaseReader interface {
	Case(ctx context.Context, number string) (core.Case, error)
}

// Learner is the category guess's memory of staff corrections: every time
// staff change a case's category (更正, core.EventReclassified), the case's
// words become an example of the category chosen, kept in the shared
// ExampleBook; each instance learns the examples it has not seen yet
// (Refresh) into an in-process naive Bayes model (core.GuessModel) that
// Reader adds to the configured cues. It implements CategoryModel.
type Learner struct {
	Book   ExampleBook
	Cases  CaseReader
	Town   core.TownSource
	Script Script
	Log    *slog.Logger

	mu    sync.RWMutex
	model *core.GuessModel
	keys  map[string]bool // examples in model
}

// Posterior implements CategoryModel.
func (l *Learner) Posterior(text string, codes []string, out []float64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	l.model.Posterior(text, codes, out)
}

// Examples is how many examples the model in this instance learnt from.
func (l *Learner) Examples() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.model.Examples()
}

// exampleText is a case's words as the guess reads them.
func (l *Learner) exampleText(town *core.Town, text string) string {
	read, _ := Reader{Script: l.Script}.Read(town, text)
	return town.WithoutPlaceNames(read)
}

// Teach learns one example in this instance only, without the book: what
// the measurements replay.
func (l *Learner) Teach(town *core.Town, key, text, category string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.learnLocked(core.Example{Key: key, Grams: core.GuessGrams(l.exampleText(town, text)), Category: category})
}

func (l *Learner) learnLocked(ex core.Example) {
	if l.model == nil {
		l.model, l.keys = core.NewGuessModel(), map[string]bool{}
	}
	if l.keys[ex.Key] {
		return
	}
	l.keys[ex.Key] = true
	l.model.Learn(ex.Grams, ex.Category)
}

// Learn is the router's handler of a correction: it keeps the case's words
// as an example of the new category, marks a guess that staff corrected,
// and learns the example here at once (other instances at their next
// Refresh). Other events are ignored.
func (l *Learner) Learn(ctx context.Context, ev core.Event) error {
	cat, old := ev.Data[core.DataCategory], ev.Data[core.DataOldCategory]
	if ev.Kind != core.EventReclassified || cat == "" || cat == old {
		return nil
	}
	c, err := l.Cases.Case(ctx, ev.Case)
	if err != nil {
		return fmt.Errorf("learn from %s: %w", ev.Case, err)
	}
	if err := l.Book.NoteCorrected(ctx, ev.Case); err != nil {
		return fmt.Errorf("learn from %s: %w", ev.Case, err)
	}
	if c.Text == "" {
		return nil // erased (retention): nothing to learn
	}
	grams := core.GuessGrams(l.exampleText(l.Town.Town(), c.Text))
	ex := core.Example{Key: ev.ID(), Grams: grams[:min(len(grams), core.MaxExampleGrams)], Category: cat, Case: c.Number}
	if err := l.Book.AddExample(ctx, ex); err != nil {
		return fmt.Errorf("learn from %s: %w", ev.Case, err)
	}
	l.mu.Lock()
	l.learnLocked(ex)
	l.mu.Unlock()
	return nil
}

// Refresh learns the examples in the book this instance has not learnt;
// when examples it learnt are gone (the book was reset) it starts again
// from those that remain.
func (l *Learner) Refresh(ctx context.Context) error {
	all, err := l.Book.Examples(ctx)
	if err != nil {
		return fmt.Errorf("guess refresh: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	present := 0
	for _, ex := range all {
		if l.keys[ex.Key] {
			present++
		}
	}
	if present < len(l.keys) {
		l.model, l.keys = nil, nil
	}
	for _, ex := range all {
		l.learnLocked(ex)
	}
	return nil
}

// Run refreshes every interval until ctx is done.
func (l *Learner) Run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if err := l.Refresh(ctx); err != nil && ctx.Err() == nil && l.Log != nil {
			l.Log.ErrorContext(ctx, "category guess refresh failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
