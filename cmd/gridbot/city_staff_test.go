package main

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// newTestCityStaff is the city's view with one city staff member,
// city-viewer, whose second factor is required, on a city store of its
// own.
func newTestCityStaff(t *testing.T) (*cityStaff, *http.ServeMux) {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "city.db"), embedded.Options{CasePrefix: "CITY"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &city{name: "测试市", byKey: map[string]*cityTown{}, store: st, log: slog.New(slog.DiscardHandler)}
	cfg := &configs.Config{}
	cfg.Security.SecondFactor = "required"
	cfg.City.Staff = []configs.CityStaffEntry{{ID: "city-viewer", Name: "市级", PasswordHash: cityStaffHash(t)}}
	s := newCityStaff(c, cfg)
	mux := http.NewServeMux()
	s.routes(mux)
	return s, mux
}

// The city's staff log in with an authenticator code where the town's do:
// enrolled at the first login, each code good once.
func TestCityStaffSecondFactor(t *testing.T) {
	s, mux := newTestCityStaff(t)
	now := time.Now()
	s.now = func() time.Time { return now }
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
	// Attempts are bounded per login and address (the console's rule).
	for i := 0; i < 10; i++ {
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

// The city's logins are throttled by the console's rule: a stranger's
// wrong passwords from many addresses hold the account at new addresses,
// but do not keep the official out from the address they logged in from;
// and an authenticator code logs in once.
func TestCityStaffLoginThrottle(t *testing.T) {
	s, mux := newTestCityStaff(t)
	now := time.Now()
	s.now = func() time.Time { return now }
	login := func(addr, password, code string) (int, map[string]any, bool) {
		b, _ := json.Marshal(cityLogin{Username: "city-viewer", Password: password, Code: code})
		req := httptest.NewRequest("POST", "http://city.example/city/api/login", bytes.NewReader(b))
		req.RemoteAddr = addr + ":40000"
		req.Header.Set("X-Requested-With", "gridbot")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var out map[string]any
		json.NewDecoder(rec.Body).Decode(&out)
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == CityCookie && ck.Value != "" {
				return rec.Code, out, true
			}
		}
		return rec.Code, out, false
	}
	const office = "10.1.1.1"
	// The official enrols from the office.
	_, out, _ := login(office, testPassword, "")
	secret, _ := out["secret"].(string)
	if secret == "" {
		t.Fatalf("enrolment: %v", out)
	}
	code, _ := totp.Code(secret, now)
	if status, out, in := login(office, testPassword, code); status != 200 || !in {
		t.Fatalf("enrolling: %d %v", status, out)
	}
	// A stranger tries 40 wrong passwords, from 40 addresses.
	for i := range 40 {
		login(fmt.Sprintf("192.0.2.%d", i+1), "wrong-password", "")
	}
	// The account now waits at addresses it never logged in from…
	if status, out, _ := login("198.51.100.7", testPassword, ""); status != 429 {
		t.Fatalf("a new address after the flood: %d %v", status, out)
	}
	// …but not at the office: the next code logs the official in, once.
	now = now.Add(totp.Step)
	code, _ = totp.Code(secret, now)
	if status, out, in := login(office, testPassword, code); status != 200 || !in {
		t.Fatalf("the official from the office after the flood: %d %v", status, out)
	}
	if status, _, in := login(office, testPassword, code); status != 401 || in {
		t.Fatalf("the same code again: %d", status)
	}
	// A stranger's guesses from one address stop there, at the console's
	// count per account and address.
	status := 0
	for range 10 {
		status, _, _ = login("203.0.113.9", "wrong-password", "")
	}
	if status != 429 {
		t.Fatalf("ten guesses from one address: %d", status)
	}
}
