// Package script reads and writes Chinese in either script: it turns
// traditional characters (Hong Kong and Taiwan forms alike) into simplified
// ones for understanding, and simplified replies into Hong Kong traditional
// for residents who write that way. It wraps OpenCC
// (github.com/longbridgeapp/opencc, dictionaries embedded) and is the only
// package that imports it.
package script

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"
)

// Converter converts between the scripts. It is safe for concurrent use:
// the dictionaries are read-only once loaded.
type Converter struct {
	toSimplified *opencc.OpenCC // hk2s: Hong Kong variants included
	toHK         *opencc.OpenCC // s2hk: the forms residents of Kaiping's diaspora read
	// simple maps each character that reads differently once simplified
	// to its simplified form, taken from OpenCC's hk2s dictionaries one
	// character at a time. Reading goes character by character: OpenCC's
	// phrase walk costs tens of microseconds a message, and the phrases it
	// adds (乾隆 against 干燥) do not change what a message is about.
	simple map[rune]string
}

// New loads the embedded dictionaries (a few milliseconds; do it once).
func New() (*Converter, error) {
	t2s, err := opencc.New("hk2s")
	if err != nil {
		return nil, fmt.Errorf("script: hk2s: %w", err)
	}
	s2hk, err := opencc.New("s2hk")
	if err != nil {
		return nil, fmt.Errorf("script: s2hk: %w", err)
	}
	c := &Converter{toSimplified: t2s, toHK: s2hk, simple: map[rune]string{}}
	for _, rt := range []*unicode.RangeTable{unicode.Han} {
		for _, r16 := range rt.R16 {
			for r := rune(r16.Lo); r <= rune(r16.Hi); r += rune(r16.Stride) {
				c.noteTraditional(r)
			}
		}
	}
	return c, nil
}

// noteTraditional marks r when, alone, it simplifies to something else.
func (c *Converter) noteTraditional(r rune) {
	if out, err := c.toSimplified.Convert(string(r)); err == nil && out != string(r) {
		c.simple[r] = out
	}
}

// Simplified returns s in simplified characters, character by
// character; text with no traditional character is returned as is.
func (c *Converter) Simplified(s string) string {
	if !c.hasTraditional(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if t, ok := c.simple[r]; ok {
			b = append(b, t...)
		} else {
			b = utf8.AppendRune(b, r)
		}
	}
	return string(b)
}

// Traditional returns s in Hong Kong traditional characters.
func (c *Converter) Traditional(s string) string {
	if !hasHan(s) {
		return s
	}
	out, err := c.toHK.Convert(s)
	if err != nil {
		return s
	}
	return out
}

// IsTraditional reports whether s reads differently once simplified: it
// holds at least one traditional form.
func (c *Converter) IsTraditional(s string) bool {
	return c.hasTraditional(s) && c.Simplified(s) != s
}

func (c *Converter) hasTraditional(s string) bool {
	for _, r := range s {
		if _, ok := c.simple[r]; ok && r >= 0x3400 {
			return true
		}
	}
	return false
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
