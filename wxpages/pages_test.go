package wxpages

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/core"
)

func TestResidentFollowsOwnCase(t *testing.T) {
	f := newFixture(t)
	p := f.phone(t, oResident)
	status, final := p.open(t, "/wx/cases/"+f.number)
	if status != http.StatusOK || final != f.ts.URL+"/wx/cases/"+f.number {
		t.Fatalf("page: %d at %s", status, final)
	}
	v := p.view(t, f.number)
	if v["role"] != "resident" || v["place"] != "东山村 · 一网格" || !strings.Contains(v["progress"].(string), "等待网格受理") {
		t.Fatalf("resident view: %v", v)
	}
	// The resident reads no staff names and no phone.
	if _, ok := v["phone"]; ok {
		t.Fatalf("resident view carries a phone: %v", v)
	}
	photos := v["photos"].([]any)
	if len(photos) != 1 {
		t.Fatalf("photos: %v", photos)
	}
	resp, err := p.c.Get(f.ts.URL + photos[0].(string))
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("own photo: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestOthersCaseLooksMissing(t *testing.T) {
	f := newFixture(t)
	owner := f.phone(t, oResident)
	owner.login(t)
	photo := owner.view(t, f.number)["photos"].([]any)[0].(string)

	for _, who := range []string{oOther, oLead2, oCadre2, oDept} {
		p := f.phone(t, who)
		p.login(t) // the page itself opens: it holds nothing
		var missing, other map[string]any
		sMissing := p.get(t, "/wx/api/cases/ST209912319999", &missing)
		sOther := p.get(t, "/wx/api/cases/"+f.number, &other)
		if sOther != http.StatusNotFound || sMissing != sOther {
			t.Errorf("%s: someone else's case answers %d, a missing one %d", who, sOther, sMissing)
		}
		code, body := p.step(t, f.number, "accept", nil)
		if code != http.StatusNotFound || body["error"] != msgNotFound {
			t.Errorf("%s accepting someone else's case: %d %v", who, code, body)
		}
		code, body = p.step(t, f.number, "rate", map[string]string{"score": "1"})
		if code != http.StatusNotFound {
			t.Errorf("%s rating someone else's case: %d %v", who, code, body)
		}
		resp, err := p.c.Get(f.ts.URL + photo)
		if err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s reading someone else's photo: %v %v", who, resp.StatusCode, err)
		}
		resp.Body.Close()
	}
	c, _ := f.ledger.Case(context.Background(), f.number)
	if c.State != core.StateAssigned {
		t.Fatalf("the case changed: %s", c.State)
	}
}

func TestNoSessionNoData(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/wx/api/cases/" + f.number, "/wx/api/directory", "/wx/api/media/" + f.number + "/m-o-residentg1"} {
		resp, err := http.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a session: %d", path, resp.StatusCode)
		}
	}
	// A forged cookie is no session, however it looks.
	req, _ := http.NewRequest(http.MethodGet, f.ts.URL+"/wx/api/cases/"+f.number, nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "abc.def"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged cookie: %d", resp.StatusCode)
	}
	// The page without a session goes to WeChat, with the documented
	// parameters.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get(f.ts.URL + "/wx/cases/" + f.number)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	want := f.wechat.ts.URL + "/connect/oauth2/authorize?appid=wxapp&redirect_uri=" + url.QueryEscape(f.ts.URL+"/wx/auth") +
		"&response_type=code&scope=snsapi_base&state="
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, want) || !strings.HasSuffix(loc, "#wechat_redirect") {
		t.Fatalf("authorize redirect: %d %s", resp.StatusCode, loc)
	}
}

// authorizeBack starts web authorisation in p's browser and returns where
// WeChat sends it back (with code and state), without following it.
func authorizeBack(t *testing.T, p *phone, path string) *url.URL {
	t.Helper()
	c := *p.c
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/wx/auth" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := c.Get(p.f.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("no way back from WeChat: %v %v", resp.Header, err)
	}
	return back
}

