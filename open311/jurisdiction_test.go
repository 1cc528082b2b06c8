package open311

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestJurisdictionChoosesTheTown(t *testing.T) {
	// Each town's handler says who it is and what form body reached it.
	town := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			io.WriteString(w, name+"|"+string(body))
		})
	}
	j := (&Jurisdictions{IDs: []string{"shatang", "chishui"},
		Handlers: map[string]http.Handler{"shatang": town("shatang"), "chishui": town("chishui")}}).Handler()
	multi := func(fields map[string]string) (string, *bytes.Buffer) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		mw.Close()
		return mw.FormDataContentType(), &b
	}
	mt, mb := multi(map[string]string{"jurisdiction_id": "chishui", "api_key": "k"})
	for _, tc := range []struct {
		name, method, target, ctype, body string
		wantStatus                        int
		want                              string
	}{
		{"none", "GET", "/open311/v2/services.json", "", "", 400, "jurisdiction_id is required: one of shatang, chishui"},
		{"query", "GET", "/open311/v2/services.json?jurisdiction_id=chishui", "", "", 200, "chishui|"},
		{"form body, kept for the town", "POST", "/open311/v2/requests.json", "application/x-www-form-urlencoded",
			"jurisdiction_id=shatang&api_key=abc", 200, "shatang|jurisdiction_id=shatang&api_key=abc"},
		{"multipart body", "POST", "/open311/v2/requests.json", mt, mb.String(), 200, "chishui|"},
		{"unknown", "GET", "/open311/v2/services.json?jurisdiction_id=other", "", "", 404, "unknown jurisdiction_id"},
		{"case differs", "GET", "/open311/v2/services.json?jurisdiction_id=Shatang", "", "", 404, "unknown jurisdiction_id"},
		{"query and body disagree", "POST", "/open311/v2/requests.json?jurisdiction_id=shatang", "application/x-www-form-urlencoded",
			"jurisdiction_id=chishui", 400, "differs"},
		{"too large", "POST", "/open311/v2/requests.json", "application/x-www-form-urlencoded",
			"jurisdiction_id=shatang&description=" + strings.Repeat("x", maxBody), 413, "over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			j.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("%d %q, want %d %q", rec.Code, rec.Body.String(), tc.wantStatus, tc.want)
			}
		})
	}
	// One town may be left unnamed.
	one := (&Jurisdictions{IDs: []string{"shatang"}, Handlers: map[string]http.Handler{"shatang": town("shatang")}}).Handler()
	rec := httptest.NewRecorder()
	one.ServeHTTP(rec, httptest.NewRequest("GET", "/open311/v2/services.json", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "shatang|") {
		t.Fatalf("one town: %d %s", rec.Code, rec.Body)
	}
}
