package core

import (
	"strings"
	"unicode/utf8"
)

// Names are not cues: a village called 石桥村 says nothing about bridges.
// Before a resident's words are read for their category, the names of the
// town's villages (with and without 村/社区), grids and landmarks are
// blanked out.

// villageSuffixes end village names; the rest is how people say it.
var villageSuffixes = []string{"社区", "居委会", "村委会", "村委", "村", "镇"}

// WithoutPlaceNames returns s with every place name of the town blanked
// (each name becomes one space, so words on either side do not join).
func (t *Town) WithoutPlaceNames(s string) string {
	blank := func(name string) {
		if utf8.RuneCountInString(name) >= 2 && strings.Contains(s, name) {
			s = strings.ReplaceAll(s, name, " ")
		}
	}
	// Longer names first, so a village's full name goes before its stem.
	for _, g := range t.Grids {
		blank(g.Name)
	}
	for _, v := range t.Villages {
		blank(v.Name)
	}
	for _, v := range t.Villages {
		for _, suffix := range villageSuffixes {
			if stem, ok := strings.CutSuffix(v.Name, suffix); ok {
				blank(stem)
				break
			}
		}
	}
	for _, l := range t.Landmarks {
		blank(l)
	}
	return s
}
