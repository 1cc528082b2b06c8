package core

import "strings"

// MaskNumbers returns text with the personal numbers people type into a
// description masked: what every channel shows wherever it masks a stored
// phone (MaskPhone). It is the one masking rule; the console, the export and
// Open311 all call it.
//
//   - A mainland mobile (eleven digits starting 13–19) keeps its first three
//     and last four digits: 138****5678. It may be written in one run, or in
//     groups joined by single spaces or dashes (138 1234 5678); a country code
//     in front (+86, 0086, or 86 run together) stays as written.
//   - A landline with its area code (0750-2345678, 0750 2345678,
//     (0750)2345678, 020-12345678) keeps the area code and the last four
//     digits: 0750-***5678.
//   - An ID number (18 digits, or 17 and an X; the old 15 digits) and any
//     other run of 15 to 19 digits (a bank card) keeps its first four and last
//     four characters: 4407**********1234.
//
// A number counts only when it stands apart from other digits, so a case
// number (ST202611250001), a date or an amount is left alone. Full-width
// digits count as digits.
func MaskNumbers(text string) string {
	if !strings.ContainsFunc(text, func(r rune) bool { _, ok := digit(r); return ok }) {
		return text // most descriptions: nothing to mask, nothing to allocate
	}
	runes := []rune(text)
	groups := digitGroups(runes)
	if len(groups) == 0 {
		return text
	}
	var masked []maskSpan
	for i := 0; i < len(groups); i++ {
		g := groups[i]
		digits := g.digits
		if prefix, rest, ok := countryCode(digits); ok && isMobile(rest) {
			masked = append(masked, maskSpan{start: g.start, end: g.end, with: prefix + MaskPhone(rest)})
			continue
		}
		if span, ok := idNumber(runes, g); ok {
			masked = append(masked, span)
			continue
		}
		if span, next, ok := landline(runes, groups, i); ok {
			masked = append(masked, span)
			i = next
			continue
		}
		for j := i; ; j++ {
			if len(digits) == 11 {
				if isMobile(digits) {
					masked = append(masked, maskSpan{start: g.start, end: groups[j].end, with: MaskPhone(digits)})
					i = j
				}
				break
			}
			if len(digits) > 11 || j+1 >= len(groups) || !joined(runes, groups[j], groups[j+1]) {
				break
			}
			digits += groups[j+1].digits
		}
	}
	if len(masked) == 0 {
		return text
	}
	out := make([]rune, 0, len(runes))
	at := 0
	for _, m := range masked {
		out = append(out, runes[at:m.start]...)
		out = append(out, []rune(m.with)...)
		at = m.end
	}
	out = append(out, runes[at:]...)
	return string(out)
}

// maskSpan replaces runes[start:end] with with.
type maskSpan struct {
	start, end int
	with       string
}

// digitGroup is a maximal run of digits, runes[start:end], as ASCII digits.
type digitGroup struct {
	start, end int
	digits     string
}

// countryCode splits 8613812345678 and 008613812345678 into the code and the
// eleven digits after it.
func countryCode(d string) (prefix, rest string, ok bool) {
	switch {
	case len(d) == 13 && d[:2] == "86":
		return d[:2], d[2:], true
	case len(d) == 15 && d[:4] == "0086":
		return d[:4], d[4:], true
	}
	return "", "", false
}

// idNumber masks a run of 15 to 19 digits, or 17 digits and an X (an ID
// number's check character), that no letter or digit touches on the right.
func idNumber(runes []rune, g digitGroup) (maskSpan, bool) {
	n, end := len(g.digits), g.end
	if n == 17 && end < len(runes) && (runes[end] == 'X' || runes[end] == 'x' || runes[end] == 'Ｘ') {
		n, end = 18, end+1
	}
	if n < 15 || n > 19 {
		return maskSpan{}, false
	}
	kept := []rune(string(runes[g.start:end]))
	for i := range kept {
		if d, ok := digit(kept[i]); ok {
			kept[i] = rune(d)
		}
	}
	with := string(kept[:4]) + strings.Repeat("*", n-8) + string(kept[n-4:])
	return maskSpan{start: g.start, end: end, with: with}, true
}

// landline masks an area code and a local number starting at groups[i]:
// 0750-2345678, 0750 2345678, (0750)2345678, or run together (07502345678).
// It returns the index of the last group used.
func landline(runes []rune, groups []digitGroup, i int) (maskSpan, int, bool) {
	g := groups[i]
	area := g.digits
	if len(area) < 3 || area[0] != '0' || area[1] == '0' {
		return maskSpan{}, i, false
	}
	// Run together: an area code of 3 (010, 02x) or 4 digits, then 7 or 8.
	if n := len(area); n >= 10 && n <= 12 {
		code := 4
		if area[1] == '1' || area[1] == '2' {
			code = 3
		}
		if local := n - code; local == 7 || local == 8 {
			return maskSpan{start: g.start, end: g.end, with: area[:code] + maskLocal(area[code:])}, i, true
		}
		return maskSpan{}, i, false
	}
	if len(area) > 4 || i+1 >= len(groups) {
		return maskSpan{}, i, false
	}
	next := groups[i+1]
	sep := string(runes[g.end:next.start])
	open := g.start > 0 && (runes[g.start-1] == '(' || runes[g.start-1] == '（')
	switch {
	case sep == "-" || sep == " " || sep == "－":
	case open && (sep == ")" || sep == "）"):
	default:
		return maskSpan{}, i, false
	}
	if l := len(next.digits); l != 7 && l != 8 {
		return maskSpan{}, i, false
	}
	return maskSpan{start: g.start, end: next.end, with: area + sep + maskLocal(next.digits)}, i + 1, true
}

// maskLocal keeps the last four digits of a local number.
func maskLocal(d string) string {
	return strings.Repeat("*", len(d)-4) + d[len(d)-4:]
}

func digitGroups(runes []rune) []digitGroup {
	var groups []digitGroup
	for i := 0; i < len(runes); {
		if _, ok := digit(runes[i]); !ok {
			i++
			continue
		}
		g := digitGroup{start: i}
		var b []byte
		for ; i < len(runes); i++ {
			d, ok := digit(runes[i])
			if !ok {
				break
			}
			b = append(b, d)
		}
		g.end, g.digits = i, string(b)
		groups = append(groups, g)
	}
	return groups
}

func digit(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), true
	case r >= '０' && r <= '９':
		return byte('0' + r - '０'), true
	}
	return 0, false
}

// joined reports whether two neighbouring groups are separated by exactly one
// space or dash, as in 138 1234 5678.
func joined(runes []rune, a, b digitGroup) bool {
	return b.start-a.end == 1 && (runes[a.end] == ' ' || runes[a.end] == '-')
}

func isMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}
