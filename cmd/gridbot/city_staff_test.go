package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/store/embedded"
	"gridbot/totp"
)

// The city's staff log in with an authenticator code where the town's do:
// enrolled at the first login, each code good once.
func TestCityStaffSecondFactor(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "city.db"), embedded.Options{CasePrefix: "CITY"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := &city{name: "测试市", byKey: map[string]*cityTown{}, store: st, log: slog.New(slog.DiscardHandler)}
	cfg := &configs.Config{}
	cfg.Security.SecondFactor = "required"
	cfg.City.Staff = []configs.CityStaffEntry{{ID: "city-viewer", Name: "市级", PasswordHash: cityStaffHash(t)}}
	now := time.Now()
	s := newCityStaff(c, cfg)
	s.now = func() time.Time { return now }
	mux := http.NewServeMux()
	s.routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	login := func(code string, headers bool) (int, map[string]any, string) {
		b, _ := json.Marshal(cityLogin{Username: "city-viewer", Password: testPassword, Code: code})
		req, _ := http.NewRequest("POST", srv.URL+"/city/api/login", bytes.NewReader(b))
		if headers {
			req.Header.Set("X-Requested-With", "gridbot")
			req.Header.Set("Origin", srv.URL)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		cookie := ""
		for _, ck := range resp.Cookies() {
			if ck.Name == CityCookie {
				cookie = ck.Value
			}
		}
		return resp.StatusCode, out, cookie
	}
	if status, _, _ := login("", false); status != 403 {
		t.Fatalf("a login from another site: %d", status)
	}
	status, out, cookie := login("", true)
	secret, _ := out["secret"].(string)
	if status != 200 || out["enrol"] != true || secret == "" || cookie != "" {
		t.Fatalf("first login: %d %v", status, out)
	}
	if status, _, cookie := login("000000", true); status != 401 || cookie != "" {
		t.Fatalf("a wrong code: %d", status)
	}
	code, _ := totp.Code(secret, now)
	if status, out, cookie := login(code, true); status != 200 || cookie == "" {
		t.Fatalf("enrolling: %d %v", status, out)
	}
	// Enrolled: the same code again is refused; a code is asked for.
	if status, _, cookie := login(code, true); status != 401 || cookie != "" {
		t.Fatalf("a used code: %d", status)
	}
	if status, out, _ := login("", true); status != 200 || out["second_factor"] != true || out["enrol"] == true {
		t.Fatalf("enrolled, no code: %d %v", status, out)
	}
	now = now.Add(totp.Step)
	code, _ = totp.Code(secret, now)
	if status, _, cookie := login(code, true); status != 200 || cookie == "" {
		t.Fatalf("the next code: %d", status)
	}
	// Attempts are bounded per login.
	for i := 0; i < cityUserAttempts+2; i++ {
		status, _, _ = login("", true)
	}
	if status != 429 {
		t.Fatalf("past the attempts: %d", status)
	}
	// The city's trail holds the logins, the refused code and the lock.
	recs, _, err := s.trail.Search(t.Context(), core.AuditQuery{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		seen[string(r.Action)+"/"+string(r.Outcome)]++
		if r.Actor != "city-viewer" {
			t.Errorf("record of %q", r.Actor)
		}
	}
	if seen["login/ok"] != 2 || seen["second_factor/refused"] < 2 || seen["login/refused"] < 1 {
		t.Fatalf("the city's trail: %v", seen)
	}
	if ok, err := s.trail.Verify(t.Context()); err != nil || !ok.OK() {
		t.Fatalf("the trail's chain: %+v %v", ok, err)
	}
}
