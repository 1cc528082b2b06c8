package wechatsim

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The simulator plays WeChat's servers at speed in the load tool, where
// encoding/xml's reflection was a third of the generator's own CPU: it
// wrote each message and read each reply, and a longer reply (a menu
// against an echo) cost the generator more to read than the bot to write.
// So the wire format WeChat uses — flat, one element per field — is written
// and read by hand; anything else is read by encoding/xml as before, and
// tests hold both to the same results.

// appendCDATA appends s as a CDATA section the way encoding/xml writes a
// ",cdata" field: a "]]>" inside is split across two sections.
func appendCDATA(b []byte, s string) []byte {
	if s == "" {
		return b // encoding/xml writes no section for nothing
	}
	b = append(b, "<![CDATA["...)
	for {
		i := strings.Index(s, "]]>")
		if i < 0 {
			break
		}
		b = append(b, s[:i]...)
		b = append(b, "]]]]><![CDATA[>"...)
		s = s[i+3:]
	}
	b = append(b, s...)
	return append(b, "]]>"...)
}

// appendElement appends <name>value</name>, value as CDATA.
func appendElement(b []byte, name, value string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = appendCDATA(b, value)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// appendRaw appends <name>text</name>, text already safe (a number).
func appendRaw(b []byte, name, text string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = append(b, text...)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// marshalWire writes w exactly as xml.Marshal(w) does.
func marshalWire(w *wireMessage) []byte {
	b := make([]byte, 0, 256+len(w.FromUserName.Text))
	b = append(b, "<xml>"...)
	b = appendElement(b, "ToUserName", w.ToUserName.Text)
	b = appendElement(b, "FromUserName", w.FromUserName.Text)
	b = appendRaw(b, "CreateTime", strconv.FormatInt(w.CreateTime, 10))
	b = appendElement(b, "MsgType", w.MsgType.Text)
	for _, f := range []struct {
		name string
		v    *cdata
	}{{"Content", w.Content}, {"PicUrl", w.PicURL}, {"MediaId", w.MediaID}, {"Format", w.Format}, {"Recognition", w.Recognition}} {
		if f.v != nil {
			b = appendElement(b, f.name, f.v.Text)
		}
	}
	if w.LocationX != nil {
		b = appendRaw(b, "Location_X", strconv.FormatFloat(*w.LocationX, 'g', -1, 64))
	}
	if w.LocationY != nil {
		b = appendRaw(b, "Location_Y", strconv.FormatFloat(*w.LocationY, 'g', -1, 64))
	}
	if w.Scale != nil {
		b = appendRaw(b, "Scale", strconv.Itoa(*w.Scale))
	}
	for _, f := range []struct {
		name string
		v    *cdata
	}{{"Label", w.Label}, {"Event", w.Event}, {"EventKey", w.EventKey}} {
		if f.v != nil {
			b = appendElement(b, f.name, f.v.Text)
		}
	}
	if w.MsgID != 0 {
		b = appendRaw(b, "MsgId", strconv.FormatInt(w.MsgID, 10))
	}
	return append(b, "</xml>"...)
}

// readFlat reads a flat document — <xml>, then elements holding one CDATA
// section or plain text (no entity, no markup), then </xml> — calling set
// for each element. It reports false for anything else, or when set does,
// and the caller then reads the body with encoding/xml.
func readFlat(body []byte, set func(name, value string) bool) bool {
	rest, ok := bytes.CutPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("<xml>"))
	if !ok {
		return false
	}
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if tail, ok := bytes.CutPrefix(rest, []byte("</xml>")); ok {
			return len(bytes.TrimLeft(tail, " \t\r\n")) == 0
		}
		if len(rest) < 2 || rest[0] != '<' {
			return false
		}
		end := bytes.IndexByte(rest, '>')
		if end < 2 {
			return false
		}
		name := rest[1:end]
		for _, c := range name {
			if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
				return false
			}
		}
		rest = rest[end+1:]
		var value []byte
		if inner, ok := bytes.CutPrefix(rest, []byte("<![CDATA[")); ok {
			e := bytes.Index(inner, []byte("]]>"))
			if e < 0 {
				return false
			}
			value, rest = inner[:e], inner[e+3:]
		} else {
			e := bytes.IndexByte(rest, '<')
			if e < 0 {
				return false
			}
			value, rest = rest[:e], rest[e:]
			if bytes.IndexByte(value, '&') >= 0 || bytes.Contains(value, []byte("]]>")) {
				return false
			}
		}
		// encoding/xml rewrites line ends; leave those to it.
		if bytes.IndexByte(value, '\r') >= 0 {
			return false
		}
		closing := len(name) + 3
		if len(rest) < closing || rest[0] != '<' || rest[1] != '/' || !bytes.Equal(rest[2:2+len(name)], name) || rest[2+len(name)] != '>' {
			return false
		}
		rest = rest[closing:]
		if !xmlText(value) || !set(string(name), string(value)) {
			return false
		}
	}
}

// xmlText reports whether b is UTF-8 made only of characters XML allows.
func xmlText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || !(r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= unicode.MaxRune) {
			return false
		}
		i += size
	}
	return true
}

// flatField is a string field for readFields.
type flatField struct {
	name string
	to   *string
}

// readFields fills the fields from a flat body; false means body is not
// flat, or names a field twice. Elements of other names are skipped, as
// encoding/xml skips them.
func readFields(body []byte, fields ...flatField) bool {
	var seen uint64
	return readFlat(body, func(name, value string) bool {
		for i, f := range fields {
			if f.name != name {
				continue
			}
			if seen&(1<<i) != 0 {
				return false
			}
			seen |= 1 << i
			*f.to = value
		}
		return true
	})
}
