package wxpages

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"gridbot/wecom"
	"gridbot/wecomsim"
)

// A case page opened from a WeCom card (?via=wecom) is authorised by WeCom:
// a member linked to staff reads the case as that staff member; a member
// linked to nobody reads nothing; a page opened without via goes through
// WeChat as before.
func TestWeComReaderOpensCasePage(t *testing.T) {
	f := newFixture(t)
	const corp, key = "wwpages", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	sim := wecomsim.New(wecomsim.Config{CorpID: corp, AgentID: 1000002, Secret: "s", Token: "t", AESKey: key,
		Members: []wecomsim.Member{{UserID: "zhang1", Name: "张网格"}, {UserID: "outsider", Name: "外人"}}})
	api := httptest.NewServer(sim.Handler())
	t.Cleanup(api.Close)
	app, err := wecom.NewApp(wecom.Config{CorpID: corp, AgentID: "1000002", Secret: "s", Token: "t", AESKey: key, APIBase: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.WeComAuth = &wecom.WebAuth{App: app, OAuthBase: api.URL}
	ctx := context.Background()
	code, err := f.srv.Roster.IssueBindCode(ctx, "lead1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.Roster.Bind(ctx, "wecom:zhang1", code); err != nil {
		t.Fatal(err)
	}
	member := func(userid string) *http.Client {
		c := sim.MemberBrowser(userid)
		c.Jar, _ = cookiejar.New(nil)
		return c
	}
	get := func(c *http.Client, path string) (int, string) {
		resp, err := c.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Request.URL.String()
	}
	zhang := member("zhang1")
	if status, at := get(zhang, "/wx/cases/"+f.number+"?via=wecom"); status != http.StatusOK || !strings.Contains(at, "/wx/cases/"+f.number) {
		t.Fatalf("opening the card's page: %d at %s", status, at)
	}
	if status, _ := get(zhang, "/wx/api/cases/"+f.number); status != http.StatusOK {
		t.Errorf("the linked member reading the case: %d", status)
	}
	outsider := member("outsider")
	if status, _ := get(outsider, "/wx/cases/"+f.number+"?via=wecom"); status != http.StatusOK {
		t.Fatalf("the outsider's page: %d", status)
	}
	if status, _ := get(outsider, "/wx/api/cases/"+f.number); status == http.StatusOK {
		t.Errorf("a member linked to nobody read the case")
	}
	// Without via, WeChat authorises, and WeCom's member is nobody there.
	if status, _ := get(member("zhang1"), "/wx/cases/"+f.number); status == http.StatusOK {
		t.Errorf("a WeCom member passed WeChat's authorisation")
	}
}
