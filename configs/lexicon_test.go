package configs

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gridbot/script"
)

// The sample lexicon is written in simplified characters, lower case, as
// messages are when it reads them; an entry in traditional would never match.
func TestSampleLexiconIsSimplified(t *testing.T) {
	lex, err := SampleLexicon()
	if err != nil {
		t.Fatal(err)
	}
	conv, err := script.New()
	if err != nil {
		t.Fatal(err)
	}
	conv.Wait()
	if n := len(lex.Entries()); n < 100 {
		t.Errorf("the sample lexicon has %d entries; the everyday matters need more", n)
	}
	for _, e := range lex.Entries() {
		if s := conv.Simplified(e.Written); s != e.Written {
			t.Errorf("lexicon entry %q is not simplified (%q)", e.Written, s)
		}
	}
	for in, want := range map[string]string{
		"街灯坏咗成个礼拜":   "路灯坏了成个星期",
		"仲未整好":       "还没修好",
		"冇问题":        "没问题",
		"隔离屋成晚打麻雀好嘈": "隔壁整晚打麻将好吵",
	} {
		if got := lex.Mandarin(in); got != want {
			t.Errorf("Mandarin(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLexiconReloads(t *testing.T) {
	dir := t.TempDir()
	files := TownFiles{Directory: filepath.Join(dir, "town.yaml"), Categories: filepath.Join(dir, "categories.yaml"), Lexicon: filepath.Join(dir, "cantonese.yaml")}
	write := func(p, src string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			b = []byte(src)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Duration(len(b)) * time.Millisecond)
		os.Chtimes(p, later, later)
	}
	write(files.Directory, "town.yaml")
	write(files.Categories, "categories.yaml")
	write(files.Lexicon, "lexicon:\n  街灯: 路灯\n")
	w, err := WatchTownFiles(files, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Town().Lexicon.Mandarin("街灯坏咗"); got != "路灯坏咗" {
		t.Fatalf("lexicon from the file: %q", got)
	}
	write(files.Lexicon, "lexicon:\n  街灯: 路灯\n  咗: 了\n")
	if changed, err := w.Reload(); !changed || err != nil {
		t.Fatalf("lexicon edit: %v %v", changed, err)
	}
	if got := w.Town().Lexicon.Mandarin("街灯坏咗"); got != "路灯坏了" {
		t.Fatalf("lexicon after reload: %q", got)
	}
	good := w.Town()
	write(files.Lexicon, "lexicon:\n  街灯: \"\"\n")
	if changed, err := w.Reload(); changed || err == nil || w.Town() != good {
		t.Fatalf("a bad lexicon edit: changed=%v err=%v", changed, err)
	}
}