func TestForgedStateAndReplayedCode(t *testing.T) {
	f := newFixture(t)
	victim := f.phone(t, oResident)
	attacker := f.phone(t, oOther)

	// The attacker starts an authorisation and hands the victim the way
	// back (login CSRF): the victim's browser has no such state.
	back := authorizeBack(t, attacker, "/wx/cases/"+f.number)
	if status, _ := victim.open(t, back.RequestURI()); status != http.StatusForbidden {
		t.Fatalf("someone else's state: %d", status)
	}
	// A made-up state, with the victim's own state cookie.
	mine := authorizeBack(t, victim, "/wx/cases/"+f.number)
	q := mine.Query()
	q.Set("state", strings.Repeat("0", 32))
	forged := *mine
	forged.RawQuery = q.Encode()
	if status, _ := victim.open(t, forged.RequestURI()); status != http.StatusForbidden {
		t.Fatalf("forged state: %d", status)
	}

	// The real way back works once; the same code again does not, and
	// does not even reach WeChat.
	fresh := authorizeBack(t, victim, "/wx/cases/"+f.number)
	if status, final := victim.open(t, fresh.RequestURI()); status != http.StatusOK || !strings.HasSuffix(final, "/wx/cases/"+f.number) {
		t.Fatalf("way back: %d %s", status, final)
	}
	before := f.wechat.exchanges.Load()
	again := f.phone(t, oResident)
	// Plant the state cookie the code came with, as a thief of the whole
	// URL and cookie would.
	u, _ := url.Parse(f.ts.URL + "/wx/auth")
	again.c.Jar.SetCookies(u, []*http.Cookie{{Name: stateCookie, Value: fresh.Query().Get("state"), Path: "/wx/auth"}})
	if status, _ := again.open(t, fresh.RequestURI()); status != http.StatusForbidden {
		t.Fatalf("replayed code: %d", status)
	}
	if f.wechat.exchanges.Load() != before {
		t.Fatal("a replayed code was sent to WeChat")
	}
	// A code WeChat refuses gets no session.
	newcomer := f.phone(t, oResident)
	bogus := authorizeBack(t, newcomer, "/wx/report")
	q = bogus.Query()
	q.Set("code", "made-up-code")
	bogus.RawQuery = q.Encode()
	if status, _ := newcomer.open(t, bogus.RequestURI()); status != http.StatusForbidden {
		t.Fatalf("bogus code: %d", status)
	}
}

func TestReturnGoesOnlyToPages(t *testing.T) {
	for _, p := range []string{"/wx/report", "/wx/cases/ST202612030001"} {
		if !pagePath(p) {
			t.Errorf("%s refused", p)
		}
	}
	for _, p := range []string{"//evil.example/", "/wx/cases/../../x", "/wx/cases/", "https://evil.example/wx/report", "/wx/cases/a/b"} {
		if pagePath(p) {
			t.Errorf("%s allowed", p)
		}
	}
}

func TestSessionExpires(t *testing.T) {
	f := newFixture(t)
	p := f.phone(t, oResident)
	p.login(t)
	p.view(t, f.number)
	f.clock.Add(DefaultSessionTTL + time.Minute)
	if status := p.get(t, "/wx/api/cases/"+f.number, nil); status != http.StatusUnauthorized {
		t.Fatalf("after the session's life: %d", status)
	}
	// The page authorises again, silently.
	p.login(t)
	p.view(t, f.number)
}

func TestPostNeedsOriginAndToken(t *testing.T) {
	f := newFixture(t)
	p := f.phone(t, oLead1)
	p.login(t)
	p.view(t, f.number)
	for name, edit := range map[string]func(*http.Request){
		"no token":     func(r *http.Request) { r.Header.Del("X-CSRF-Token") },
		"wrong token":  func(r *http.Request) { r.Header.Set("X-CSRF-Token", "guess") },
		"other origin": func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") },
		"no origin":    func(r *http.Request) { r.Header.Del("Origin") },
		"null origin":  func(r *http.Request) { r.Header.Set("Origin", "null") },
	} {
		code, _ := p.post(t, "/wx/api/cases/"+f.number+"/accept", nil, nil, edit)
		if code != http.StatusForbidden {
			t.Errorf("%s: %d", name, code)
		}
	}
	c, _ := f.ledger.Case(context.Background(), f.number)
	if c.State != core.StateAssigned {
		t.Fatalf("a refused POST changed the case: %s", c.State)
	}
	if code, _ := p.step(t, f.number, "accept", nil); code != http.StatusOK {
		t.Fatalf("a proper POST: %d", code)
	}
}

