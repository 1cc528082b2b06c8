// Package script reads and writes Chinese in either script: it turns
// traditional characters (Hong Kong and Taiwan forms alike) into simplified
// ones for understanding, and simplified replies into Hong Kong traditional
// for residents who write that way. It wraps OpenCC
// (github.com/longbridgeapp/opencc, dictionaries embedded) and is the only
// package that imports it.
package script

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"
)

// Converter converts between the scripts. It is safe for concurrent use:
// the dictionaries are read-only once loaded.
type Converter struct {
	toSimplified *opencc.OpenCC // hk2s: Hong Kong variants included
	// toHK loads s2hk, the forms residents of Kaiping's diaspora read. Its
	// phrase dictionary takes a few hundred milliseconds to build, so New
	// starts it in the background and the first reply in traditional
	// waits for it if it must.
	toHK func() (*opencc.OpenCC, error)
	// simple maps each character that reads differently once simplified
	// to its simplified form, taken from OpenCC's hk2s dictionaries one
	// character at a time (built in the background by New). Reading goes
	// character by character: OpenCC's phrase walk costs tens of
	// microseconds a message, and the phrases it adds (乾隆 against 干燥)
	// do not change what a message is about. Until it is built, reading
	// takes OpenCC's walk.
	simple atomic.Pointer[map[rune]string]
	ready  chan struct{} // closed once both are built
}

// New loads the hk2s dictionaries (about 10 ms) and starts building the
// rest in the background; Wait waits for it.
func New() (*Converter, error) {
	t2s, err := opencc.New("hk2s")
	if err != nil {
		return nil, fmt.Errorf("script: hk2s: %w", err)
	}
	c := &Converter{toSimplified: t2s, ready: make(chan struct{})}
	c.toHK = sync.OnceValues(func() (*opencc.OpenCC, error) { return opencc.New("s2hk") })
	go func() {
		defer close(c.ready)
		c.buildTable()
		c.toHK()
	}()
	return c, nil
}

// Wait returns once the background work New started is done.
func (c *Converter) Wait() { <-c.ready }

func (c *Converter) buildTable() {
	table := map[rune]string{}
	for _, r16 := range unicode.Han.R16 {
		for r := rune(r16.Lo); r <= rune(r16.Hi); r += rune(r16.Stride) {
			if out, err := c.toSimplified.Convert(string(r)); err == nil && out != string(r) {
				table[r] = out
			}
		}
	}
	c.simple.Store(&table)
}

// Simplified returns s in simplified characters, character by
// character; text with no traditional character is returned as is.
func (c *Converter) Simplified(s string) string {
	table := c.simple.Load()
	if table == nil {
		return c.walk(s)
	}
	if !hasTraditional(*table, s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if t, ok := (*table)[r]; ok {
			b = append(b, t...)
		} else {
			b = utf8.AppendRune(b, r)
		}
	}
	return string(b)
}

// walk is OpenCC's own conversion, while the table is being built.
func (c *Converter) walk(s string) string {
	if !hasHan(s) {
		return s
	}
	out, err := c.toSimplified.Convert(s)
	if err != nil {
		// Convert fails only on a corrupt dictionary, which New would
		// have refused; the text as written is the safe answer.
		return s
	}
	return out
}

// Traditional returns s in Hong Kong traditional characters.
func (c *Converter) Traditional(s string) string {
	if !hasHan(s) {
		return s
	}
	hk, err := c.toHK()
	if err != nil {
		return s // the embedded dictionary did not load: simplified is still readable
	}
	out, err := hk.Convert(s)
	if err != nil {
		return s
	}
	return out
}

// IsTraditional reports whether s reads differently once simplified: it
// holds at least one traditional form.
func (c *Converter) IsTraditional(s string) bool {
	return c.Simplified(s) != s
}

func hasTraditional(table map[rune]string, s string) bool {
	for _, r := range s {
		if r < 0x3400 {
			continue
		}
		if _, ok := table[r]; ok {
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
