// Package flatxml reads and writes the flat XML of WeChat's messages:
// <xml>, then one element per field holding text or CDATA sections. The bot
// reads WeChat's callbacks in that shape and the simulator reads the bot's
// replies; both read it by hand, many times faster than encoding/xml's
// reflection, and leave anything else to encoding/xml, which their tests
// hold them to.
package flatxml

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsChar reports whether r may appear in an XML 1.0 document.
func IsChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= unicode.MaxRune)
}

// Clean reports whether b is valid UTF-8 made only of characters XML
// allows, with no character reference ("&#"), which could stand for one it
// does not: text encoding/xml reads as it is written.
func Clean(b []byte) bool {
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
		if r == utf8.RuneError && size == 1 || !IsChar(r) {
			return false
		}
		i += size
	}
	return true
}

// Read calls field with each element's name and text, in order, for a flat
// document: <xml>, elements whose names are letters, digits and '_' holding
// plain text and CDATA sections, then </xml> (what follows the root,
// encoding/xml never reads). The text is what encoding/xml gives a string
// field. Read reports false, part way or not at all through the fields,
// when b is not of that shape — an entity, a carriage return (encoding/xml
// rewrites line ends), a nested element, a comment — or when field does.
// b must be Clean.
func Read(b []byte, field func(name, text string) bool) bool {
	const cdataOpen, cdataClose = "<![CDATA[", "]]>"
	rest, ok := bytes.CutPrefix(bytes.TrimLeft(b, " \t\n"), []byte("<xml>"))
	if !ok {
		return false
	}
	var text strings.Builder
	for {
		rest = bytes.TrimLeft(rest, " \t\n")
		if bytes.HasPrefix(rest, []byte("</xml>")) {
			return true
		}
		// <Name>
		if len(rest) < 2 || rest[0] != '<' {
			return false
		}
		end := bytes.IndexByte(rest, '>')
		if end < 2 || !isName(rest[1:end]) {
			return false
		}
		name := string(rest[1:end])
		rest = rest[end+1:]
		closing := "</" + name + ">"
		// Text and CDATA sections up to </Name>.
		text.Reset()
		for {
			lt := bytes.IndexByte(rest, '<')
			if lt < 0 {
				return false
			}
			plain := rest[:lt]
			if bytes.ContainsAny(plain, "&\r") || bytes.Contains(plain, []byte(cdataClose)) {
				return false // entities, line-end normalisation, or an error: encoding/xml's to handle
			}
			text.Write(plain)
			rest = rest[lt:]
			if bytes.HasPrefix(rest, []byte(closing)) {
				rest = rest[len(closing):]
				break
			}
			if !bytes.HasPrefix(rest, []byte(cdataOpen)) {
				return false // a nested element, a comment, a mismatched end
			}
			rest = rest[len(cdataOpen):]
			ce := bytes.Index(rest, []byte(cdataClose))
			if ce < 0 || bytes.IndexByte(rest[:ce], '\r') >= 0 {
				return false
			}
			text.Write(rest[:ce])
			rest = rest[ce+len(cdataClose):]
		}
		if !field(name, text.String()) {
			return false
		}
	}
}

func isName(b []byte) bool {
	for _, c := range b {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// AppendCDATA appends s as a CDATA section, splitting any "]]>" across two
// sections so the text cannot close it early, as encoding/xml does.
func AppendCDATA(dst []byte, s string) []byte {
	dst = append(dst, "<![CDATA["...)
	for {
		i := strings.Index(s, "]]>")
		if i < 0 {
			break
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, "]]]]><![CDATA[>"...)
		s = s[i+3:]
	}
	dst = append(dst, s...)
	return append(dst, "]]>"...)
}