func TestUploadsAreBounded(t *testing.T) {
	f := newFixture(t)
	p := f.phone(t, oResident)
	p.login(t)
	p.view(t, f.number)
	big := bytes.Repeat([]byte{0}, core.DefaultMaxMediaBytes+1)
	copy(big, pngBytes)
	huge := bytes.Repeat([]byte("x"), 20<<20)
	for name, tc := range map[string]struct {
		photos []file
		want   int
	}{
		"photo over 2MB": {[]file{{"a.png", big}}, http.StatusRequestEntityTooLarge},
		"four photos":    {[]file{{"a.png", pngBytes}, {"b.png", pngBytes}, {"c.png", pngBytes}, {"d.png", pngBytes}}, http.StatusRequestEntityTooLarge},
		"a 20MB body":    {[]file{{"a.png", huge}}, http.StatusRequestEntityTooLarge},
		"not a photo":    {[]file{{"a.png", []byte("<html><script>alert(1)</script>")}}, http.StatusBadRequest},
	} {
		code, body := p.step(t, f.number, "supplement", map[string]string{"text": "补充"}, tc.photos...)
		if code != tc.want {
			t.Errorf("%s: %d %v", name, code, body)
		}
	}
	c, _ := f.ledger.Case(context.Background(), f.number)
	if len(c.Photos) != 1 {
		t.Fatalf("refused uploads changed the case: %v", c.Photos)
	}
	// Within bounds, the photos land on the case and the resident sees them.
	code, v := p.step(t, f.number, "supplement", map[string]string{"text": "又坏了一盏"}, file{"a.png", pngBytes}, file{"b.png", pngBytes})
	if code != http.StatusOK || len(v["photos"].([]any)) != 3 {
		t.Fatalf("supplement: %d %v", code, v)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	p := f.phone(t, oResident)
	p.login(t)
	p.view(t, f.number)
	var limited int
	for range postsPerMinute + 5 {
		if code, _ := p.step(t, f.number, "not_fixed", nil); code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 5 {
		t.Fatalf("%d of %d posts limited", limited, postsPerMinute+5)
	}
	f.clock.Add(time.Minute)
	if code, _ := p.step(t, f.number, "not_fixed", nil); code == http.StatusTooManyRequests {
		t.Fatal("still limited a minute later")
	}
}

func TestLeaderWorksCase(t *testing.T) {
	f := newFixture(t)
	lead := f.phone(t, oLead1)
	lead.login(t)
	v := lead.view(t, f.number)
	if v["role"] != "staff" || v["phone"] != residentPhone || v["phone_visible"] != true || v["address"] != "东山村12号" {
		t.Fatalf("leader's view: %v", v)
	}
	if got := steps(v); got != "accept,reply,resolve,whistle,transfer,ask_change" {
		t.Fatalf("leader's steps: %s", got)
	}
	if m, ok := v["map"].(map[string]any); !ok || !strings.HasPrefix(m["path"].(string), "M") || m["dot"] == nil {
		t.Fatalf("map: %v", v["map"])
	}
	code, v := lead.step(t, f.number, "accept", nil)
	if code != http.StatusOK || v["state"] != string(core.StateInProgress) || strings.Contains(steps(v), "accept") {
		t.Fatalf("accept: %d %v", code, v)
	}
	// The policy's own words when it says no.
	code, body := lead.step(t, f.number, "accept", nil)
	if code != http.StatusForbidden && code != http.StatusNotFound && code != http.StatusConflict {
		t.Fatalf("accept twice: %d %v", code, body)
	}
	if code != http.StatusConflict || body["error"] != "这件事项已经受理过了。" {
		t.Fatalf("accept twice: %d %v", code, body)
	}
	if code, body := lead.step(t, f.number, "reply", map[string]string{"text": " "}); code != http.StatusBadRequest || body["error"] != msgTextBad {
		t.Fatalf("empty reply: %d %v", code, body)
	}
	if code, _ := lead.step(t, f.number, "reply", map[string]string{"text": "明天上午来修"}); code != http.StatusOK {
		t.Fatalf("reply: %d", code)
	}
	if code, body := lead.step(t, f.number, "sign", nil); code != http.StatusForbidden || body["error"] != "“领办”只适用于被吹哨的部门。" {
		t.Fatalf("sign by a leader: %d %v", code, body)
	}
	if code, _ := lead.step(t, f.number, "whistle", map[string]string{"department": "cj", "reason": "需要换灯杆"}); code != http.StatusOK {
		t.Fatalf("whistle: %d", code)
	}
	dept := f.phone(t, oDept)
	dept.login(t)
	dv := dept.view(t, f.number)
	if steps(dv) != "reply,resolve,sign,return,ask_change" || dv["phone_visible"] == true || dv["phone"] != core.MaskPhone(residentPhone) ||
		dv["address"] != nil || dv["location"] != nil {
		t.Fatalf("department's view: %s %v %v", steps(dv), dv["phone"], dv["phone_visible"])
	}
	if code, _ := dept.step(t, f.number, "sign", nil); code != http.StatusOK {
		t.Fatalf("sign: %d", code)
	}
	// 办结 with a photo of the fix: the resident sees it on the timeline.
	code, v = lead.step(t, f.number, "resolve", map[string]string{"result": "已换新灯"}, file{"fix.png", pngBytes})
	if code != http.StatusOK || v["state"] != string(core.StateResolved) {
		t.Fatalf("resolve: %d %v", code, v)
	}
	res := f.phone(t, oResident)
	res.login(t)
	rv := res.view(t, f.number)
	var fixPhoto string
	for _, l := range rv["timeline"].([]any) {
		line := l.(map[string]any)
		if strings.HasPrefix(line["words"].(string), "已办结：已换新灯") {
			fixPhoto, _ = line["photo"].(string)
		}
		if strings.Contains(line["words"].(string), "张网格") {
			t.Fatalf("the resident reads a staff member's name: %v", line)
		}
	}
	if fixPhoto == "" {
		t.Fatalf("no fix photo on the resident's timeline: %v", rv["timeline"])
	}
	resp, err := res.c.Get(f.ts.URL + fixPhoto)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("fix photo: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}

func TestTransferTakesCaseAway(t *testing.T) {
	f := newFixture(t)
	// A town member transfers: the case stays in view.
	town := f.phone(t, oTown)
	town.login(t)
	if code, v := town.step(t, f.number, "transfer", nil); code != http.StatusOK || v["assignee"] != "陈网格" {
		t.Fatalf("transfer: %d %v", code, v)
	}
	// Post A still leads the grid, so still sees it; the village cadre of
	// another village never did.
	lead := f.phone(t, oLead1)
	lead.login(t)
	if v := lead.view(t, f.number); strings.Contains(steps(v), "transfer") {
		t.Fatalf("transfer offered twice: %s", steps(v))
	}
}

func TestResidentRatesNamedCase(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Two resolved cases: the page rates the one it shows, not the oldest.
	second := f.file(t, oResident, "g1", "井盖松动")
	for _, n := range []string{f.number, second} {
		if _, _, err := f.ledger.Resolve(ctx, n, "lead1", "已处理"); err != nil {
			t.Fatal(err)
		}
	}
	p := f.phone(t, oResident)
	p.login(t)
	v := p.view(t, second)
	if can := v["can"].(map[string]any); can["rate"] != true || can["not_fixed"] != true || can["supplement"] != false {
		t.Fatalf("can: %v", can)
	}
	if code, body := p.step(t, second, "rate", map[string]string{"score": "9"}); code != http.StatusBadRequest || body["error"] != msgScoreBad {
		t.Fatalf("score 9: %d %v", code, body)
	}
	code, v := p.step(t, second, "rate", map[string]string{"score": "5"})
	if code != http.StatusOK || v["state"] != string(core.StateClosed) || v["rating"] != float64(5) {
		t.Fatalf("rate: %d %v", code, v)
	}
	first, _ := f.ledger.Case(ctx, f.number)
	if first.State != core.StateResolved {
		t.Fatalf("the other case was rated: %s", first.State)
	}
	if code, body := p.step(t, second, "rate", map[string]string{"score": "4"}); code != http.StatusConflict || body["error"] == "" {
		t.Fatalf("rate a closed case: %d %v", code, body)
	}
	if code, v := p.step(t, f.number, "not_fixed", nil); code != http.StatusOK || v["state"] != string(core.StateReopened) {
		t.Fatalf("not fixed: %d %v", code, v)
	}
}

func TestJoinerSeesProgressNotPhotos(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.ledger.Join(ctx, f.number, oJoiner); err != nil {
		t.Fatal(err)
	}
	p := f.phone(t, oJoiner)
	p.login(t)
	v := p.view(t, f.number)
	if v["joined"] != true || len(v["photos"].([]any)) != 0 || v["can"].(map[string]any)["supplement"] != false {
		t.Fatalf("joiner's view: %v", v)
	}
	if first := v["timeline"].([]any)[0].(map[string]any)["words"]; first != "居民提交了事项" {
		t.Fatalf("the joiner reads the filing as %q", first)
	}
	resp, err := p.c.Get(f.ts.URL + "/wx/api/media/" + f.number + "/m-" + oResident + "g1")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("joiner reads the filer's photo: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if code, body := p.step(t, f.number, "supplement", map[string]string{"text": "我也看到了"}); code != http.StatusForbidden || !strings.Contains(body["error"].(string), "附议") {
		t.Fatalf("joiner supplements: %d %v", code, body)
	}
	if _, _, err := f.ledger.Resolve(ctx, f.number, "lead1", "已修好"); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.step(t, f.number, "rate", map[string]string{"score": "4"}); code != http.StatusOK {
		t.Fatalf("joiner rates: %d", code)
	}
	c, _ := f.ledger.Case(ctx, f.number)
	if c.State != core.StateResolved {
		t.Fatalf("a joiner's rating settled the case: %s", c.State)
	}
}

func TestReportFiles(t *testing.T) {
	f := newFixture(t)
	p := f.phone(t, oOther)
	if status, _ := p.open(t, "/wx/report"); status != http.StatusOK {
		t.Fatalf("report page: %d", status)
	}
	var dir struct {
		Categories []option
		Villages   []villageOption
	}
	if p.get(t, "/wx/api/directory", &dir) != http.StatusOK || len(dir.Categories) != 2 || len(dir.Villages[0].Grids) != 1 {
		t.Fatalf("directory: %+v", dir)
	}
	for name, tc := range map[string]struct {
		fields map[string]string
		want   string
	}{
		"no category":     {map[string]string{"text": "x", "grid": "g1", "key": "k1"}, msgNoCategory},
		"no text":         {map[string]string{"category": "road", "grid": "g1", "key": "k1"}, msgNoText},
		"no place":        {map[string]string{"category": "road", "text": "x", "key": "k1"}, msgNoPlace},
		"outside":         {map[string]string{"category": "road", "text": "x", "lat": "39.9", "lng": "116.4", "key": "k1"}, msgOutside},
		"grid of another": {map[string]string{"category": "road", "text": "x", "village": "v2", "grid": "g1", "key": "k1"}, msgNoPlace},
		"bad phone":       {map[string]string{"category": "road", "text": "x", "grid": "g1", "phone": "12345", "key": "k1"}, msgBadPhone},
		"no key":          {map[string]string{"category": "road", "text": "x", "grid": "g1"}, msgBadKey},
	} {
		if code, body := p.post(t, "/wx/api/report", tc.fields, nil); code != http.StatusBadRequest || body["error"] != tc.want {
			t.Errorf("%s: %d %v", name, code, body)
		}
	}
	// Placed by the phone's location, with a photo; sent twice (a retry),
	// filed once.
	fields := map[string]string{"category": "road", "text": "桥边栏杆断了", "lat": "22.315", "lng": "112.605", "phone": "13900001111", "key": "form-1"}
	code, a := p.post(t, "/wx/api/report", fields, []file{{"a.png", pngBytes}})
	if code != http.StatusOK {
		t.Fatalf("report: %d %v", code, a)
	}
	code, b := p.post(t, "/wx/api/report", fields, []file{{"a.png", pngBytes}})
	if code != http.StatusOK || a["number"] != b["number"] {
		t.Fatalf("retry: %d %v %v", code, a, b)
	}
	c, err := f.ledger.Case(context.Background(), a["number"].(string))
	if err != nil || c.Grid != "g1" || c.Resident != oOther || c.Phone != "13900001111" || len(c.Photos) != 1 {
		t.Fatalf("filed: %+v %v", c, err)
	}
	if m, ok, _ := f.media.Get(context.Background(), c.Photos[0].MediaID); !ok || m.Case != c.Number {
		t.Fatalf("the report's photo is not kept with the case: %v %q", ok, m.Case)
	}
	all, _ := f.store.RecordsIn(context.Background(), "media")
	for id, raw := range all {
		if strings.Contains(string(raw), `"case":"filing"`) {
			t.Errorf("photo %s left under no case", id)
		}
	}
	cases, _ := f.ledger.ResidentCases(context.Background(), oOther)
	if len(cases) != 1 {
		t.Fatalf("%d cases filed", len(cases))
	}
	// The reporter follows it on its page; the grid's leader sees the photo.
	if v := p.view(t, c.Number); v["role"] != "resident" || len(v["photos"].([]any)) != 1 {
		t.Fatalf("reporter's view: %v", v)
	}
}

func TestFramingOnlyByThePhone(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.ts.URL + "/wx/static/case.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("a real deployment lets pages be framed: %q", csp)
	}
	framed := &Server{FrameAncestors: []string{"http://127.0.0.1:8081"}}
	rec := httptest.NewRecorder()
	framed.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/wx/static/case.html", nil))
	resp = rec.Result()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors http://127.0.0.1:8081") || resp.Header.Get("X-Frame-Options") != "" {
		t.Fatalf("the simulator's phone cannot frame the pages: %q", csp)
	}
}

func TestNoPublicBaseUsesRequestHost(t *testing.T) {
	f := newFixture(t)
	f.srv.PublicBase = ""
	p := f.phone(t, oResident)
	p.login(t)
	p.view(t, f.number)
	if code, _ := p.step(t, f.number, "supplement", map[string]string{"text": "晚上更暗了"}); code != http.StatusOK {
		t.Fatalf("a step without public_base: %d", code)
	}
}

func TestStateServesOneReturn(t *testing.T) {
	f := newFixture(t)
	p := f.phone(t, oResident)
	// Two codes WeChat would honour, both brought back with one state.
	first := authorizeBack(t, p, "/wx/cases/"+f.number)
	second := authorizeBack(t, p, "/wx/cases/"+f.number)
	state := second.Query().Get("state")
	var wg sync.WaitGroup
	results := make(chan int, 2)
	for _, code := range []string{first.Query().Get("code"), second.Query().Get("code")} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, f.ts.URL+"/wx/auth?"+url.Values{"code": {code}, "state": {state}}.Encode(), nil)
			req.AddCookie(&http.Cookie{Name: stateCookie, Value: state})
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			results <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(results)
	var found, refused int
	for code := range results {
		switch code {
		case http.StatusFound:
			found++
		case http.StatusForbidden:
			refused++
		}
	}
	if found != 1 || refused != 1 {
		t.Fatalf("one state let %d returns through (%d refused)", found, refused)
	}
}

func TestHundredAcceptsAtOnce(t *testing.T) {
	f := newFixture(t)
	p := f.phone(t, oLead1)
	p.login(t)
	codes := make(chan int, 100)
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := p.step(t, f.number, "accept", nil)
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusOK]+count[http.StatusConflict]+count[http.StatusTooManyRequests] != 100 {
		t.Fatalf("answers: %v", count)
	}
	evs, _ := f.ledger.CaseEvents(context.Background(), f.number)
	accepted := 0
	for _, e := range evs {
		if e.Kind == core.EventAccepted {
			accepted++
		}
	}
	if accepted != 1 {
		t.Fatalf("%d accepted events", accepted)
	}
}

func TestReportFilingLimit(t *testing.T) {
	f := newFixture(t)
	p := f.phone(t, oOther)
	p.login(t)
	var last int
	var body map[string]any
	for i := range core.DefaultSubmitRecent + 1 {
		last, body = p.post(t, "/wx/api/report", map[string]string{"category": "road", "text": "第" + string(rune('一'+i)) + "处坑",
			"grid": "g1", "key": "limit-" + string(rune('a'+i))}, nil)
	}
	if last != http.StatusTooManyRequests || body["error"] != msgTooManyFiled {
		t.Fatalf("past the filing limit: %d %v", last, body)
	}
}
