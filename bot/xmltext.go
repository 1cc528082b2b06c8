package bot

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gridbot/internal/flatxml"
)

// cleanXML drops what Go's encoding/xml refuses outright (bytes of invalid
// UTF-8, characters outside XML's range, and character references to them),
// so a resident who pastes a stray control character still gets an answer.
func cleanXML(b []byte) []byte {
	if flatxml.Clean(b) {
		return b // every message WeChat sends, checked without a copy
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
				if r, valid := parseCharRef(ref); valid && !flatxml.IsChar(r) {
					i += n
					continue
				}
				out = append(out, ref...)
				i += n
				continue
			}
		}
		r, size := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && size == 1) || !flatxml.IsChar(r) {
			i += size
			continue
		}
		out = append(out, b[i:i+size]...)
		i += size
	}
	return out
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
		case r == utf8.RuneError, unicode.IsControl(r), !flatxml.IsChar(r):
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// xmlSafe drops characters XML cannot carry from our own reply text.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !flatxml.IsChar(r) {
			return -1
		}
		return r
	}, s)
}
