package core

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Colloquial is one word or phrase as residents write it in their own
// speech (written Cantonese: 咗, 冇, 唔该, 街灯, 电单车), with its Mandarin
// sense. Both sides are in simplified characters: traditional text is
// simplified before the lexicon reads it.
type Colloquial struct {
	Written  string `json:"written"`
	Mandarin string `json:"mandarin"`
}

// Lexicon reads colloquial writing as Mandarin, so the category cues and
// the answers the dialogs understand (好, 冇问题 → 没问题) need to be
// written once, in Mandarin. It is configuration: read-only once built.
type Lexicon struct {
	entries  []Colloquial
	replacer *strings.Replacer
}

// MaxColloquialRunes bounds one side of a lexicon entry.
const MaxColloquialRunes = 20

// NewLexicon builds a lexicon; the longest written form wins where two
// overlap ("唔该" before "唔"). The error names the first bad entry: an
// empty or overlong side, or a written form given twice.
func NewLexicon(entries []Colloquial) (*Lexicon, error) {
	l := &Lexicon{entries: slices.Clone(entries)}
	seen := make(map[string]bool, len(entries))
	for _, e := range l.entries {
		w, m := utf8.RuneCountInString(e.Written), utf8.RuneCountInString(e.Mandarin)
		switch {
		case strings.TrimSpace(e.Written) == "" || strings.TrimSpace(e.Mandarin) == "":
			return nil, fmt.Errorf("lexicon entry %q: both the written form and its Mandarin are needed: %w", e.Written, ErrInvalid)
		case w > MaxColloquialRunes || m > MaxColloquialRunes:
			return nil, fmt.Errorf("lexicon entry %q: longer than %d characters: %w", e.Written, MaxColloquialRunes, ErrInvalid)
		case seen[e.Written]:
			return nil, fmt.Errorf("lexicon entry %q: given twice: %w", e.Written, ErrInvalid)
		}
		seen[e.Written] = true
	}
	// strings.Replacer tries the old strings in argument order at each
	// position: longest first makes the longest match win.
	slices.SortStableFunc(l.entries, func(a, b Colloquial) int {
		return utf8.RuneCountInString(b.Written) - utf8.RuneCountInString(a.Written)
	})
	pairs := make([]string, 0, 2*len(l.entries))
	for _, e := range l.entries {
		pairs = append(pairs, e.Written, e.Mandarin)
	}
	l.replacer = strings.NewReplacer(pairs...)
	return l, nil
}

// Mandarin returns s with every colloquial word read as Mandarin, in one
// pass (a replacement is never read again). A nil lexicon returns s.
func (l *Lexicon) Mandarin(s string) string {
	if l == nil || len(l.entries) == 0 {
		return s
	}
	return l.replacer.Replace(s)
}

// Entries returns the lexicon's entries, longest written form first.
func (l *Lexicon) Entries() []Colloquial {
	if l == nil {
		return nil
	}
	return slices.Clone(l.entries)
}
