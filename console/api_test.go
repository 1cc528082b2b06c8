package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"gridbot/core"
)

func TestLogin(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, user, pass string
		want             int
	}{
		{"town admin", "admin", password("admin"), http.StatusOK},
		{"grid leader", "lead1", password("lead1"), http.StatusOK},
		{"wrong password", "admin", "guess", http.StatusUnauthorized},
		{"unknown user", "nobody", "pw-nobody", http.StatusUnauthorized},
		{"disabled", "gone", password("gone"), http.StatusUnauthorized},
		{"no password set", "nopass", "", http.StatusUnauthorized},
		{"empty", "", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: tt.user, Password: tt.pass})
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			var cookie *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == SessionCookie {
					cookie = c
				}
			}
			if tt.want != http.StatusOK {
				if got := errorMessage(t, body); got != msgBadLogin {
					t.Errorf("error %q, want %q", got, msgBadLogin)
				}
				if cookie != nil {
					t.Errorf("refused login set a cookie")
				}
				return
			}
			got := decode[struct{ Staff staffView }](t, body)
			if got.Staff.ID != tt.user || got.Staff.Name == "" || got.Staff.Role == "" {
				t.Errorf("staff %+v", got.Staff)
			}
			if cookie == nil {
				t.Fatal("no session cookie")
			}
			if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Secure {
				t.Errorf("cookie attributes %+v", cookie)
			}
			if len(cookie.Value) < 43 {
				t.Errorf("token %q is too short for 32 random bytes", cookie.Value)
			}
			// The store keeps only the token's hash.
			if _, ok, _ := f.store.Get(context.Background(), sessionKeyPrefix+cookie.Value); ok {
				t.Error("session stored under the raw token")
			}
			if _, ok, _ := f.store.Get(context.Background(), sessionKey(cookie.Value)); !ok {
				t.Error("session not stored under the token's hash")
			}
		})
	}
}

func TestMeAndLogout(t *testing.T) {
	f := newFixture(t)
	cookie := f.login(t, "cadre1")

	resp, body := f.request(t, http.MethodGet, "/api/me", cookie, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("me: %d %s", resp.StatusCode, body)
	}
	if me := decode[struct{ Staff staffView }](t, body); me.Staff.ID != "cadre1" || me.Staff.RoleLabel == "" {
		t.Errorf("me %+v", me.Staff)
	}
	resp, body = f.request(t, http.MethodPost, "/api/logout", cookie, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	resp, _ = f.request(t, http.MethodGet, "/api/me", cookie, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("me after logout: %d, want 401", resp.StatusCode)
	}
}

func TestUnauthenticated(t *testing.T) {
	f := newFixture(t)
	number := f.cases["g1"]
	forged := &http.Cookie{Name: SessionCookie, Value: "forged-token"}
	tests := []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/me", nil},
		{http.MethodGet, "/api/cases", nil},
		{http.MethodGet, "/api/cases/" + number, nil},
		{http.MethodPost, "/api/cases/" + number + "/reply", actionBody{Text: "你好"}},
		{http.MethodPost, "/api/cases/" + number + "/resolve", actionBody{Result: "已修"}},
	}
	for _, tt := range tests {
		for _, cookie := range []*http.Cookie{nil, forged} {
			resp, body := f.request(t, tt.method, tt.path, cookie, tt.body)
			if resp.StatusCode != http.StatusUnauthorized || errorMessage(t, body) != msgLoginFirst {
				t.Errorf("%s %s (cookie %v): %d %s, want 401", tt.method, tt.path, cookie != nil, resp.StatusCode, body)
			}
		}
	}
}

// TestDisabledAfterLogin checks that a session ends when its staff member is
// disabled in a reloaded directory.
func TestDisabledAfterLogin(t *testing.T) {
	f := newFixture(t)
	cookie := f.login(t, "lead1")
	reloaded := *f.town
	reloaded.Staff = slices.Clone(f.town.Staff)
	for i := range reloaded.Staff {
		if reloaded.Staff[i].ID == "lead1" {
			reloaded.Staff[i].Disabled = true
		}
	}
	town, err := core.NewTown(reloaded)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Town = town
	resp, _ := f.request(t, http.MethodGet, "/api/cases", cookie, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("disabled staff listed cases: %d", resp.StatusCode)
	}
}

