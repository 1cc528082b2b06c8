package valkey_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/store"
	"gridbot/store/storetest"
	"gridbot/store/valkey"
)

// A ledger written before the word index, or indexed under another rule,
// is indexed when a store opens it with a rule; opened without one (a
// tool), its index is left as it is.
func TestWordIndexBuiltWhenOpened(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	open := func(rule core.SearchIndex) store.Store {
		t.Helper()
		s, err := valkey.Open(ctx, valkey.Options{Addr: []string{valkeytest.Addr(t)}, Prefix: prefix, CasePrefix: "ST", Search: rule})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	dropIndex := func() {
		s := open(core.SearchIndex{}).(*valkey.Store)
		defer s.Close()
		keys, err := s.Client().Do(ctx, s.Client().B().Keys().Pattern(prefix+"{gb}:w*").Build()).AsStrSlice()
		if err != nil || len(keys) < 10 {
			t.Fatalf("word index keys: %d, %v", len(keys), err)
		}
		for _, k := range keys {
			if err := s.Client().Do(ctx, s.Client().B().Del().Key(k).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}
	}
	storetest.WordIndexBuiltWhenOpened(t, 700, open, dropIndex) // more than a page of the build
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
