package console

import (
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"gridbot/core"
)

// whistled is the fixture with g3's case whistled to 城建办 (dept1).
func whistled(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	if _, _, err := f.ledger.Whistle(context.Background(), f.cases["g3"], "lead2", "cj", "井盖归城建"); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRoleSees is the table of what every role may see, through the API
// and the websocket: the town everything, a village its grids, a grid
// leader the grids where they hold a post, a department what was whistled
// to it. Anything else answers 404 and never arrives on the feed.
func TestRoleSees(t *testing.T) {
	f := whistled(t)
	all := []string{"g1", "g2", "g3"}
	tests := []struct {
		staff string
		sees  []string // grids whose case is visible
	}{
		{"admin", []string{"g1", "g2", "g3"}},
		{"cadre1", []string{"g1", "g2"}},
		{"lead1", []string{"g1", "g2"}},
		{"lead2", []string{"g3"}},
		{"dept1", []string{"g3"}},
	}
	conns := map[string]*websocketConn{}
	for _, tt := range tests {
		conns[tt.staff] = &websocketConn{f.connect(t, tt.staff, nil)}
	}
	// One event on every case, on everybody's feed.
	var published []core.Event
	for _, g := range all {
		published = append(published, f.replyAndPublish(t, f.cases[g], "admin", "事件 "+g))
	}
	for _, tt := range tests {
		t.Run(tt.staff, func(t *testing.T) {
			cookie := f.login(t, tt.staff)
			// The list.
			resp, body := f.request(t, http.MethodGet, "/api/cases?state=", cookie, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("list: %d %s", resp.StatusCode, body)
			}
			listed := numbers(decode[struct{ Cases []caseView }](t, body).Cases)
			var want []string
			for _, g := range tt.sees {
				want = append(want, f.cases[g])
			}
			slices.Sort(listed)
			slices.Sort(want)
			if !slices.Equal(listed, want) {
				t.Errorf("list %v, want %v", listed, want)
			}
			// Each case, and the feed.
			for _, g := range all {
				visible := slices.Contains(tt.sees, g)
				resp, body := f.request(t, http.MethodGet, "/api/cases/"+f.cases[g], cookie, nil)
				if visible && resp.StatusCode != http.StatusOK || !visible && resp.StatusCode != http.StatusNotFound {
					t.Errorf("case of %s: %d %s", g, resp.StatusCode, body)
				}
				if !visible && errorMessage(t, body) != msgNotFound {
					t.Errorf("case of %s: error %s", g, body)
				}
			}
			var got []uint64
			for _, ev := range published {
				c, _ := f.store.Case(context.Background(), ev.Case)
				if slices.Contains(tt.sees, c.Grid) {
					got = append(got, ev.Seq)
				}
			}
			if feed := readEvents(t, conns[tt.staff].Conn, len(got)); !equalSeqs(feed, got) {
				t.Errorf("feed %v, want %v", feed, got)
			}
			expectQuiet(t, conns[tt.staff].Conn)
		})
	}
}

// TestRoleDoes is the table of what every role may and may not do. Each
// row runs on a fresh fixture.
func TestRoleDoes(t *testing.T) {
	tests := []struct {
		name   string
		staff  string
		setup  func(t *testing.T, f *fixture)
		method string
		path   string // {g1} and so on stand for the grid's case
		body   any
		want   int
	}{
		{"leader replies on own grid", "lead1", nil, "POST", "/api/cases/{g1}/reply", actionBody{Text: "收到"}, 200},
		{"leader replies on another grid", "lead2", nil, "POST", "/api/cases/{g1}/reply", actionBody{Text: "收到"}, 404},
		{"village replies on its grid", "cadre1", nil, "POST", "/api/cases/{g2}/reply", actionBody{Text: "收到"}, 200},
		{"village replies elsewhere", "cadre1", nil, "POST", "/api/cases/{g3}/reply", actionBody{Text: "收到"}, 404},
		{"department replies on a case not whistled", "dept1", nil, "POST", "/api/cases/{g1}/reply", actionBody{Text: "收到"}, 404},
		{"leader accepts", "lead1", nil, "POST", "/api/cases/{g1}/accept", nil, 200},
		{"department accepts (signs instead)", "dept1", whistleG3, "POST", "/api/cases/{g3}/accept", nil, 403},
		{"leader hands to B", "lead2", nil, "POST", "/api/cases/{g3}/transfer", nil, 409}, // B is the same person: no change
		{"leader whistles", "lead1", nil, "POST", "/api/cases/{g1}/whistle", actionBody{Department: "cj"}, 200},
		{"whistle an unknown department", "lead1", nil, "POST", "/api/cases/{g1}/whistle", actionBody{Department: "nope"}, 400},
		{"department signs", "dept1", whistleG3, "POST", "/api/cases/{g3}/sign", nil, 200},
		{"department returns", "dept1", whistleG3, "POST", "/api/cases/{g3}/return", actionBody{Reason: "不归我们管"}, 200},
		{"leader signs", "lead2", whistleG3, "POST", "/api/cases/{g3}/sign", nil, 403},
		{"department replies on a whistled case", "dept1", whistleG3, "POST", "/api/cases/{g3}/reply", actionBody{Text: "明天来修"}, 200},
		{"town reopens", "admin", resolveG1, "POST", "/api/cases/{g1}/reopen", nil, 200},
		{"village reopens", "cadre1", resolveG1, "POST", "/api/cases/{g1}/reopen", nil, 403},
		{"leader reopens", "lead1", resolveG1, "POST", "/api/cases/{g1}/reopen", nil, 403},
		{"town moves a case to another village", "admin", nil, "POST", "/api/cases/{g1}/reclassify", actionBody{Grid: "g3", Reason: "位置在西湖"}, 200},
		{"village moves within its grids", "cadre1", nil, "POST", "/api/cases/{g1}/reclassify", actionBody{Grid: "g2", Category: "env", Reason: "选错了"}, 200},
		{"village moves out of its grids", "cadre1", nil, "POST", "/api/cases/{g1}/reclassify", actionBody{Grid: "g3", Reason: "推走"}, 403},
		{"reclassify without a reason", "admin", nil, "POST", "/api/cases/{g1}/reclassify", actionBody{Category: "env"}, 400},
		{"leader reclassifies", "lead1", nil, "POST", "/api/cases/{g1}/reclassify", actionBody{Category: "env", Reason: "x"}, 403},
		{"town lists staff", "admin", nil, "GET", "/api/staff", nil, 404},
		{"system administrator lists staff", "sysadm", nil, "GET", "/api/staff", nil, 200},
		{"village lists staff", "cadre1", nil, "GET", "/api/staff", nil, 404},
		{"leader adds staff", "lead1", nil, "POST", "/api/staff", staffAddRequest{ID: "x1", Name: "新人", Role: core.RoleTown, Password: "long-enough"}, 404},
		{"town exports whole phones", "admin", nil, "GET", "/api/cases.csv?phone=full", nil, 200},
		{"village exports whole phones", "cadre1", nil, "GET", "/api/cases.csv?phone=full", nil, 404},
		{"village exports masked phones", "cadre1", nil, "GET", "/api/cases.csv", nil, 200},
		{"leader reads the board", "lead1", nil, "GET", "/api/figures/board", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, withBook(t))
			if tt.setup != nil {
				tt.setup(t, f)
			}
			path := tt.path
			for g, n := range f.cases {
				path = strings.ReplaceAll(path, "{"+g+"}", n)
			}
			resp, body := f.request(t, tt.method, path, f.login(t, tt.staff), tt.body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.method == "POST" && tt.want == 200 && strings.HasPrefix(path, "/api/cases/") {
				evs, err := f.store.Events(context.Background(), strings.Split(path, "/")[3])
				if err != nil {
					t.Fatal(err)
				}
				last := evs[len(evs)-1]
				if last.Kind == core.EventAssigned && len(evs) > 1 {
					last = evs[len(evs)-2] // a move assigns after recording the change
				}
				if last.Actor != tt.staff {
					t.Errorf("last event %s by %q, want by %s", last.Kind, last.Actor, tt.staff)
				}
			}
		})
	}
}

