package core_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"gridbot/core"
	"gridbot/store/embedded"
)

// TestHouseholdByName: namesakes share the name's entry; a changed name
// moves the file, 注销 takes it out; the index holds no name in the clear;
// what is not a whole registered name finds no one.
func TestHouseholdByName(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	recs := st
	h := &core.Households{Records: recs}
	for _, hh := range []core.Household{
		{OpenID: "o1", Grid: "g1", Name: "张秀英"},
		{OpenID: "o2", Grid: "g2", Name: " 张 秀英 "},
		{OpenID: "o3", Grid: "g1", Name: "Li Na"},
		{OpenID: "o4", Grid: "g1"},
	} {
		if err := h.SaveHousehold(ctx, hh); err != nil {
			t.Fatal(err)
		}
	}
	find := func(name string) string {
		t.Helper()
		ids, err := h.ByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		return fmt.Sprint(ids)
	}
	for _, tt := range []struct{ name, want string }{
		{"张秀英", "[o1 o2]"}, {"张 秀 英", "[o1 o2]"}, {"LINA", "[o3]"}, {"li na", "[o3]"},
		{"张", "[]"}, {"秀英", "[]"}, {"", "[]"}, {"   ", "[]"},
	} {
		if got := find(tt.name); got != tt.want {
			t.Errorf("by name %q: %s, want %s", tt.name, got, tt.want)
		}
	}
	if err := h.SaveHousehold(ctx, core.Household{OpenID: "o1", Grid: "g1", Name: "张秀兰"}); err != nil {
		t.Fatal(err)
	}
	if got, now := find("张秀英"), find("张秀兰"); got != "[o2]" || now != "[o1]" {
		t.Errorf("after a change: old name %s, new name %s", got, now)
	}
	if err := h.Forget(ctx, "o2", nil); err != nil {
		t.Fatal(err)
	}
	if got := find("张秀英"); got != "[]" {
		t.Errorf("after 注销: %s", got)
	}
	keys, _, err := recs.RecordKeys(ctx, "household_name", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		v, _, _ := recs.Record(ctx, "household_name", k)
		for _, name := range []string{"张秀兰", "LINA", "Li Na"} {
			if slices.Contains([]string{k, string(v)}, name) {
				t.Errorf("the index holds %q in the clear", name)
			}
		}
	}
}
