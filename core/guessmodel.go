package core

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// A guess that learns: every time staff correct a case's category (更正),
// the case's words become an example of the category staff chose, and a
// naive Bayes model over the characters and character pairs of those
// examples learns this town's way of putting things. The configured cues
// stay; the model adds its weight to them (see dialogs).

// Example is one case's words labelled with the category staff settled on.
// The words are kept only as the hashes of their characters and character
// pairs (GuessGrams of the words as the guess reads them): enough to learn
// from, and no resident's sentence, name or phone number to keep safe or
// to erase when the case's personal data is.
type Example struct {
	// Key identifies the correction the example came from (the ledger
	// event's sequence number), so a correction handled twice counts once.
	Key      string   `json:"key"`
	Grams    []uint64 `json:"grams"`
	Category string   `json:"category"`
	Case     string   `json:"case,omitempty"`
}

// GuessGrams returns the hashes of text's characters and pairs of
// characters, as the model learns them.
func GuessGrams(text string) []uint64 {
	var out []uint64
	eachGram(text, func(h uint64) { out = append(out, h) })
	return out
}

// GuessModel is a multinomial naive Bayes model over character unigrams
// and bigrams. It is not safe for concurrent writes; readers of a model
// that no longer changes may share it.
type GuessModel struct {
	cats   map[string]int       // category → index into the slices below
	docs   []int                // examples per category
	tokens []int                // n-grams per category
	grams  map[uint64][]float32 // n-gram hash → log(1+count) per category index
	counts map[uint64][]int32   // n-gram hash → count per category index
	total  int
}

// NewGuessModel returns an empty model.
func NewGuessModel() *GuessModel {
	return &GuessModel{cats: map[string]int{}, grams: map[uint64][]float32{}, counts: map[uint64][]int32{}}
}

// Examples is how many examples the model learnt from.
func (m *GuessModel) Examples() int {
	if m == nil {
		return 0
	}
	return m.total
}

// Learn adds one example: the n-gram hashes of its words (GuessGrams).
func (m *GuessModel) Learn(grams []uint64, category string) {
	if category == "" {
		return
	}
	ci, ok := m.cats[category]
	if !ok {
		ci = len(m.docs)
		m.cats[category] = ci
		m.docs, m.tokens = append(m.docs, 0), append(m.tokens, 0)
	}
	m.docs[ci]++
	m.total++
	for _, g := range grams {
		n := m.counts[g]
		if len(n) <= ci {
			n = append(n, make([]int32, ci+1-len(n))...)
			m.grams[g] = append(m.grams[g], make([]float32, ci+1-len(m.grams[g]))...)
			m.counts[g] = n
		}
		n[ci]++
		m.grams[g][ci] = float32(math.Log1p(float64(n[ci])))
		m.tokens[ci]++
	}
}

// Posterior writes into out, for each of codes, the probability the model
// gives text belonging to it, weighted by the share of the text's n-grams
// the model has seen (so they sum to that share, at most 1); all zero when
// the model knows none of the text's n-grams. Categories the model has no
// example of get a smoothed share.
func (m *GuessModel) Posterior(text string, codes []string, out []float64) {
	clear(out)
	if m == nil || m.total == 0 || len(codes) == 0 {
		return
	}
	vocab := float64(len(m.grams)) + 1
	var idxBuf [16]int
	idx := idxBuf[:0]
	for _, c := range codes {
		ci, ok := m.cats[c]
		if !ok {
			ci = -1
		}
		idx = append(idx, ci)
	}
	// log P(c) + Σ_g log((n_cg+1)/(N_c+V)) over the grams the model knows;
	// the sum is split so that each gram costs one map lookup.
	seen, all := 0, 0
	eachGram(text, func(g uint64) {
		all++
		per, ok := m.grams[g]
		if !ok {
			return
		}
		seen++
		for i, ci := range idx {
			if ci >= 0 && ci < len(per) {
				out[i] += float64(per[ci])
			}
		}
	})
	if seen == 0 {
		return
	}
	best := math.Inf(-1)
	for i, ci := range idx {
		docs, tokens := 0, 0
		if ci >= 0 {
			docs, tokens = m.docs[ci], m.tokens[ci]
		}
		prior := math.Log((float64(docs) + 1) / (float64(m.total) + float64(len(codes))))
		out[i] += prior - float64(seen)*math.Log(float64(tokens)+vocab)
		best = max(best, out[i])
	}
	sum := 0.0
	for i := range out {
		out[i] = math.Exp(out[i] - best)
		sum += out[i]
	}
	// A text the model knows little of gets little of its weight: when
	// corrections taught one category only, every word it learnt points
	// there, and an unrelated message sharing a few common characters
	// must not be pulled along.
	known := float64(seen) / float64(all)
	for i := range out {
		out[i] = out[i] / sum * known
	}
}

// eachGram calls fn with the FNV-1a hash of each letter of text and of
// each pair of letters next to each other; spaces and punctuation break
// pairs. Hashing as it goes keeps a guess free of allocations.
func eachGram(text string, fn func(uint64)) {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	hash := func(b string) uint64 {
		h := uint64(offset)
		for i := 0; i < len(b); i++ {
			h ^= uint64(b[i])
			h *= prime
		}
		return h
	}
	prev := -1
	for i, r := range text {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			prev = -1
			continue
		}
		end := i + utf8.RuneLen(r)
		fn(hash(text[i:end]))
		if prev >= 0 {
			fn(hash(text[prev:end]))
		}
		prev = i
	}
}
