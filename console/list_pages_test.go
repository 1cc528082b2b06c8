package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"gridbot/core"
)

// TestListPagesWithBefore: ?before= lists the page after the case it
// names, newest first, with a search and without; the pages together are
// the whole list, each case once.
func TestListPagesWithBefore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var leaks []string
	for i := 0; i < 7; i++ {
		c, err := f.ledger.Submit(ctx, "o-leak"+string(rune('a'+i)), core.Draft{Category: "road", Text: "楼上水管漏水", Grid: "g1"})
		if err != nil {
			t.Fatal(err)
		}
		leaks = append(leaks, c.Number)
	}
	slices.Reverse(leaks)
	list := func(query string) []string {
		t.Helper()
		resp, raw := f.request(t, http.MethodGet, "/api/cases?"+query, f.login(t, "admin"), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", query, resp.StatusCode, raw)
		}
		return numbers(decode[struct {
			Cases []caseView `json:"cases"`
		}](t, raw).Cases)
	}
	if got := list("q=" + url.QueryEscape("漏水")); !slices.Equal(got, leaks) {
		t.Fatalf("search 漏水: %v, want %v", got, leaks)
	}
	if got := list("q=" + url.QueryEscape("漏水") + "&before=" + leaks[2]); !slices.Equal(got, leaks[3:]) {
		t.Errorf("search 漏水 before %s: %v, want %v", leaks[2], got, leaks[3:])
	}
	all := list("state=")
	if len(all) < len(leaks)+3 {
		t.Fatalf("the whole list: %v", all)
	}
	if got := list("state=&before=" + all[4]); !slices.Equal(got, all[5:]) {
		t.Errorf("the list before %s: %v, want %v", all[4], got, all[5:])
	}
}
