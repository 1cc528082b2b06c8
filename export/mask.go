package export

import "gridbot/core"

// MaskPhones returns text with every mainland mobile number in it masked the
// way core.MaskPhone masks a stored one (138****5678). A number counts when
// its eleven digits start with 13–19 and stand apart from other digits:
// written in one run (13812345678) or in groups joined by single spaces or
// dashes (138 1234 5678, 138-1234-5678); a country code in front (+86,
// 0086, or 86 run together with the number) stays as written.
// Longer digit runs (an ID number, a case number) are left alone. Full-width
// digits count as digits.
func MaskPhones(text string) string {
	runes := []rune(text)
	groups := digitGroups(runes)
	if len(groups) == 0 {
		return text
	}
	var masked []digitGroup // spans to replace, in order
	for i := 0; i < len(groups); i++ {
		digits := groups[i].digits
		if prefix, rest, ok := countryCode(digits); ok && isMobile(rest) {
			masked = append(masked, digitGroup{start: groups[i].start, end: groups[i].end, digits: rest, prefix: prefix})
			continue
		}
		for j := i; ; j++ {
			if len(digits) == 11 {
				if isMobile(digits) {
					masked = append(masked, digitGroup{start: groups[i].start, end: groups[j].end, digits: digits})
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
		out = append(out, []rune(m.prefix+core.MaskPhone(m.digits))...)
		at = m.end
	}
	out = append(out, runes[at:]...)
	return string(out)
}

// digitGroup is a maximal run of digits, runes[start:end], as ASCII digits;
// prefix is a country code kept in front of a masked number.
type digitGroup struct {
	start, end int
	digits     string
	prefix     string
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
