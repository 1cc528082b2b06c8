package valkey_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/store/storetest"
	"gridbot/store/valkey"
)

// A ledger written before the word index, or indexed under another rule,
// is indexed when a store opens it with a rule; opened without one (a
// tool), its index is left as it is.
func TestWordIndexBuiltWhenOpened(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	open := func(rule core.SearchIndex) *valkey.Store {
		t.Helper()
		s, err := valkey.Open(ctx, valkey.Options{Addr: []string{valkeytest.Addr(t)}, Prefix: prefix, CasePrefix: "ST", Search: rule})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	found := func(s *valkey.Store, rule core.SearchIndex, q string) int {
		t.Helper()
		cs, err := s.Cases(ctx, core.CaseQuery{Search: rule.Parse(q), Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	s := open(core.SearchIndex{})
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 700; i++ { // more than a page of the build
		text := "井盖丢失"
		if i%10 == 0 {
			text = "路燈壞了"
		}
		if _, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Resident: "o1", Text: text,
			CreatedAt: now.Add(time.Duration(i) * time.Hour)}, core.Event{Kind: core.EventSubmitted, At: now}); err != nil {
			t.Fatal(err)
		}
	}
	if n := found(s, core.SearchIndex{}, "路灯"); n != 0 {
		t.Fatalf("without simplification 路灯 found %d cases written 路燈", n)
	}
	s.Close()
	s = open(storetest.SearchRule)
	if n := found(s, storetest.SearchRule, "路灯"); n != 70 {
		t.Fatalf("after the rule changed, 路灯 found %d cases, want 70", n)
	}
	s.Close()
	s = open(core.SearchIndex{})
	s.Close()
	s = open(storetest.SearchRule)
	if n := found(s, storetest.SearchRule, "路灯"); n != 70 {
		t.Fatalf("after a tool opened the ledger, 路灯 found %d cases, want 70", n)
	}
	// The ledger as an older gridbot left it: no word index.
	keys, err := s.Client().Do(ctx, s.Client().B().Keys().Pattern(prefix+"{gb}:w*").Build()).AsStrSlice()
	if err != nil || len(keys) < 10 {
		t.Fatalf("word index keys: %d, %v", len(keys), err)
	}
	for _, k := range keys {
		if err := s.Client().Do(ctx, s.Client().B().Del().Key(k).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = open(storetest.SearchRule)
	defer s.Close()
	if n := found(s, storetest.SearchRule, "井盖"); n != 630 {
		t.Fatalf("an older ledger: 井盖 found %d cases, want 630", n)
	}
	// Across months (700 hours is a month and more), newest first.
	cs, err := s.Cases(ctx, core.CaseQuery{Search: storetest.SearchRule.Parse("井盖"), Limit: 700})
	if err != nil || len(cs) != 630 {
		t.Fatalf("井盖: %d, %v", len(cs), err)
	}
	for i := 1; i < len(cs); i++ {
		if cs[i].Number >= cs[i-1].Number {
			t.Fatalf("not newest first: %s after %s", cs[i].Number, cs[i-1].Number)
		}
	}
}

// A ledger written before the department index is indexed when opened.
func TestDepartmentIndexBuiltWhenOpened(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, nil)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Resident: "o1", Text: "路灯",
		Departments: []core.Assist{{Department: "cj", State: core.AssistCalled}}, CreatedAt: now},
		core.Event{Kind: core.EventSubmitted, At: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{prefix + "{gb}:dept:cj", prefix + "{gb}:depted"} {
		if err := s.Client().Do(ctx, s.Client().B().Del().Key(k).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	s = open(t, prefix, nil)
	cs, err := s.Cases(ctx, core.CaseQuery{Department: "cj"})
	if err != nil || len(cs) != 1 || cs[0].Number != c.Number {
		t.Fatalf("department cj after the index was built: %+v, %v", cs, err)
	}
}

// A search whose terms differ greatly in size reads the small one and
// checks the candidates: the long posting unread, the answer the same.
func TestSearchSkipsALongPosting(t *testing.T) {
	ctx := context.Background()
	s := open(t, valkeytest.Prefix(t), nil)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	var want []string
	for i := 0; i < 300; i++ {
		text := "灯泡坏了"
		switch i {
		case 100, 200:
			text = "灯泡亮了又灭"
		case 150:
			text = "水泡亮晶晶" // carries 泡亮, not 灯泡亮
		}
		c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Resident: "o1", Text: text, CreatedAt: now},
			core.Event{Kind: core.EventSubmitted, At: now})
		if err != nil {
			t.Fatal(err)
		}
		if i == 100 || i == 200 {
			want = append([]string{c.Number}, want...)
		}
	}
	cs, err := s.Cases(ctx, core.CaseQuery{Search: core.SearchIndex{}.Parse("灯泡亮")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Number)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("灯泡亮: %v, want %v", got, want)
	}
}
