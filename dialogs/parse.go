package dialogs

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// normalize prepares a resident's reply for matching against keywords,
// numbers and names: full-width ASCII becomes half-width (so "２" reads as
// "2"), the ideographic space becomes a space, the ends are trimmed, and
// trailing sentence punctuation goes (voice recognition adds "。").
func normalize(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		case r == 0x3000:
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if t := strings.TrimRight(s, ".。!?~～、,，;；"); t != "" {
		s = t
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// smallNumber reads a number from 1 to 99 written in digits, or from 1 to 10
// in Chinese numerals (一 … 十), as elderly residents and voice recognition
// often write them. ok is false for anything else.
func smallNumber(s string) (int, bool) {
	if utf8.RuneCountInString(s) == 1 {
		r, _ := utf8.DecodeRuneInString(s)
		if r >= '1' && r <= '9' {
			return int(r - '0'), true
		}
		return chineseDigit(r)
	}
	if len(s) == 2 && s[0] >= '1' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' {
		return int(s[0]-'0')*10 + int(s[1]-'0'), true
	}
	return 0, false
}

func chineseDigit(r rune) (int, bool) {
	i := strings.IndexRune("一二三四五六七八九十", r)
	if i < 0 {
		return 0, false
	}
	return utf8.RuneCountInString("一二三四五六七八九十"[:i]) + 1, true
}

// pick is the outcome of matching a reply against a numbered list.
type pick int

const (
	pickOK         pick = iota
	pickOutOfRange      // a number, but not one on the list
	pickUnknown         // no name on the list matches
	pickAmbiguous       // more than one name matches
)

// choose matches a reply against a numbered list of names: by number
// ("2", "２", "二", "2."), by exact name, or by a part of one name ("卫生" for
// "环境卫生") or a reply that contains one name ("东村第一网格" for "第一网格").
// It returns the index into names.
func choose(reply string, names []string) (int, pick) {
	in := normalize(reply)
	if n := strings.TrimPrefix(in, "第"); n != in || isDigits(strings.TrimRight(n, "项个号")) {
		// "第2项", "第二个", "2号"
		in = strings.TrimRight(n, "项个号")
	}
	if isDigits(in) {
		n, err := strconv.Atoi(in)
		if err != nil || n < 1 || n > len(names) {
			return 0, pickOutOfRange
		}
		return n - 1, pickOK
	}
	if n, ok := smallNumber(in); ok {
		if n > len(names) {
			return 0, pickOutOfRange
		}
		return n - 1, pickOK
	}
	if in == "" {
		return 0, pickUnknown
	}
	for i, name := range names {
		if normalize(name) == in {
			return i, pickOK
		}
	}
	found, count := 0, 0
	for i, name := range names {
		n := normalize(name)
		if (utf8.RuneCountInString(in) >= 2 && strings.Contains(n, in)) || strings.Contains(in, n) {
			found, count = i, count+1
		}
	}
	switch count {
	case 0:
		return 0, pickUnknown
	case 1:
		return found, pickOK
	}
	return 0, pickAmbiguous
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// outOfRange is the hint for a number that is not on a list of n.
func outOfRange(norm string, n int) string {
	if len(norm) <= 3 {
		return fmt.Sprintf("没有第%s项，请回复1到%d之间的序号。", norm, n)
	}
	return fmt.Sprintf("请回复1到%d之间的序号。", n)
}

// parsePhone reads a mainland mobile number: 11 digits starting with 13–19,
// optionally written with spaces, dashes or brackets and a +86, 86 or 0086
// prefix. It returns the 11 digits.
func parsePhone(s string) (string, bool) {
	s = normalize(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '（' || r == '）':
		case r == '+' && b.Len() == 0:
		default:
			return "", false
		}
	}
	d := b.String()
	switch {
	case len(d) == 15 && strings.HasPrefix(d, "0086"):
		d = d[4:]
	case len(d) == 13 && strings.HasPrefix(d, "86"):
		d = d[2:]
	}
	if len(d) != 11 || d[0] != '1' || d[1] < '3' || d[1] > '9' {
		return "", false
	}
	return d, true
}

// parseRating reads a reply that is only a 1–5 score: "5", "５", "五",
// "5分", "5星", "评价 5", "评分：4分".
func parseRating(s string) (int, bool) {
	s = normalize(s)
	for _, p := range []string{"评价", "评分", "打分", "满意度"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			s = rest
			break
		}
	}
	s = strings.TrimLeft(s, " :")
	for _, suffix := range []string{"颗星", "分", "星"} {
		if rest, ok := strings.CutSuffix(s, suffix); ok {
			s = rest
			break
		}
	}
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) != 1 {
		return 0, false
	}
	n, ok := smallNumber(s)
	if !ok || n < 1 || n > 5 {
		return 0, false
	}
	return n, true
}

// truncateRunes cuts s to at most n runes and reports whether it did.
func truncateRunes(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	r := []rune(s)
	return string(r[:n]), true
}

// isOneOf reports whether the normalised reply is one of words.
func isOneOf(norm string, words ...string) bool {
	for _, w := range words {
		if norm == w {
			return true
		}
	}
	return false
}
