package bot

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// isXMLChar reports whether r may appear in an XML 1.0 document.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= unicode.MaxRune)
}

// cleanXML drops what Go's encoding/xml refuses outright (bytes of invalid
// UTF-8, characters outside XML's range, and character references to them),
// so a resident who pastes a stray control character still gets an answer.
func cleanXML(b []byte) []byte {
	if xmlClean(b) {
		return b
	}
	return dropInvalidXML(b)
}

// dropInvalidXML is cleanXML's careful path, which copies.
func dropInvalidXML(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		if b[i] == '&' && i+2 < len(b) && b[i+1] == '#' {
			if n, ok := charRef(b[i:]); ok {
				ref := b[i : i+n]
				if r, valid := parseCharRef(ref); valid && !isXMLChar(r) {
					i += n
					continue
				}
				out = append(out, ref...)
				i += n
				continue
			}
		}
		r, size := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && size == 1) || !isXMLChar(r) {
			i += size
			continue
		}
		out = append(out, b[i:i+size]...)
		i += size
	}
	return out
}

// xmlClean reports whether cleanXML would keep b as it is: no invalid
// UTF-8, no character outside XML's range, no character reference at all
// (those take the careful path). It is every message WeChat sends, checked
// without a copy.
func xmlClean(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == '&' && i+1 < len(b) && b[i+1] == '#' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
			return false
		}
		i += size
	}
	return true
}

// charRef returns the length of a "&#…;" reference at the start of b.
func charRef(b []byte) (int, bool) {
	const maxLen = 12 // "&#x10FFFF;" and a little slack
	for j := 2; j < len(b) && j < maxLen; j++ {
		if b[j] == ';' {
			return j + 1, true
		}
	}
	return 0, false
}

// parseCharRef decodes "&#65;" or "&#x41;"; valid is false when it is not a
// number at all (the XML decoder reports that itself).
func parseCharRef(ref []byte) (rune, bool) {
	s := string(ref[2 : len(ref)-1])
	base := 10
	if strings.HasPrefix(s, "x") {
		s, base = s[1:], 16
	}
	n, err := strconv.ParseUint(s, base, 32)
	if err != nil {
		return 0, false
	}
	if n > unicode.MaxRune {
		return utf8.RuneError, true
	}
	return rune(n), true
}

// maxTextRunes caps what a resident's message may carry into the dialogs.
const maxTextRunes = 2000

// cleanText makes a resident's text safe to keep and show: invalid UTF-8 and
// control characters other than newline go (a tab becomes a space), the ends
// are trimmed, and the length is capped.
func cleanText(s string, limit int) string {
	var b strings.Builder
	b.Grow(len(s))
	n := 0
	for _, r := range s {
		if n >= limit {
			break
		}
		switch {
		case r == '\n':
		case r == '\t':
			r = ' '
		case r == utf8.RuneError, unicode.IsControl(r), !isXMLChar(r):
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// writeCDATA writes s as CDATA sections, splitting any "]]>" so the text
// cannot close the section early.
func writeCDATA(b *strings.Builder, s string) {
	b.WriteString("<![CDATA[")
	b.WriteString(strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>"))
	b.WriteString("]]>")
}

// xmlSafe drops characters XML cannot carry from our own reply text.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !isXMLChar(r) {
			return -1
		}
		return r
	}, s)
}