type listAnswer struct {
	Cases []caseView `json:"cases"`
}

func numbers(cs []caseView) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Number)
	}
	return out
}

func TestListVisibility(t *testing.T) {
	f := newFixture(t)
	g1, g2, g3 := f.cases["g1"], f.cases["g2"], f.cases["g3"]
	tests := []struct {
		name, staff, query string
		want               []string // newest first
	}{
		{"town sees all", "admin", "", []string{g3, g2, g1}},
		{"village sees its village", "cadre1", "", []string{g2, g1}},
		{"grid leader sees own grids", "lead1", "", []string{g2, g1}},
		{"other grid leader", "lead2", "", []string{g3}},
		{"grid filter", "admin", "?grid=g2", []string{g2}},
		{"grid filter outside view", "lead2", "?grid=g1", nil},
		{"open cases", "admin", "?state=open", []string{g3, g2, g1}},
		{"state assigned", "cadre1", "?state=assigned", []string{g2, g1}},
		{"state closed", "admin", "?state=closed", nil},
		{"text search", "admin", "?q=" + url.QueryEscape("路灯"), []string{g1}},
		{"number search", "admin", "?q=" + strings.ToLower(g3), []string{g3}},
		{"search outside view", "lead2", "?q=" + url.QueryEscape("路灯"), nil},
		{"number search outside view", "lead2", "?q=" + g1, nil},
		{"number search with another filter", "admin", "?q=" + g3 + "&grid=g1", nil},
		{"number search, no such case", "admin", "?q=ST209901010001", nil},
		{"part of a number", "admin", "?q=" + g3[len(g3)-4:], []string{g3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.request(t, http.MethodGet, "/api/cases"+tt.query, f.login(t, tt.staff), nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			got := numbers(decode[listAnswer](t, body).Cases)
			if !slices.Equal(got, tt.want) {
				t.Errorf("cases %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("unknown state", func(t *testing.T) {
		resp, body := f.request(t, http.MethodGet, "/api/cases?state=lost", f.login(t, "admin"), nil)
		if resp.StatusCode != http.StatusBadRequest || errorMessage(t, body) != msgBadState {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})

	t.Run("list fields", func(t *testing.T) {
		_, body := f.request(t, http.MethodGet, "/api/cases?grid=g1", f.login(t, "admin"), nil)
		if strings.Contains(string(body), residentPhone) {
			t.Errorf("the list shows the whole phone: %s", body)
		}
		if strings.Contains(string(body), "东山村12号") || strings.Contains(string(body), "o-resident") {
			t.Errorf("the list shows the location or the resident: %s", body)
		}
		c := decode[listAnswer](t, body).Cases[0]
		want := caseView{
			Number: g1, State: core.StateAssigned, StateLabel: "已派单", Category: "road", CategoryName: "道路设施",
			Text: "村口路灯坏了三天", Village: "v1", VillageName: "东山村", Grid: "g1", Place: "东山村 · 一网格",
			Assignee: "lead1", AssigneeName: "张网格", Overdue: true, Phone: "138****5678",
		}
		c.Deadline, c.CreatedAt, c.UpdatedAt = want.Deadline, want.CreatedAt, want.UpdatedAt
		if c != want {
			t.Errorf("case\n %+v\nwant\n %+v", c, want)
		}
	})

	t.Run("overdue only past the deadline", func(t *testing.T) {
		_, body := f.request(t, http.MethodGet, "/api/cases", f.login(t, "admin"), nil)
		for _, c := range decode[listAnswer](t, body).Cases {
			if want := c.Category == "road"; c.Overdue != want {
				t.Errorf("%s (%s) overdue %v, want %v", c.Number, c.Category, c.Overdue, want)
			}
		}
	})
}

type caseAnswer struct {
	Case   caseDetail  `json:"case"`
	Events []eventView `json:"events"`
}

func TestCaseDetail(t *testing.T) {
	f := newFixture(t)
	g1 := f.cases["g1"]
	tests := []struct {
		staff     string
		wantPhone string
		handler   bool
	}{
		{"admin", residentPhone, true},
		{"lead1", residentPhone, true},
		{"cadre1", "138****5678", false},
	}
	for _, tt := range tests {
		t.Run(tt.staff, func(t *testing.T) {
			resp, body := f.request(t, http.MethodGet, "/api/cases/"+g1, f.login(t, tt.staff), nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			got := decode[caseAnswer](t, body)
			if got.Case.Phone != tt.wantPhone || got.Case.PhoneVisible != tt.handler {
				t.Errorf("phone %q visible %v, want %q %v", got.Case.Phone, got.Case.PhoneVisible, tt.wantPhone, tt.handler)
			}
			if !tt.handler && strings.Contains(string(body), residentPhone) {
				t.Errorf("the whole phone leaked: %s", body)
			}
			if tt.handler {
				if got.Case.Location == nil || got.Case.Location.Label != "东山村12号" || got.Case.Location.Lat != 30.123456 {
					t.Errorf("location %+v", got.Case.Location)
				}
			} else if got.Case.Location != nil || strings.Contains(string(body), "东山村12号") {
				t.Errorf("a non-handler sees the location: %s", body)
			}
			if len(got.Case.Photos) != 1 || got.Case.Photos[0].MediaID != "media-1" {
				t.Errorf("photos %+v", got.Case.Photos)
			}
			var kinds, labels, actors []string
			for _, e := range got.Events {
				kinds = append(kinds, string(e.Kind))
				labels = append(labels, e.Label)
				actors = append(actors, e.ActorName)
			}
			if !slices.Equal(kinds, []string{"submitted", "assigned"}) ||
				!slices.Equal(labels, []string{"居民提交", "已派单"}) ||
				!slices.Equal(actors, []string{"居民", "系统"}) {
				t.Errorf("timeline kinds %v labels %v actors %v", kinds, labels, actors)
			}
			if got.Events[1].Data["assignee_name"] != "张网格" {
				t.Errorf("assigned event data %v", got.Events[1].Data)
			}
		})
	}
}

func TestInvisibleCaseIsNotFound(t *testing.T) {
	f := newFixture(t)
	cookie := f.login(t, "lead2")
	for _, number := range []string{f.cases["g1"], "ST209901010001"} {
		tests := []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/api/cases/" + number, nil},
			{http.MethodPost, "/api/cases/" + number + "/reply", actionBody{Text: "你好"}},
			{http.MethodPost, "/api/cases/" + number + "/resolve", actionBody{Result: "已修"}},
		}
		for _, tt := range tests {
			resp, body := f.request(t, tt.method, tt.path, cookie, tt.body)
			if resp.StatusCode != http.StatusNotFound || errorMessage(t, body) != msgNotFound {
				t.Errorf("%s %s: %d %s, want 404", tt.method, tt.path, resp.StatusCode, body)
			}
		}
	}
	events, err := f.store.Events(context.Background(), f.cases["g1"])
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Errorf("an invisible case was written: %d events", len(events))
	}
}

func TestReplyAndResolve(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	number := f.cases["g1"]
	lead1 := f.login(t, "lead1")
	cadre1 := f.login(t, "cadre1")

	steps := []struct {
		name       string
		cookie     *http.Cookie
		path       string
		body       any
		wantStatus int
		wantError  string
		wantKind   core.EventKind
		wantActor  string
		wantState  core.State
	}{
		{"empty reply", lead1, "/reply", actionBody{Text: "  "}, http.StatusBadRequest, msgReplyInvalid, "", "", core.StateAssigned},
		{"reply too long", lead1, "/reply", actionBody{Text: strings.Repeat("长", core.MaxTextLen+1)}, http.StatusBadRequest, msgReplyInvalid, "", "", core.StateAssigned},
		{"bad json", lead1, "/reply", []byte(`{"text":`), http.StatusBadRequest, msgBadRequest, "", "", core.StateAssigned},
		{"reply", lead1, "/reply", actionBody{Text: "已联系电工，明天上午修好"}, http.StatusOK, "", core.EventReplied, "lead1", core.StateInProgress},
		{"village replies", cadre1, "/reply", actionBody{Text: "村里已督办"}, http.StatusOK, "", core.EventReplied, "cadre1", core.StateInProgress},
		{"empty result", lead1, "/resolve", actionBody{}, http.StatusBadRequest, msgResultBad, "", "", core.StateInProgress},
		{"resolve", lead1, "/resolve", actionBody{Result: "路灯已更换"}, http.StatusOK, "", core.EventResolved, "lead1", core.StateResolved},
		{"resolve twice", lead1, "/resolve", actionBody{Result: "再次办结"}, http.StatusConflict, "这件事项已办结，正在等群众评价或已结案。", "", "", core.StateResolved},
	}
	for _, st := range steps {
		before, err := f.store.Events(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := f.request(t, http.MethodPost, "/api/cases/"+number+st.path, st.cookie, st.body)
		if resp.StatusCode != st.wantStatus {
			t.Fatalf("%s: status %d, want %d: %s", st.name, resp.StatusCode, st.wantStatus, body)
		}
		after, err := f.store.Events(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.store.Case(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != st.wantState {
			t.Errorf("%s: state %s, want %s", st.name, c.State, st.wantState)
		}
		if st.wantStatus != http.StatusOK {
			if got := errorMessage(t, body); got != st.wantError {
				t.Errorf("%s: error %q, want %q", st.name, got, st.wantError)
			}
			if len(after) != len(before) {
				t.Errorf("%s: a refused step wrote %d events", st.name, len(after)-len(before))
			}
			continue
		}
		if len(after) != len(before)+1 {
			t.Fatalf("%s: %d events written, want 1", st.name, len(after)-len(before))
		}
		last := after[len(after)-1]
		if last.Kind != st.wantKind || last.Actor != st.wantActor {
			t.Errorf("%s: event %s by %s, want %s by %s", st.name, last.Kind, last.Actor, st.wantKind, st.wantActor)
		}
		got := decode[caseAnswer](t, body)
		if got.Case.State != st.wantState || len(got.Events) != 1 || got.Events[0].Seq != last.Seq {
			t.Errorf("%s: answer %+v", st.name, got)
		}
	}

	// The resident's rating closes the case; nothing more can be written.
	if _, err := f.ledger.Rate(ctx, "o-resident-g1", 5); err != nil {
		t.Fatal(err)
	}
	resp, body := f.request(t, http.MethodPost, "/api/cases/"+number+"/reply", lead1, actionBody{Text: "还有问题吗"})
	if resp.StatusCode != http.StatusConflict || errorMessage(t, body) != "这件事项已结案。" {
		t.Errorf("reply to a closed case: %d %s", resp.StatusCode, body)
	}

	resp, body = f.request(t, http.MethodGet, "/api/cases/"+number, lead1, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	got := decode[caseAnswer](t, body)
	var line []string
	for _, e := range got.Events {
		line = append(line, e.Label+"/"+e.ActorName)
	}
	want := []string{"居民提交/居民", "已派单/系统", "回复居民/张网格", "回复居民/李主任", "已办结/张网格", "居民评价/居民", "已结案/系统"}
	if !slices.Equal(line, want) {
		t.Errorf("timeline %v, want %v", line, want)
	}
	if got.Case.Result != "路灯已更换" || got.Case.Rating != 5 || got.Case.Overdue {
		t.Errorf("closed case %+v", got.Case)
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.srv.AllowedOrigins = []string{"https://console.example.org/"} })
	cookie := f.login(t, "lead1")
	path := "/api/cases/" + f.cases["g1"] + "/reply"
	tests := []struct {
		name string
		edit []func(*http.Request)
		want int
	}{
		{"same origin", nil, http.StatusOK},
		{"allowed origin", []func(*http.Request){withHeader("Origin", "https://CONSOLE.example.org")}, http.StatusOK},
		{"referer without origin", []func(*http.Request){withHeader("Origin", ""), withHeader("Referer", f.ts.URL+"/#/case/x")}, http.StatusOK},
		{"no custom header", []func(*http.Request){withHeader("X-Requested-With", "")}, http.StatusForbidden},
		{"wrong custom header", []func(*http.Request){withHeader("X-Requested-With", "XMLHttpRequest")}, http.StatusForbidden},
		{"foreign origin", []func(*http.Request){withHeader("Origin", "https://evil.example.com")}, http.StatusForbidden},
		{"null origin", []func(*http.Request){withHeader("Origin", "null")}, http.StatusForbidden},
		{"foreign referer", []func(*http.Request){withHeader("Origin", ""), withHeader("Referer", "https://evil.example.com/x")}, http.StatusForbidden},
		{"neither origin nor referer", []func(*http.Request){withHeader("Origin", "")}, http.StatusForbidden},
		{"allowed origin over other scheme", []func(*http.Request){withHeader("Origin", "http://console.example.org")}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.request(t, http.MethodPost, path, cookie, actionBody{Text: "测试来源"}, tt.edit...)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == http.StatusForbidden && errorMessage(t, body) != msgForbidden {
				t.Errorf("error %s", body)
			}
		})
	}

	t.Run("login too", func(t *testing.T) {
		resp, _ := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "admin", Password: password("admin")},
			withHeader("Origin", "https://evil.example.com"))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site login: %d", resp.StatusCode)
		}
	})
}

func TestBodyTooLarge(t *testing.T) {
	f := newFixture(t)
	cookie := f.login(t, "lead1")
	big := `{"text":"` + strings.Repeat("a", MaxBodyBytes+1) + `"}`
	for _, path := range []string{"/api/login", "/api/cases/" + f.cases["g1"] + "/reply", "/api/cases/" + f.cases["g1"] + "/resolve"} {
		resp, body := f.request(t, http.MethodPost, path, cookie, []byte(big))
		if resp.StatusCode != http.StatusRequestEntityTooLarge || errorMessage(t, body) != msgTooLarge {
			t.Errorf("%s: %d %s, want 413", path, resp.StatusCode, body)
		}
	}
}

func TestPageServed(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path, contentType string
		want              []string
	}{
		{"/", "text/html", []string{`id="login-user"`, `id="case-list"`, `id="conn-state"`, "/static/app.js"}},
		{"/static/app.js", "javascript", []string{"X-Requested-With", "textContent"}},
		{"/static/app.css", "text/css", []string{".case-row"}},
	}
	for _, tt := range tests {
		resp, body := f.request(t, http.MethodGet, tt.path, nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), tt.contentType) {
			t.Errorf("%s: %d %s", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !containsAll(string(body), tt.want...) {
			t.Errorf("%s lacks one of %q", tt.path, tt.want)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", tt.path, csp)
		}
	}
	if strings.Contains(mustRead(t, "web/app.js"), "innerHTML") {
		t.Error("app.js uses innerHTML")
	}
	resp, _ := f.request(t, http.MethodGet, "/api/nothing", nil, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown API path: %d", resp.StatusCode)
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := webFiles.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A case's household lists the newest related cases, a bounded number of
// them, however many the resident and the address have.
func TestCaseHouseholdIsBounded(t *testing.T) {
	f := newFixture(t)
	f.ledger.Limits.ExemptPrefixes = []string{"o-resident-"} // one resident files them all
	var numbers []string
	for i := range householdShown + 10 {
		numbers = append(numbers, f.submit(t, "g1", "env", fmt.Sprintf("路灯不亮 %d", i)))
	}
	last := numbers[len(numbers)-1]
	resp, body := f.request(t, http.MethodGet, "/api/cases/"+last, f.login(t, "admin"), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	got := decode[struct {
		Household []householdCase `json:"household"`
	}](t, body)
	if len(got.Household) != householdShown {
		t.Fatalf("%d related cases listed, want %d", len(got.Household), householdShown)
	}
	// Newest first, the case itself left out.
	for i, h := range got.Household {
		if want := numbers[len(numbers)-2-i]; h.Number != want {
			t.Fatalf("related case %d is %s, want %s", i, h.Number, want)
		}
	}
}
