package dialogs_test

import (
	"fmt"
	"sync"
	"testing"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/dialogs"
	"gridbot/script"
)

var loadConverter = sync.OnceValues(func() (*script.Converter, error) {
	c, err := script.New()
	if err == nil {
		c.Wait() // measure the reading residents get once started
	}
	return c, err
})

func sampleReader(t testing.TB) (*core.Town, dialogs.Reader) {
	t.Helper()
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	conv, err := loadConverter()
	if err != nil {
		t.Fatal(err)
	}
	return town, dialogs.Reader{Script: conv}
}

// accuracy is the share of table a reader guesses right: the expected
// category is the first guess, or the second of two close ones offered.
func accuracy(t *testing.T, town *core.Town, r dialogs.Reader, table []struct{ text, want string }, logWrong bool) float64 {
	t.Helper()
	right := 0
	for _, tt := range table {
		if town.Category(tt.want) == nil {
			t.Fatalf("%q: no category %q in the sample list", tt.text, tt.want)
		}
		ok := false
		for _, g := range r.Guess(town, tt.text) {
			ok = ok || g.Code == tt.want
		}
		if ok {
			right++
		} else if logWrong {
			t.Logf("wrong: %q want %s, got %v (scores %v)", tt.text, tt.want, r.Guess(town, tt.text), r.Scores(town, tt.text))
		}
	}
	return float64(right) / float64(len(table))
}

// TestGuessAccuracy reports the guess's share of right answers on each
// table (go test -run TestGuessAccuracy -v ./dialogs/). The targets of
// issue 16: at least 95% on the project's own tables, 90% on the table kept
// apart.
func TestGuessAccuracy(t *testing.T) {
	town, r := sampleReader(t)
	if len(cantoneseTable) < 60 || len(voiceTable) < 30 {
		t.Fatalf("tables too small: %d Cantonese/traditional, %d voice", len(cantoneseTable), len(voiceTable))
	}
	own := append(append(append([]struct{ text, want string }{}, guessTable...), cantoneseTable...), voiceTable...)
	for _, tab := range []struct {
		name  string
		table []struct{ text, want string }
		min   float64
	}{
		{"guessTable (Mandarin)", guessTable, 0.95},
		{"cantoneseTable (Cantonese, traditional)", cantoneseTable, 0.95},
		{"voiceTable (voice transcripts)", voiceTable, 0.95},
		{"own tables together", own, 0.95},
		{"heldOutTable (never tuned on)", heldOutTable, 0.90},
	} {
		share := accuracy(t, town, r, tab.table, true)
		t.Logf("%-42s %3d messages  %5.1f%% right", tab.name, len(tab.table), 100*share)
		if share < tab.min {
			t.Errorf("%s: %.1f%% right; the target is %.0f%%", tab.name, 100*share, 100*tab.min)
		}
	}
}

// TestGuessLearns measures what 200 staff corrections teach: from a cold
// model, 200 corrections drawn in turn from the project's own tables are
// learnt, and the share of right guesses on the disjoint held-out table is
// compared before and after — with the configured cues, and (to show the
// model's own reach) for a town whose category list has no cues at all.
func TestGuessLearns(t *testing.T) {
	town, r := sampleReader(t)
	bare := *town
	bare.Categories = nil
	for _, c := range town.Categories {
		c.Cues = nil
		bare.Categories = append(bare.Categories, c)
	}
	own := append(append(append([]struct{ text, want string }{}, guessTable...), cantoneseTable...), voiceTable...)
	for _, tc := range []struct {
		name string
		town *core.Town
	}{{"with the sample cues", town}, {"with no cues", &bare}} {
		learner := &dialogs.Learner{Script: r.Script}
		withModel := dialogs.Reader{Script: r.Script, Model: learner}
		before := accuracy(t, tc.town, withModel, heldOutTable, false)
		for i := range 200 {
			ex := own[i%len(own)]
			learner.Teach(tc.town, fmt.Sprint(i), ex.text, ex.want)
		}
		after := accuracy(t, tc.town, withModel, heldOutTable, false)
		t.Logf("%-20s held-out right before %5.1f%%, after 200 corrections %5.1f%% (%+.1f points)", tc.name, 100*before, 100*after, 100*(after-before))
		if after < before {
			t.Errorf("%s: learning lowered the share of right guesses", tc.name)
		}
	}
}

// BenchmarkGuess is one category guess of a message with a model of a
// year's corrections (7,300: twenty a day), and with as many as the guess
// keeps (core.MaxGuessExamples), as the engine makes it: read (script,
// lexicon), place names left out, cues scored, model weighed.
func BenchmarkGuess(b *testing.B) {
	town, err := configs.SampleTown()
	if err != nil {
		b.Fatal(err)
	}
	conv, err := loadConverter()
	if err != nil {
		b.Fatal(err)
	}
	own := append(append(append([]struct{ text, want string }{}, guessTable...), cantoneseTable...), voiceTable...)
	for _, size := range []struct {
		name string
		n    int
	}{{"year", 7300}, {"bound", core.MaxGuessExamples}} {
		learner := &dialogs.Learner{Script: conv}
		for i := range size.n {
			ex := own[i%len(own)]
			// Vary the words so the vocabulary grows as a year's would.
			learner.Teach(town, fmt.Sprint(i), fmt.Sprintf("%s 第%d户", ex.text, i), ex.want)
		}
		if learner.Examples() != size.n {
			b.Fatalf("the model learnt %d examples", learner.Examples())
		}
		r := dialogs.Reader{Script: conv, Model: learner}
		for _, m := range []struct{ name, text string }{
			{"simplified", "嗯那个我们村口的垃圾好几天都没有人来收了"},
			{"traditional", "街燈壞咗成個禮拜，夜晚黑麻麻"},
		} {
			b.Run(size.name+"/"+m.name, func(b *testing.B) {
				b.ReportAllocs()
				cpuPerOp(b, func() { r.Guess(town, m.text) })
			})
		}
	}
}
