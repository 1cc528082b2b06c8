package dialogs

import (
	"math"
	"slices"

	"gridbot/core"
)

// How residents' words are read before they are understood: traditional
// characters simplified (Script), then normalised like any reply, then
// colloquial words read as Mandarin (the town's Lexicon). What the
// resident wrote is kept as written; only the reading is understood.

// Script converts between traditional and simplified characters;
// *script.Converter satisfies it.
type Script interface {
	// Simplified returns s in simplified characters.
	Simplified(s string) string
	// Traditional returns s in (Hong Kong) traditional characters.
	Traditional(s string) string
}

// CategoryModel weighs text for categories from what staff corrections
// taught (*Learner satisfies it): Posterior writes into out, for each of
// codes, the probability it gives text belonging to it, or all zero when
// it has nothing to say.
type CategoryModel interface {
	Posterior(text string, codes []string, out []float64)
}

// Reader understands what residents write: their script, their words, and
// their category. The zero Reader reads text as written with the town's
// lexicon and guesses from the configured cues alone.
type Reader struct {
	Script Script
	Model  CategoryModel
}

// Read returns how text is understood: simplified, normalised, colloquial
// words in Mandarin; traditional reports whether text held traditional
// characters.
func (r Reader) Read(town *core.Town, text string) (read string, traditional bool) {
	simple := text
	if r.Script != nil {
		simple = r.Script.Simplified(text)
	}
	return town.Lexicon.Mandarin(normalize(simple)), simple != text
}

// modelWeight is the score a category gets from the learnt model when the
// model is sure of it (posterior 1); guessMinScore is 3, so the model
// alone names a category when it gives it more than half.
const modelWeight = 8

// Scores scores every category of town against text (as written), best
// first (ties in list order), those above zero only: the configured cues
// (core.Cue) found in the reading, place names left out, plus the learnt
// model's weight. A reloaded category list takes effect at once.
func (r Reader) Scores(town *core.Town, text string) []Guess {
	read, _ := r.Read(town, text)
	return r.scoresRead(town, read)
}

// Guess returns the category text most likely belongs to, and a second one
// when it scores close to the first; nil when nothing scores enough.
func (r Reader) Guess(town *core.Town, text string) []Guess {
	read, _ := r.Read(town, text)
	return r.guessRead(town, read)
}

func (r Reader) guessRead(town *core.Town, read string) []Guess {
	all := r.scoresRead(town, read)
	if len(all) == 0 || all[0].Score < guessMinScore {
		return nil
	}
	if len(all) > 1 && float64(all[1].Score) >= guessClose*float64(all[0].Score) {
		return all[:2]
	}
	return all[:1]
}

// scoresRead scores text already read (Read).
func (r Reader) scoresRead(town *core.Town, read string) []Guess {
	text := town.WithoutPlaceNames(read)
	var codesBuf [16]string
	var postBuf [16]float64
	codes, post := codesBuf[:0], postBuf[:0]
	if r.Model != nil {
		for _, c := range town.Categories {
			codes = append(codes, c.Code)
		}
		post = slices.Grow(post, len(codes))[:len(codes)]
		r.Model.Posterior(text, codes, post)
	}
	var out []Guess
	for i, c := range town.Categories {
		score := 0
		for _, cue := range c.Cues {
			if cueMatches(text, cue.Phrase) {
				score += cue.Weight
			}
		}
		if i < len(post) {
			score += int(math.Round(modelWeight * post[i]))
		}
		if score > 0 {
			out = append(out, Guess{Code: c.Code, Score: score})
		}
	}
	slices.SortStableFunc(out, func(a, b Guess) int { return b.Score - a.Score })
	return out
}
