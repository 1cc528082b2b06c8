package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"gridbot/core"
)

// listPage is one answer of GET /api/cases.
type listPage struct {
	Cases []caseView `json:"cases"`
	More  *bool      `json:"more"`
}

// pagingFixture is the fixture's town with 180 more cases in g1 and 30 in
// g3 (213 in all, the g3 ones about 井盖 like the fixture's own g3 case),
// filed and left submitted, as they come in.
func pagingFixture(t *testing.T, opts ...fixtureOption) *fixture {
	t.Helper()
	f := newFixture(t, opts...)
	ctx := context.Background()
	for i := range 210 {
		grid, text := "g1", fmt.Sprintf("第%d处路面坑洼", i)
		if i%7 == 3 {
			grid, text = "g3", fmt.Sprintf("第%d个井盖缺失", i)
		}
		if _, err := f.ledger.Submit(ctx, fmt.Sprintf("o-paging-%d", i), core.Draft{Category: "road", Text: text, Grid: grid}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// listAs asks GET /api/cases?query as staff member who and decodes a 200.
func (f *fixture) listAs(t *testing.T, who *http.Cookie, query string) listPage {
	t.Helper()
	resp, raw := f.request(t, http.MethodGet, "/api/cases?"+query, who, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", query, resp.StatusCode, raw)
	}
	page := decode[listPage](t, raw)
	if page.More == nil {
		t.Fatalf("%s: the answer has no more: %s", query, raw)
	}
	return page
}

// visibleTo lists, newest first, the numbers of the cases staff member id
// may see that keep accepts: what their pages together must be.
func (f *fixture) visibleTo(t *testing.T, id string, keep func(*core.Case) bool) []string {
	t.Helper()
	all, err := f.store.Cases(context.Background(), core.CaseQuery{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	staff := f.town.StaffMember(id)
	var out []string
	for i := range all {
		if f.town.CanSee(staff, &all[i]) && keep(&all[i]) {
			out = append(out, all[i].Number)
		}
	}
	return out
}

// TestListPageSize: a list answers 100 cases unless it asks ?limit= (1 to
// 500), and says more exactly when cases are left below the page.
func TestListPageSize(t *testing.T) {
	f := pagingFixture(t)
	admin := f.login(t, "admin")
	all := f.visibleTo(t, "admin", func(*core.Case) bool { return true })
	g3 := f.visibleTo(t, "admin", func(c *core.Case) bool { return c.Grid == "g3" })
	if len(all) != 213 || len(g3) != 31 {
		t.Fatalf("the fixture holds %d cases, %d in g3", len(all), len(g3))
	}
	jing := url.QueryEscape("井盖")
	for _, tt := range []struct {
		query string
		want  []string
		more  bool
	}{
		{"state=", all[:100], true},
		{"", all[:100], true}, // no filter at all
		{"state=&limit=1", all[:1], true},
		{"state=&limit=212", all[:212], true},
		{"state=&limit=213", all, false}, // exactly full: nothing more
		{"state=&limit=214", all, false},
		{"state=&limit=500", all, false},
		{"state=&limit=100&before=" + all[99], all[100:200], true},
		{"state=&before=" + all[112], all[113:], false},
		{"state=&before=" + strings.ToLower(all[112]), all[113:], false}, // the prefix as typed
		{"state=&before=" + all[len(all)-1], nil, false},
		{"state=&grid=g3&limit=30", g3[:30], true},
		{"state=&grid=g3&limit=31", g3, false},
		{"state=&q=" + jing + "&limit=30", g3[:30], true},
		{"state=&q=" + jing + "&limit=31", g3, false},
		{"state=&q=" + jing + "&limit=10&before=" + g3[20], g3[21:31], false},
		{"state=&q=" + jing + "&limit=9&before=" + g3[20], g3[21:30], true},
		{"state=&q=" + g3[5], g3[5:6], false}, // a whole case number
		{"state=&q=" + g3[5] + "&before=" + g3[5], nil, false},
	} {
		page := f.listAs(t, admin, tt.query)
		if got := numbers(page.Cases); !slices.Equal(got, tt.want) || *page.More != tt.more {
			t.Errorf("%s: %d cases (%s), more %v; want %d (%s), more %v", tt.query, len(got), ends(got), *page.More,
				len(tt.want), ends(tt.want), tt.more)
		}
	}
}

// countingCases counts the list reads of the store under it.
type countingCases struct {
	core.CaseStore
	reads atomic.Int64
}

func (c *countingCases) Cases(ctx context.Context, q core.CaseQuery) ([]core.Case, error) {
	c.reads.Add(1)
	return c.CaseStore.Cases(ctx, q)
}

func (c *countingCases) Case(ctx context.Context, number string) (core.Case, error) {
	c.reads.Add(1)
	return c.CaseStore.Case(ctx, number)
}

// TestListPageBadInput: a page size or a cursor the list cannot use is
// answered 400 in words, before the store is read.
func TestListPageBadInput(t *testing.T) {
	counted := &countingCases{}
	f := newFixture(t, func(f *fixture) { counted.CaseStore = f.store; f.srv.Store = counted })
	admin := f.login(t, "admin")
	good := f.cases["g2"]
	for _, tt := range []struct{ query, msg string }{
		{"limit=0", msgBadLimit},
		{"limit=501", msgBadLimit},
		{"limit=-1", msgBadLimit},
		{"limit=abc", msgBadLimit},
		{"limit=1.5", msgBadLimit},
		{"limit=%2010", msgBadLimit},
		{"limit=99999999999999999999", msgBadLimit},
		{"limit=100&before=x", msgBadBefore},
		{"before=" + good[:len(good)-1], msgBadBefore},        // a digit short
		{"before=" + good + "00000", msgBadBefore},            // far too long
		{"before=XX" + good[2:], msgBadBefore},                // another town's prefix
		{"before=" + good[:5] + "a" + good[6:], msgBadBefore}, // a letter among the digits
		{"before=" + url.QueryEscape(good+"\x00"), msgBadBefore},
		{"before=" + url.QueryEscape("ST20261125０００１"), msgBadBefore}, // full-width digits
		{"before=" + strings.Repeat("9", 100000), msgBadBefore},
		{"state=lost&limit=0", msgBadState},
	} {
		resp, body := f.request(t, http.MethodGet, "/api/cases?"+tt.query, admin, nil)
		if resp.StatusCode != http.StatusBadRequest || errorMessage(t, body) != tt.msg {
			t.Errorf("%.60s: %d %s, want 400 %s", tt.query, resp.StatusCode, body, tt.msg)
		}
	}
	if n := counted.reads.Load(); n != 0 {
		t.Errorf("refused pages read the store %d times", n)
	}
	// A good cursor is read, so the count above could have seen a read.
	page := f.listAs(t, admin, "state=&limit=500&before="+good)
	if n := counted.reads.Load(); n == 0 {
		t.Error("a good page read nothing")
	}
	if got, want := numbers(page.Cases), []string{f.cases["g1"]}; !slices.Equal(got, want) {
		t.Errorf("before %s: %v, want %v", good, got, want)
	}
}

// TestListPagesReachEveryCaseOnce: following before= from page to page
// lists every case the staff member may see, as filtered, each once and in
// order; a page never carries a case outside their reach, and more is
// false only on the last page.
func TestListPagesReachEveryCaseOnce(t *testing.T) {
	f := pagingFixture(t)
	// Some of the cases taken on, so that state and mine filters differ.
	ctx := context.Background()
	taken := f.visibleTo(t, "admin", func(c *core.Case) bool { return c.Grid == "g1" })
	for _, n := range taken[:40] {
		if _, _, err := f.ledger.Assign(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	open := func(c *core.Case) bool { return c.State != core.StateClosed && c.State != core.StateResolved }
	for _, tt := range []struct {
		who, query string
		keep       func(*core.Case) bool
	}{
		{"admin", "state=", func(*core.Case) bool { return true }},
		{"admin", "state=&limit=37", func(*core.Case) bool { return true }},
		{"admin", "state=assigned&limit=7", func(c *core.Case) bool { return c.State == core.StateAssigned }},
		{"admin", "state=&grid=g3&limit=8", func(c *core.Case) bool { return c.Grid == "g3" }},
		{"admin", "state=&q=" + url.QueryEscape("路面") + "&limit=45", func(c *core.Case) bool { return strings.Contains(c.Text, "路面") }},
		{"lead1", "state=&limit=50", func(*core.Case) bool { return true }},
		{"lead1", "state=open&mine=1&limit=9", func(c *core.Case) bool { return open(c) && c.Assignee == "lead1" }},
		{"lead2", "state=", func(*core.Case) bool { return true }},
		{"lead2", "state=&limit=4", func(*core.Case) bool { return true }},
		{"lead2", "state=&q=" + url.QueryEscape("路面") + "&limit=3", func(c *core.Case) bool { return strings.Contains(c.Text, "路面") }},
		{"cadre1", "state=open&limit=60", open},
		{"dept1", "state=", func(*core.Case) bool { return true }},
	} {
		t.Run(tt.who+"?"+tt.query, func(t *testing.T) {
			who := f.login(t, tt.who)
			want := f.visibleTo(t, tt.who, tt.keep)
			limit := defaultListed
			if v, err := url.ParseQuery(tt.query); err == nil && v.Get("limit") != "" {
				fmt.Sscan(v.Get("limit"), &limit)
			}
			var got []string
			query := tt.query
			for pages := 0; ; pages++ {
				if pages > len(want)+1 {
					t.Fatalf("%d pages and counting", pages)
				}
				page := f.listAs(t, who, query)
				if len(page.Cases) > limit {
					t.Fatalf("a page of %d cases, limit %d", len(page.Cases), limit)
				}
				for i := range page.Cases {
					c, err := f.store.Case(ctx, page.Cases[i].Number)
					if err != nil || !f.town.CanSee(f.town.StaffMember(tt.who), &c) {
						t.Fatalf("%s lists %s, outside their reach (%v)", tt.who, page.Cases[i].Number, err)
					}
				}
				got = append(got, numbers(page.Cases)...)
				if !*page.More {
					break
				}
				if len(page.Cases) != limit {
					t.Fatalf("more after a page of %d, limit %d", len(page.Cases), limit)
				}
				query = tt.query + "&before=" + page.Cases[len(page.Cases)-1].Number
			}
			if !slices.Equal(got, want) {
				t.Errorf("the pages list %d cases (%s), want %d (%s)", len(got), ends(got), len(want), ends(want))
			}
		})
	}
}

// ends names a list of numbers by its first and last.
func ends(numbers []string) string {
	if len(numbers) == 0 {
		return "none"
	}
	return numbers[0] + "…" + numbers[len(numbers)-1]
}
