package wxpages

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The resident's page asks for wx.config signed for itself: only a reader
// with a session gets one, only for a page of this server, and the page may
// load the JS-SDK from where it is configured and nowhere else.
func TestJSConfigForOwnPagesOnly(t *testing.T) {
	f := newFixture(t)
	var signed []string
	f.srv.JSSDKURL = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
	f.srv.JSSign = func(_ context.Context, page string) (JSConfig, error) {
		signed = append(signed, page)
		if strings.Contains(page, "ST0") {
			return JSConfig{}, errors.New("getticket: errcode 45009")
		}
		return JSConfig{AppID: "wxapp", Timestamp: 1, NonceStr: "n", Signature: "s"}, nil
	}
	page := f.ts.URL + "/wx/cases/" + f.number

	// No session: nothing signed.
	resp, err := http.Get(f.ts.URL + "/wx/api/jsconfig?url=" + url.QueryEscape(page))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(signed) != 0 {
		t.Fatalf("without a session: %d, signed %v", resp.StatusCode, signed)
	}
	res := f.phone(t, oResident)
	res.login(t)
	v := res.view(t, f.number)
	if v["jssdk"] != true {
		t.Fatalf("the resident's page is not told to show WeChat's button: %v", v["jssdk"])
	}
	var cfg map[string]any
	if code := res.get(t, "/wx/api/jsconfig?url="+url.QueryEscape(page+"#r-subscribe"), &cfg); code != http.StatusOK ||
		cfg["signature"] != "s" || cfg["script"] != f.srv.JSSDKURL || len(signed) != 1 || signed[0] != page {
		t.Fatalf("config for the own page: %d %v signed %v", code, cfg, signed)
	}
	if tags, _ := cfg["openTagList"].([]any); len(tags) != 1 || tags[0] != "wx-open-subscribe" {
		t.Fatalf("open tags: %v", cfg["openTagList"])
	}
	for _, bad := range []string{
		"https://evil.example.com/wx/cases/" + f.number,
		strings.Replace(page, "http://", "https://", 1),
		f.ts.URL + "/api/cases/" + f.number,
		f.ts.URL + "/wx/cases/../../admin",
		"javascript:alert(1)",
		page + strings.Repeat("x", 600),
	} {
		if code := res.get(t, "/wx/api/jsconfig?url="+url.QueryEscape(bad), nil); code != http.StatusBadRequest {
			t.Errorf("config for %.60s: %d", bad, code)
		}
	}
	if len(signed) != 1 {
		t.Fatalf("foreign pages were signed: %v", signed)
	}
	// WeChat refusing the ticket: the page is told in plain words.
	resp, err = res.c.Get(f.ts.URL + "/wx/api/jsconfig?url=" + url.QueryEscape(f.ts.URL+"/wx/cases/ST0"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("ticket refused: %d", resp.StatusCode)
	}
	// The content policy lets the pages load WeChat's JS-SDK, and no other
	// outside script.
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self' https://res.wx.qq.com https://res2.wx.qq.com;") {
		t.Fatalf("content policy: %s", csp)
	}
	// Without a signer the page says progress comes by message instead.
	f.srv.JSSign = nil
	if v := res.view(t, f.number); v["jssdk"] != false {
		t.Fatalf("jssdk without a signer: %v", v["jssdk"])
	}
	if code := res.get(t, "/wx/api/jsconfig?url="+url.QueryEscape(page), nil); code != http.StatusNotFound {
		t.Fatalf("config without a signer: %d", code)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r2, err := noFollow.Get(f.ts.URL + "/wx/report")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if csp := r2.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'; script-src 'self'; style-src") {
		t.Fatalf("content policy without the JS-SDK: %s", csp)
	}
}

// Staff read what a resident wrote in traditional characters as written,
// with its simplified reading beside it; text that reads the same gets
// none, and the resident reads their own words only.
func TestStaffSeeTheSimplifiedReading(t *testing.T) {
	f := newFixture(t)
	f.srv.Simplify = strings.NewReplacer("燈", "灯", "壞", "坏").Replace
	number := f.file(t, oResident, "g1", "街燈壞咗")
	lead := f.phone(t, oLead1)
	lead.login(t)
	if v := lead.view(t, number); v["text"] != "街燈壞咗" || v["text_read"] != "街灯坏咗" {
		t.Fatalf("staff view: %v / %v", v["text"], v["text_read"])
	}
	if v := lead.view(t, f.number); v["text_read"] != nil {
		t.Fatalf("a simplified text got a reading: %v", v["text_read"])
	}
	res := f.phone(t, oResident)
	res.login(t)
	if v := res.view(t, number); v["text"] != "街燈壞咗" || v["text_read"] != nil {
		t.Fatalf("resident view: %v / %v", v["text"], v["text_read"])
	}
}
