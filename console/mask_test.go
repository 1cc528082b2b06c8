package console

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Phone and ID numbers a resident typed into the description are masked
// wherever the resident's phone is: in lists, on the case page of staff who
// do not handle the case, and in the timeline; staff who handle it read the
// description whole, as they read the phone.
func TestDescriptionNumbersMasked(t *testing.T) {
	f := newFixture(t)
	const text = "报告人张三 身份证440783199001011234 电话13912345678 座机0750-2345678"
	number := f.submit(t, "g1", "road", text)
	whole := []string{"440783199001011234", "13912345678", "0750-2345678"}
	leaks := func(body []byte) bool {
		for _, w := range whole {
			if strings.Contains(string(body), w) {
				return true
			}
		}
		return false
	}
	_, body := f.request(t, http.MethodGet, "/api/cases", f.login(t, "admin"), nil)
	if leaks(body) || !strings.Contains(string(body), "4407**********1234") || !strings.Contains(string(body), "139****5678") {
		t.Errorf("the list shows the numbers whole: %s", body)
	}
	resp, body := f.request(t, http.MethodGet, "/api/cases/"+number, f.login(t, "cadre1"), nil)
	if resp.StatusCode != http.StatusOK || leaks(body) {
		t.Errorf("a village cadre who does not handle the case: %d %s", resp.StatusCode, body)
	}
	resp, body = f.request(t, http.MethodGet, "/api/cases/"+number, f.login(t, "lead1"), nil)
	if got := decode[caseAnswer](t, body); resp.StatusCode != http.StatusOK || got.Case.Text != text {
		t.Errorf("the grid leader reads %q (%d), want the whole description", got.Case.Text, resp.StatusCode)
	}
}

// 公开 from the console: the village publishes the text it wrote; a grid
// leader is neither offered the step nor allowed it.
func TestPublishFromConsole(t *testing.T) {
	f := newFixture(t)
	g1 := f.cases["g1"]
	_, body := f.request(t, http.MethodGet, "/api/cases/"+g1, f.login(t, "lead1"), nil)
	if got := decode[caseAnswer](t, body); slices.Contains(got.Case.Actions, "publish") {
		t.Errorf("a grid leader is offered 公开: %v", got.Case.Actions)
	}
	resp, body := f.request(t, http.MethodPost, "/api/cases/"+g1+"/publish", f.login(t, "lead1"), map[string]string{"text": "路灯坏了"})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a grid leader publishes: %d %s", resp.StatusCode, body)
	}
	cadre := f.login(t, "cadre1")
	_, body = f.request(t, http.MethodGet, "/api/cases/"+g1, cadre, nil)
	if got := decode[caseAnswer](t, body); !slices.Contains(got.Case.Actions, "publish") {
		t.Errorf("the village is not offered 公开: %v", got.Case.Actions)
	}
	resp, body = f.request(t, http.MethodPost, "/api/cases/"+g1+"/publish", cadre, map[string]string{"text": "东山村村口路灯维修"})
	got := decode[caseAnswer](t, body)
	if resp.StatusCode != http.StatusOK || got.Case.Published != "东山村村口路灯维修" ||
		len(got.Events) != 1 || got.Events[0].Kind != "published" {
		t.Fatalf("publish: %d %s", resp.StatusCode, body)
	}
	resp, body = f.request(t, http.MethodPost, "/api/cases/"+g1+"/publish", cadre, map[string]string{"text": strings.Repeat("长", 501)})
	if resp.StatusCode != http.StatusBadRequest || errorMessage(t, body) != msgPublishBad {
		t.Errorf("a text too long: %d %s", resp.StatusCode, body)
	}
}