func whistleG3(t *testing.T, f *fixture) {
	t.Helper()
	if _, _, err := f.ledger.Whistle(context.Background(), f.cases["g3"], "lead2", "cj", ""); err != nil {
		t.Fatal(err)
	}
}

func resolveG1(t *testing.T, f *fixture) {
	t.Helper()
	if _, _, err := f.ledger.Resolve(context.Background(), f.cases["g1"], "lead1", "修好了"); err != nil {
		t.Fatal(err)
	}
}

// withBook turns on staff administration over the fixture's store.
func withBook(t *testing.T) fixtureOption {
	return func(f *fixture) {
		book, err := core.NewStaffBook(context.Background(), f.town, f.store)
		if err != nil {
			t.Fatal(err)
		}
		f.srv.Book, f.srv.Town, f.ledger.Town = book, book, book
		f.srv.Roster = &core.Roster{Town: book, Records: f.store, Keys: f.store}
	}
}

type websocketConn struct{ Conn *websocket.Conn }

// TestFiguresCSVEqualsPage checks that the monthly ledger and the rates
// download as CSV with the same numbers the page shows, for every role.
func TestFiguresCSVEqualsPage(t *testing.T) {
	f := whistled(t)
	ctx := context.Background()
	if _, _, err := f.ledger.Resolve(ctx, f.cases["g1"], "lead1", "修好了"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ledger.Rate(ctx, "o-resident-g1", 5); err != nil {
		t.Fatal(err)
	}
	month := f.town.MonthKey(t0)
	for _, staff := range []string{"admin", "cadre1", "lead2", "dept1"} {
		for _, by := range []string{"grid", "village", "department", "month"} {
			t.Run(staff+"/"+by, func(t *testing.T) {
				cookie := f.login(t, staff)
				q := "?month=" + month + "&by=" + by
				_, page := f.request(t, http.MethodGet, "/api/figures/ledger"+q, cookie, nil)
				rows := decode[struct{ Rows []core.LedgerRow }](t, page).Rows
				resp, file := f.request(t, http.MethodGet, "/api/figures/ledger.csv"+q, cookie, nil)
				if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
					t.Fatalf("csv: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				recs := readCSV(t, file)
				if len(recs) != len(rows)+1 {
					t.Fatalf("csv has %d records for %d rows", len(recs), len(rows))
				}
				for i, r := range rows {
					want := []string{r.Name, strconv.Itoa(r.Opened), strconv.Itoa(r.Closed), strconv.Itoa(r.Open),
						strconv.Itoa(r.Overdue), strconv.Itoa(r.Reopened)}
					if !slices.Equal(recs[i+1], want) {
						t.Errorf("csv row %d %v, page %v", i, recs[i+1], want)
					}
				}
				total := rows[len(rows)-1]
				visible := map[string]int{"admin": 3, "cadre1": 2, "lead2": 1, "dept1": 1}[staff]
				if total.Key != "total" || total.Opened != visible {
					t.Errorf("total %+v, want %d opened", total, visible)
				}

				_, page = f.request(t, http.MethodGet, "/api/figures/rates?by="+by, cookie, nil)
				rates := decode[struct{ Rows []rateView }](t, page).Rows
				_, file = f.request(t, http.MethodGet, "/api/figures/rates.csv?by="+by, cookie, nil)
				recs = readCSV(t, file)
				if len(recs) != len(rates)+1 {
					t.Fatalf("rates csv has %d records for %d rows", len(recs), len(rates))
				}
				for i, r := range rates {
					if recs[i+1][0] != r.Name || recs[i+1][4] != r.ResponseRate || recs[i+1][7] != r.ResolutionRate ||
						recs[i+1][10] != r.SatisfactionRate || recs[i+1][1] != strconv.Itoa(r.Cases) {
						t.Errorf("rates csv row %d %v, page %+v", i, recs[i+1], r)
					}
				}
			})
		}
	}
}

func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(data), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("csv %q: %v", data, err)
	}
	return recs
}

// TestCasesCSVMasksPhones: the export masks phones unless the town asks,
// and defuses cells a spreadsheet would run as formulas.
func TestCasesCSVMasksPhones(t *testing.T) {
	f := newFixture(t)
	f.submit(t, "g1", "road", "=HYPERLINK(\"http://evil\")")
	for _, tt := range []struct {
		staff, query, phone string
	}{
		{"admin", "", "138****5678"},
		{"admin", "?phone=full", residentPhone},
		{"cadre1", "", "138****5678"},
	} {
		_, body := f.request(t, http.MethodGet, "/api/cases.csv"+tt.query, f.login(t, tt.staff), nil)
		recs := readCSV(t, body)
		if len(recs) < 2 {
			t.Fatalf("%s: %v", tt.staff, recs)
		}
		for _, r := range recs[1:] {
			if r[10] != tt.phone {
				t.Errorf("%s%s: phone %q, want %q", tt.staff, tt.query, r[10], tt.phone)
			}
			if strings.HasPrefix(r[3], "=") {
				t.Errorf("formula cell %q", r[3])
			}
		}
	}
}
