package configs

import (
	"fmt"
	"os"
	"strings"

	"gridbot/core"
)

// lexiconFile is the layout of the colloquial lexicon YAML (cantonese.yaml).
type lexiconFile struct {
	Lexicon map[string]string `yaml:"lexicon"`
}

// ParseLexicon builds a lexicon from its YAML document. Keys are lower
// cased and trimmed as messages are before they are read.
func ParseLexicon(data []byte) (*core.Lexicon, error) {
	var lf lexiconFile
	if err := strictYAML(data, &lf); err != nil {
		return nil, fmt.Errorf("lexicon: %w", err)
	}
	entries := make([]core.Colloquial, 0, len(lf.Lexicon))
	for w, m := range lf.Lexicon {
		entries = append(entries, core.Colloquial{Written: strings.ToLower(strings.TrimSpace(w)), Mandarin: strings.TrimSpace(m)})
	}
	l, err := core.NewLexicon(entries)
	if err != nil {
		return nil, fmt.Errorf("lexicon: %w", err)
	}
	return l, nil
}

// SampleLexicon returns the embedded sample lexicon (cantonese.yaml).
func SampleLexicon() (*core.Lexicon, error) {
	data, err := samples.ReadFile("cantonese.yaml")
	if err != nil {
		return nil, err
	}
	return ParseLexicon(data)
}

// TownFiles name the files a town is loaded from. Lexicon "" means the
// embedded sample lexicon.
type TownFiles struct {
	Directory, Categories, Lexicon string
}

// LoadTownFiles reads the town directory, the category list and the
// lexicon.
func LoadTownFiles(f TownFiles) (*core.Town, error) {
	dir, err := os.ReadFile(f.Directory)
	if err != nil {
		return nil, fmt.Errorf("town directory: %w", err)
	}
	cats, err := os.ReadFile(f.Categories)
	if err != nil {
		return nil, fmt.Errorf("category list: %w", err)
	}
	var lex []byte
	if f.Lexicon != "" {
		if lex, err = os.ReadFile(f.Lexicon); err != nil {
			return nil, fmt.Errorf("lexicon: %w", err)
		}
	}
	t, err := ParseTownLexicon(dir, cats, lex)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", f.Directory, f.Categories, err)
	}
	return t, nil
}
