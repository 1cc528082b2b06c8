package core

import (
	"strings"
	"unicode"
)

// Searching the ledger as a desk does: by case number, by words of the
// description, address or place, by phone number (whole, or its last four
// digits, as people read them out), and by the name a resident gave. The
// rule is pure: stores and the console filter with it (CaseQuery.Keep), a
// store may narrow the candidates with an index first.
//
// A phone, a name and an address are personal data: they match only on the
// cases whose personal data the searcher may read (Town.SeesPersonalData).
// For anyone else only the number and the description match, and the
// description as they read it, its numbers masked — so a search cannot
// learn which cases carry a phone the searcher may not see.

// CaseSearch is what staff typed into the search, read once.
type CaseSearch struct {
	text   string // as typed, trimmed, read as normText reads it
	digits string // the digits, when the search is a phone number or its end
	// simplify reads traditional characters as simplified, in the search
	// and in the cases (SearchIndex.Parse); nil reads them as written.
	simplify func(string) string
}

// norm reads s as the search was read: full-width letters and digits as
// ASCII, upper-cased, traditional as simplified when the search was parsed
// so (SearchIndex.Parse).
func (q CaseSearch) norm(s string) string { return normText(s, q.simplify) }

// MaxSearchLen bounds a search (runes); longer is cut.
const MaxSearchLen = 50

// ParseSearch reads a search. A search of four or more digits (spaces and
// dashes aside) may be a phone number or its last four digits.
func ParseSearch(s string) CaseSearch {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > MaxSearchLen {
		s = string(r[:MaxSearchLen])
	}
	q := CaseSearch{text: normText(s, nil)}
	s = strings.TrimSpace(strings.Map(func(r rune) rune { // full-width digits as ASCII
		if r >= 0xFF01 && r <= 0xFF5E {
			return r - 0xFEE0
		}
		return r
	}, s))
	if p, ok := NormalPhone(s); ok {
		q.digits = strings.TrimPrefix(p, "+")
	} else if len(s) == 4 && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		q.digits = s
	}
	return q
}

// Empty reports whether there is nothing to search for.
func (q CaseSearch) Empty() bool { return q.text == "" }

// Match reports whether c answers the search; personal is whether the
// searcher may read c's personal data.
func (q CaseSearch) Match(c *Case, personal bool) bool {
	if q.text == "" {
		return true
	}
	if strings.Contains(strings.ToUpper(c.Number), q.text) {
		return true
	}
	text := c.Text
	if !personal {
		text = MaskNumbers(text)
	}
	if strings.Contains(q.norm(text), q.text) || personal && strings.Contains(q.norm(c.Result), q.text) {
		return true
	}
	if !personal {
		return false
	}
	if q.digits != "" && c.Phone != "" {
		phone := strings.TrimPrefix(c.Phone, "+")
		if len(q.digits) == 4 && strings.HasSuffix(phone, q.digits) || len(q.digits) > 4 && strings.Contains(phone, q.digits) {
			return true
		}
	}
	for _, s := range []string{c.Contact, c.Address, locationLabel(c)} {
		if s != "" && strings.Contains(q.norm(s), q.text) {
			return true
		}
	}
	return false
}

func locationLabel(c *Case) string {
	if c.Location == nil {
		return ""
	}
	return c.Location.Label
}

// Text is the search as typed (letters upper-cased, full-width ones as
// ASCII): for matching other
// records, such as household files' names and addresses.
func (q CaseSearch) Text() string { return q.text }

// Phone is the search as a whole phone number (more than four digits), or
// "".
func (q CaseSearch) Phone() string {
	if len(q.digits) > 4 {
		return q.digits
	}
	return ""
}
