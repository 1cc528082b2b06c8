package core

import (
	"encoding/hex"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The word index: what a store keeps, in the write that changes a case, so
// that a search reads the cases carrying the searched words instead of
// walking the ledger (docs/benchmarks.md says why character bigrams and
// not bleve). A case is found under its terms:
//
//   - every character of its Chinese text, and every pair of adjacent
//     characters (路灯不亮: 路 灯 不 亮 路灯 灯不 不亮), from the
//     description, the result, the address, the place's label and the
//     name; traditional characters read as simplified (SearchIndex.Simplify),
//     full-width letters and digits as ASCII, letters upper-cased;
//   - every run of Latin letters and digits as one word (LED, 5, 13800138000);
//   - its phone: the digits whole (with and without China's 86) and the
//     last four;
//   - its number's day with and without the prefix (ST20261125, 20261125)
//     and its count (0007). Not the number whole: that would be a key for
//     every case (a tenth of a Valkey ledger's memory), and the day finds
//     it among a day's cases, which Match then narrows to the one.
//
// A search's terms are its pairs (or its character, when it has one), its
// words, or its phone: every case that Match accepts carries all of them,
// so a store that intersects their postings and checks each candidate with
// Match answers exactly as a walk would, save that Latin letters and
// digits match as whole words (LED finds LED灯, not LEDS), a phone whole or
// by its last four digits, a number whole, by its day or by its count — and
// that a whole case number is looked for among its day's cases, so a case
// of another day that mentions it in its text is not found by it.
//
// Terms are personal data (an address, a phone): each goes through the
// Blinder before a store keeps it, so that with encryption on the index
// holds keyed digests, not words.

// TermBlinder turns an index term into the key a store keeps it under: a
// keyed digest when personal data is encrypted at rest. It must be
// deterministic, as the same term is blinded at write and at search.
type TermBlinder interface {
	BlindTerm(term string) string
}

// SearchIndex is the rule of the word index; its zero value keeps terms as
// they are and reads traditional characters as they are.
type SearchIndex struct {
	// Simplify reads traditional characters as simplified
	// (script.Converter.Simplified); nil reads them as written.
	Simplify func(string) string
	// Blind keys each term; nil keeps terms as they are.
	Blind TermBlinder
}

// MaxSearchTerms bounds the terms one search reads: a long search reads
// a spread of its pairs (every other one, which covers each character),
// and Match checks the rest on the candidates.
const MaxSearchTerms = 8

// maxWordLen bounds a word term (bytes); a longer run is indexed by its
// start.
const maxWordLen = 32

// Parse reads a search as ParseSearch does, with this index's reading of
// traditional characters, so that Match and the index agree.
func (x SearchIndex) Parse(s string) CaseSearch {
	q := ParseSearch(s)
	if x.Simplify != nil {
		q.simplify = x.Simplify
		q.text = q.norm(q.text)
	}
	return q
}

// CaseTerms lists the keys case c is indexed under, blinded, each once,
// sorted.
func (x SearchIndex) CaseTerms(c *Case) []string {
	set := map[string]bool{}
	add := func(t string) { set[t] = true }
	for _, s := range []string{c.Text, c.Result, c.Address, c.Contact, locationLabel(c)} {
		if s != "" {
			textTerms(x.norm(s), true, add)
		}
	}
	if c.Phone != "" {
		phoneTerms(c.Phone, add)
	}
	if c.Number != "" {
		numberTerms(c.Number, add)
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, x.blind(t))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// probeCase is the fixed case whose terms tell one rule from another.
func probeCase() *Case {
	return &Case{Number: "ST202601010001", Text: "路燈 LED", Phone: "13800138000"}
}

// Probe is what the rule makes of a fixed case. A store keeps it with the
// index it built, and builds the index again when opened under a rule the
// kept probe does not serve (IndexServes).
func (x SearchIndex) Probe() string { return strings.Join(x.CaseTerms(probeCase()), "\x00") }

// IndexServes reports whether an index built under the rule that gave
// probe serves this rule: the same rule, or the one before it, which also
// kept every case under its number whole — postings a search no longer
// reads, so they take room but answer rightly, and a ledger of a million
// cases is not indexed again for them.
func (x SearchIndex) IndexServes(probe string) bool {
	if probe == x.Probe() {
		return true
	}
	c := probeCase()
	before := append(x.CaseTerms(c), x.blind(c.Number))
	slices.Sort(before)
	return probe == strings.Join(slices.Compact(before), "\x00")
}

// QueryTerms lists the keys a case must carry to answer q, blinded, at
// most MaxSearchTerms; ok is false when q has none (punctuation alone),
// and the store then walks as before.
func (x SearchIndex) QueryTerms(q CaseSearch) (terms []string, ok bool) {
	if q.text == "" {
		return nil, false
	}
	var raw []string
	if d := q.digits; d != "" {
		if len(d) == 13 && strings.HasPrefix(d, "86") {
			d = d[2:] // the case may carry it with or without 86
		}
		raw = []string{d}
	} else {
		seen := map[string]bool{}
		textTerms(x.norm(q.text), false, func(t string) {
			if !seen[t] {
				seen[t] = true
				raw = append(raw, t)
			}
		})
	}
	if len(raw) == 0 {
		return nil, false
	}
	for i, t := range raw {
		if day, ok := numberDay(t); ok {
			raw[i] = day
		}
	}
	for len(raw) > MaxSearchTerms {
		// Every other term: adjacent pairs overlap by a character, so
		// the kept ones still cover the text; the last is kept.
		var half []string
		for i := 0; i < len(raw); i += 2 {
			half = append(half, raw[i])
		}
		if len(raw)%2 == 0 {
			half = append(half, raw[len(raw)-1])
		}
		raw = half
	}
	for i, t := range raw {
		raw[i] = x.blind(t)
	}
	return raw, true
}

func (x SearchIndex) blind(t string) string {
	if x.Blind != nil {
		t = x.Blind.BlindTerm(t)
	}
	if strings.IndexByte(t, 0) >= 0 {
		// Stores end a term with a zero byte in their keys.
		t = hex.EncodeToString([]byte(t))
	}
	return t
}

// norm is how the index and Match read text: full-width letters and
// digits as ASCII, upper-cased, traditional as simplified.
func (x SearchIndex) norm(s string) string { return normText(s, x.Simplify) }

func normText(s string, simplify func(string) string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			return r - 0xFEE0
		case r == 0x3000: // ideographic space
			return ' '
		}
		return r
	}, s)
	s = strings.ToUpper(s)
	if simplify != nil {
		s = simplify(s)
	}
	return s
}

