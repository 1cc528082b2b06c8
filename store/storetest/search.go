package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store"
)

// SearchRule is the word index rule the stores under the suite are opened
// with: a few traditional characters read as simplified, and every term
// blinded, as when personal data is encrypted.
var SearchRule = core.SearchIndex{Simplify: simplify, Blind: blinder{}}

func simplify(s string) string {
	return strings.NewReplacer("燈", "灯", "壞", "坏", "號", "号").Replace(s)
}

type blinder struct{}

// BlindTerm stands for a keyed digest: not the term, and the same each time.
func (blinder) BlindTerm(t string) string { return "b" + strings.ToLower(strings.Repeat(t, 2)) }

// testSearch: a search finds what Match finds (words, traditional written
// words, one character, address, phone whole and by its last four, a
// number's day), with the other filters, after every write that changes
// the words, paged newest first with Before.
func testSearch(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	texts := []struct{ text, address, phone string }{
		{"路灯坏了", "东山村三巷5号", "13912345678"},
		{"路燈壞了，晚上很黑", "西山村", ""},
		{"井盖丢失", "东山村一巷", "13800001111"},
		{"水管漏水", "南村", "+8613700002222"},
		{"LED灯闪", "", ""},
	}
	var numbers []string
	for i, x := range texts {
		c, ev := newCase(clock, "o"+string(rune('1'+i)), []string{"g1", "g2"}[i%2])
		c.Text, c.Address, c.Phone = x.text, x.address, x.phone
		got, _, err := s.CreateCase(ctx, c, ev)
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, got.Number)
		clock.Advance(time.Minute)
	}
	search := func(q core.CaseQuery, text string) []string {
		t.Helper()
		q.Search = SearchRule.Parse(text)
		cs, err := s.Cases(ctx, q)
		if err != nil {
			t.Fatalf("search %q: %v", text, err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Number)
		}
		return out
	}
	want := func(idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, numbers[i])
		}
		return out
	}
	check := func(q core.CaseQuery, text string, idx ...int) {
		t.Helper()
		if got, w := search(q, text), want(idx...); !slices.Equal(got, w) {
			t.Errorf("search %q (%+v): %v, want %v", text, q.Grids, got, w)
		}
	}
	all := core.CaseQuery{}
	check(all, "路灯", 1, 0) // newest first; the traditional one too
	check(all, "路燈", 1, 0)
	check(all, "坏了", 1, 0)
	check(all, "灯", 4, 1, 0)
	check(all, "led", 4)
	check(all, "LE", []int{}...) // a word matches whole
	check(all, "东山村", 2, 0)
	check(all, "三巷5號", 0)
	check(all, "13912345678", 0)
	check(all, "139 1234 5678", 0)
	check(all, "2222", 3)
	check(all, "13700002222", 3)
	check(all, "井盖漏水", []int{}...)
	check(all, "20261125", 4, 3, 2, 1, 0)
	check(all, "，", 1) // no terms: Match over a walk
	check(all, "黑", 1)
	check(core.CaseQuery{Grids: []string{"g1"}}, "路灯", 0)
	check(core.CaseQuery{States: []core.State{core.StateSubmitted}}, "灯", 4, 1, 0)
	check(core.CaseQuery{Resident: "o2"}, "灯", 1)
	check(core.CaseQuery{Keep: func(c *core.Case) bool { return c.Number != numbers[4] }, Limit: 1}, "灯", 1)

	// The words change: the old ones no longer find the case, the new ones do.
	if _, _, err := s.UpdateCase(ctx, numbers[2], func(c *core.Case) ([]core.Event, error) {
		c.Text, c.Address, c.Result = "井盖已补", "北村", "已换新井盖"
		c.State = core.StateClosed
		return []core.Event{{Kind: core.EventClosed, At: clock.Now()}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	check(all, "东山村", 0)
	check(all, "北村", 2)
	check(all, "换新", 2)
	check(core.CaseQuery{States: []core.State{core.StateSubmitted}}, "井盖", []int{}...)
	check(core.CaseQuery{States: []core.State{core.StateClosed}}, "井盖", 2)
	// A write that leaves the words alone keeps the case found.
	if _, _, err := s.UpdateCase(ctx, numbers[0], func(c *core.Case) ([]core.Event, error) {
		c.State = core.StateAssigned
		return []core.Event{{Kind: core.EventAssigned, At: clock.Now()}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	check(all, "三巷", 0)

	// Paging: 25 more cases carrying 漏水, 10 a page, newest first, each once.
	var leaks []string
	for i := 0; i < 25; i++ {
		c, ev := newCase(clock, "p", "g1")
		c.Text = "楼上漏水第" + strings.Repeat("层", i%3+1)
		got, _, err := s.CreateCase(ctx, c, ev)
		if err != nil {
			t.Fatal(err)
		}
		leaks = append(leaks, got.Number)
	}
	leaks = append(leaks, numbers[3])
	slices.Sort(leaks)
	slices.Reverse(leaks)
	var paged []string
	before := ""
	for page := 0; page < 5; page++ {
		got := search(core.CaseQuery{Limit: 10, Before: before}, "漏水")
		paged = append(paged, got...)
		if len(got) < 10 {
			break
		}
		before = got[len(got)-1]
	}
	if !slices.Equal(paged, leaks) {
		t.Errorf("paged search: %v, want %v", paged, leaks)
	}
	// Before pages the lists without a search alike.
	first, err := s.Cases(ctx, core.CaseQuery{Limit: 3})
	if err != nil || len(first) != 3 {
		t.Fatalf("first page: %d, %v", len(first), err)
	}
	next, err := s.Cases(ctx, core.CaseQuery{Limit: 3, Before: first[2].Number})
	if err != nil || len(next) != 3 || next[0].Number >= first[2].Number {
		t.Fatalf("next page after %s: %+v, %v", first[2].Number, next, err)
	}
}

// testDepartments: a department's list is the cases it was called to,
// newest first, closed or not, after every write that calls or drops it.
func testDepartments(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	var called []string
	for i := 0; i < 6; i++ {
		c := mustCreate(t, s, clock, "o1", "g1")
		if i%2 == 1 {
			continue
		}
		if _, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
			c.Departments = append(c.Departments, core.Assist{Department: "cj", State: core.AssistCalled})
			if i == 4 {
				c.State = core.StateClosed
			}
			return []core.Event{{Kind: core.EventWhistled, At: clock.Now()}}, nil
		}); err != nil {
			t.Fatal(err)
		}
		called = append(called, c.Number)
	}
	list := func(q core.CaseQuery) []string {
		t.Helper()
		cs, err := s.Cases(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Number)
		}
		return out
	}
	want := slices.Clone(called)
	slices.Reverse(want)
	if got := list(core.CaseQuery{Department: "cj"}); !slices.Equal(got, want) {
		t.Fatalf("department cj: %v, want %v", got, want)
	}
	if got := list(core.CaseQuery{Department: "sj"}); len(got) != 0 {
		t.Fatalf("department sj, called to nothing: %v", got)
	}
	if got := list(core.CaseQuery{Department: "cj", States: []core.State{core.StateClosed}}); !slices.Equal(got, want[:1]) {
		t.Fatalf("department cj, closed: %v, want %v", got, want[:1])
	}
	// Dropped from a case: no longer listed.
	if _, _, err := s.UpdateCase(ctx, called[0], func(c *core.Case) ([]core.Event, error) {
		c.Departments = nil
		return []core.Event{{Kind: core.EventReturned, At: clock.Now()}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := list(core.CaseQuery{Department: "cj"}); !slices.Equal(got, want[:2]) {
		t.Fatalf("department cj after it was dropped from %s: %v, want %v", called[0], got, want[:2])
	}
}

// WordIndexBuiltWhenOpened checks, for a store that open opens (each call a
// new store on the same ledger, closed by the caller's next step), that a
// ledger written without a rule, or under another rule, is indexed when
// opened with one; that a tool opening it without a rule leaves its index
// as it is; and that a ledger whose index dropIndex removes (as an older
// gridbot left it) is indexed again. n cases are written, enough to cross
// the store's batch of the build.
func WordIndexBuiltWhenOpened(t *testing.T, n int, open func(core.SearchIndex) store.Store, dropIndex func()) {
	ctx := context.Background()
	found := func(s store.Store, rule core.SearchIndex, q string) int {
		t.Helper()
		cs, err := s.Cases(ctx, core.CaseQuery{Search: rule.Parse(q), Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	closeStore := func(s store.Store) {
		t.Helper()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s := open(core.SearchIndex{})
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		text := "井盖丢失"
		if i%10 == 0 {
			text = "路燈壞了"
		}
		if _, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Resident: "o1", Text: text,
			CreatedAt: now.Add(time.Duration(i) * time.Hour)}, core.Event{Kind: core.EventSubmitted, At: now}); err != nil {
			t.Fatal(err)
		}
	}
	if got := found(s, core.SearchIndex{}, "路灯"); got != 0 {
		t.Fatalf("without simplification 路灯 found %d cases written 路燈", got)
	}
	closeStore(s)
	lamps, covers := (n+9)/10, n-(n+9)/10
	// Under another rule: indexed again.
	s = open(SearchRule)
	if got := found(s, SearchRule, "路灯"); got != lamps {
		t.Fatalf("after the rule changed, 路灯 found %d cases, want %d", got, lamps)
	}
	closeStore(s)
	// Opened by a tool without a rule: the index stays.
	closeStore(open(core.SearchIndex{}))
	s = open(SearchRule)
	if got := found(s, SearchRule, "路灯"); got != lamps {
		t.Fatalf("after a tool opened the ledger, 路灯 found %d cases, want %d", got, lamps)
	}
	closeStore(s)
	// The ledger as an older gridbot left it: no word index.
	dropIndex()
	s = open(SearchRule)
	defer s.Close()
	if got := found(s, SearchRule, "井盖"); got != covers {
		t.Fatalf("an older ledger: 井盖 found %d cases, want %d", got, covers)
	}
	// Across months (a case an hour), newest first.
	cs, err := s.Cases(ctx, core.CaseQuery{Search: SearchRule.Parse("井盖"), Limit: n})
	if err != nil || len(cs) != covers {
		t.Fatalf("井盖: %d, %v", len(cs), err)
	}
	for i := 1; i < len(cs); i++ {
		if cs[i].Number >= cs[i-1].Number {
			t.Fatalf("not newest first: %s after %s", cs[i].Number, cs[i-1].Number)
		}
	}
}
