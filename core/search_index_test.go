package core_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gridbot/core"
)

// simplifyForTest reads the few traditional characters the tests write.
func simplifyForTest(s string) string {
	return strings.NewReplacer("燈", "灯", "壞", "坏", "圾", "圾", "號", "号", "頭", "头", "橋", "桥").Replace(s)
}

type upperBlind struct{}

func (upperBlind) BlindTerm(t string) string { return "k:" + t }

// TestSearchTermsCoverMatches: every search Match accepts on a case finds
// that case through the index (its terms are among the case's), with and
// without simplification and blinding; and searches that cannot match
// leave terms the case lacks.
func TestSearchTermsCoverMatches(t *testing.T) {
	c := core.Case{Number: "ST202611250007", Text: "桥头路燈壞了，LED灯不亮 联系13800138000", Phone: "+8613912345678", Contact: "李阿姨",
		Address: "东山村三巷5号", Location: &core.Location{Label: "东山村祠堂"}, Result: "已换灯泡"}
	for _, x := range []core.SearchIndex{{}, {Simplify: simplifyForTest}, {Simplify: simplifyForTest, Blind: upperBlind{}}} {
		terms := x.CaseTerms(&c)
		has := func(q string) bool {
			qt, ok := x.QueryTerms(x.Parse(q))
			if !ok {
				t.Fatalf("%q: no terms", q)
			}
			for _, term := range qt {
				if _, found := slices.BinarySearch(terms, term); !found {
					return false
				}
			}
			return true
		}
		found := []string{"路", "灯", "桥头", "路燈", "燈壞", "LED", "led灯", "ＬＥＤ", "13800138000", "13912345678", "+86 139 1234 5678",
			"8613912345678", "5678", "李阿姨", "三巷5号", "5号", "祠堂", "换灯泡", "st20261125", "20261125", "0007", "ST202611250007",
			"东山村三巷5号", "桥头路燈壞了"}
		if x.Simplify != nil {
			found = append(found, "路灯", "路灯坏了", "三巷5號", "橋頭")
		}
		for _, q := range found {
			if !x.Parse(q).Match(&c, true) {
				t.Errorf("%+v: %q does not match the case", x.Blind, q)
			}
			if !has(q) {
				t.Errorf("%+v: %q matches the case but its terms are not all the case's", x.Blind, q)
			}
		}
		for _, q := range []string{"井盖", "漏水", "LEDS", "1234", "9999", "西山"} {
			if has(q) {
				t.Errorf("%+v: %q: the case carries all its terms", x.Blind, q)
			}
		}
		if x.Blind != nil {
			for _, term := range terms {
				if !strings.HasPrefix(term, "k:") {
					t.Fatalf("term %q kept unblinded", term)
				}
			}
		}
	}
}

// TestSearchTermsRandom: for random texts and random pieces of them, a
// piece that Match finds has all its terms among the text's (Latin and
// digit pieces cut at word edges, as the index reads them).
func TestSearchTermsRandom(t *testing.T) {
	alphabet := []rune("路灯燈不亮井盖漏水村东西山号巷 ，。LED5０AB12")
	x := core.SearchIndex{Simplify: simplifyForTest}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		text := make([]rune, 1+r.IntN(30))
		for j := range text {
			text[j] = alphabet[r.IntN(len(alphabet))]
		}
		c := core.Case{Number: "ST202601010001", Text: string(text)}
		terms := x.CaseTerms(&c)
		a := r.IntN(len(text))
		b := a + 1 + r.IntN(len(text)-a)
		q := x.Parse(string(text[a:b]))
		if q.Empty() {
			continue
		}
		qt, ok := x.QueryTerms(q)
		if !ok {
			continue
		}
		// A piece that cuts a Latin word is a word the index does not
		// hold; skip those.
		cut := func(k int) bool {
			isWord := func(r rune) bool {
				return r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r >= 0xFF10 && r <= 0xFF19 || r >= 0xFF21 && r <= 0xFF3A
			}
			return k > 0 && k < len(text) && isWord(text[k-1]) && isWord(text[k])
		}
		if cut(a) || cut(b) {
			continue
		}
		for _, term := range qt {
			if _, found := slices.BinarySearch(terms, term); !found {
				t.Fatalf("text %q, search %q: term %q not among the case's %q", string(text), string(text[a:b]), term, terms)
			}
		}
	}
}

// TestQueryTermsBounded: a long search reads at most MaxSearchTerms terms,
// and punctuation alone has none.
func TestQueryTermsBounded(t *testing.T) {
	x := core.SearchIndex{}
	qt, ok := x.QueryTerms(x.Parse("东山村三巷路口的路灯已经坏了三天晚上很黑请尽快修理谢谢"))
	if !ok || len(qt) > core.MaxSearchTerms || len(qt) < 4 {
		t.Errorf("long search: %d terms (%v)", len(qt), ok)
	}
	if _, ok := x.QueryTerms(x.Parse("，。！")); ok {
		t.Error("punctuation alone has terms")
	}
	if _, ok := x.QueryTerms(x.Parse("")); ok {
		t.Error("an empty search has terms")
	}
}

// TestCaseNumberNotAKeyOfItsOwn: the index holds a case under its number's
// day and count, not the number whole (a key for every case); a search for
// the whole number reads its day, and Match keeps the one case.
func TestCaseNumberNotAKeyOfItsOwn(t *testing.T) {
	x := core.SearchIndex{}
	c := core.Case{Number: "ST202611250007", Text: "路灯不亮"}
	other := core.Case{Number: "ST202611250008", Text: "路灯不亮"}
	terms := x.CaseTerms(&c)
	if slices.Contains(terms, "ST202611250007") {
		t.Errorf("terms %q hold the number whole", terms)
	}
	for _, want := range []string{"ST20261125", "20261125", "0007"} {
		if !slices.Contains(terms, want) {
			t.Errorf("terms %q lack %q", terms, want)
		}
	}
	q := x.Parse("st202611250007")
	qt, ok := x.QueryTerms(q)
	if !ok || !slices.Equal(qt, []string{"ST20261125"}) {
		t.Errorf("the number's search reads %q, want its day", qt)
	}
	if !q.Match(&c, true) || q.Match(&other, true) {
		t.Error("Match does not keep the one case of the day")
	}
	// A word of another shape is read whole, as the index keeps it.
	for _, word := range []string{"LED", "2026112500071", "X1Y202611250007"} {
		if qt, _ := x.QueryTerms(x.Parse(word)); !slices.Equal(qt, []string{word}) {
			t.Errorf("%q reads %q", word, qt)
		}
	}
}

// TestIndexServesTheRuleBefore: an index built under this rule, or under
// the rule before (which also kept the number whole), is not built again;
// one built under another reading or blinding is.
func TestIndexServesTheRuleBefore(t *testing.T) {
	x := core.SearchIndex{Simplify: simplifyForTest, Blind: upperBlind{}}
	before := strings.Split(x.Probe(), "\x00")
	before = append(before, "k:ST202601010001")
	slices.Sort(before)
	for _, tt := range []struct {
		name  string
		probe string
		want  bool
	}{
		{"this rule", x.Probe(), true},
		{"the rule before, with the number whole", strings.Join(before, "\x00"), true},
		{"without the reading of traditional characters", core.SearchIndex{Blind: upperBlind{}}.Probe(), false},
		{"unblinded", core.SearchIndex{Simplify: simplifyForTest}.Probe(), false},
		{"empty", "", false},
	} {
		if got := x.IndexServes(tt.probe); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