// textTerms calls add with the terms of normalised text s: its words, and
// for each run of other letters its pairs, and its characters when all is
// set (a case) or when the run is one character long (a search).
func textTerms(s string, all bool, add func(string)) {
	wordStart, hanStart := -1, -1
	var prev rune
	flushWord := func(end int) {
		if wordStart >= 0 {
			w := s[wordStart:end]
			if len(w) > maxWordLen {
				w = w[:maxWordLen]
			}
			add(w)
			wordStart = -1
		}
	}
	for i, r := range s {
		switch {
		case r < utf8.RuneSelf && (r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z'):
			hanStart = -1
			if wordStart < 0 {
				wordStart = i
			}
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsNumber(r)):
			flushWord(i)
			if all {
				add(string(r))
			}
			if hanStart >= 0 {
				add(string(prev) + string(r))
			} else if !all && runLen(s[i:]) == 1 {
				add(string(r))
			}
			if hanStart < 0 {
				hanStart = i
			}
			prev = r
		default:
			flushWord(i)
			hanStart = -1
		}
	}
	flushWord(len(s))
}

// runLen counts the letters (not ASCII) at the start of s, up to two.
func runLen(s string) int {
	n := 0
	for _, r := range s {
		if r < utf8.RuneSelf || !(unicode.IsLetter(r) || unicode.IsNumber(r)) || n == 2 {
			break
		}
		n++
	}
	return n
}

// phoneTerms adds a phone's digits whole, without China's 86, and its last
// four.
func phoneTerms(phone string, add func(string)) {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	if len(d) < 4 {
		return
	}
	add(d)
	if len(d) == 13 && strings.HasPrefix(d, "86") {
		add(d[2:])
	}
	add(d[len(d)-4:])
}

// numberTerms adds a case number's day with and without the prefix, and
// its count (FormatCaseNumber: prefix, yyyymmdd, count); a number of
// another shape is kept whole.
func numberTerms(number string, add func(string)) {
	n := strings.ToUpper(number)
	day, ok := numberDay(n)
	if !ok {
		add(n)
		return
	}
	add(day)
	add(day[len(day)-8:])
	add(n[len(day):])
}

// numberDay is the prefix and day of a term shaped as a case number
// (letters, then yyyymmdd and a count of four digits or more), which is
// what the index holds for the number whole.
func numberDay(t string) (string, bool) {
	digits := strings.LastIndexFunc(t, func(r rune) bool { return r < '0' || r > '9' }) + 1
	if digits == 0 || len(t)-digits < 12 {
		return "", false
	}
	for _, r := range t[:digits] {
		if r < 'A' || r > 'Z' {
			return "", false
		}
	}
	return t[:digits+8], true
}
