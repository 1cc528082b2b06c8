package console

import (
	"net/http"
	"testing"

	"gridbot/core"
)

// TestStaffAdministration walks the system administrator's staff administration: add,
// log in as the new account, set a post, reset a password, disable.
func TestStaffAdministration(t *testing.T) {
	f := newFixture(t, withBook(t))
	admin := f.login(t, "sysadm")
	steps := []struct {
		name   string
		path   string
		body   any
		want   int
		errMsg string
	}{
		{"add a grid leader", "/api/staff", staffAddRequest{ID: "lead3", Name: "吴网格", Role: core.RoleGridLeader, Village: "v2", Password: "first-password"}, 200, ""},
		{"add the same id", "/api/staff", staffAddRequest{ID: "lead3", Name: "重复", Role: core.RoleTown, Password: "first-password"}, 409, msgStaffTaken},
		{"short password", "/api/staff", staffAddRequest{ID: "x2", Name: "短", Role: core.RoleTown, Password: "short"}, 400, "密码不符合要求：至少 8 位"},
		{"village without village", "/api/staff", staffAddRequest{ID: "x3", Name: "无村", Role: core.RoleVillage, Password: "long-enough"}, 400, msgStaffInvalid},
		{"put lead3 on post B of g3", "/api/grids/g3/post", map[string]string{"post": "B", "staff": "lead3"}, 200, ""},
		{"put a village cadre on a post", "/api/grids/g3/post", map[string]string{"post": "A", "staff": "cadre1"}, 400, msgPostInvalid},
		{"reset lead3's password", "/api/staff/lead3/password", map[string]string{"password": "second-password"}, 200, ""},
		{"bind code", "/api/staff/lead3/bind-code", struct{}{}, 200, ""},
		{"disable oneself", "/api/staff/sysadm/disable", map[string]bool{"disabled": true}, 409, msgNotSelf},
	}
	for _, st := range steps {
		resp, body := f.request(t, http.MethodPost, st.path, admin, st.body)
		if resp.StatusCode != st.want {
			t.Fatalf("%s: %d %s", st.name, resp.StatusCode, body)
		}
		if st.errMsg != "" && errorMessage(t, body) != st.errMsg {
			t.Errorf("%s: %s", st.name, body)
		}
	}
	login := func(pw string) int {
		resp, _ := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "lead3", Password: pw})
		return resp.StatusCode
	}
	if got := login("first-password"); got != http.StatusUnauthorized {
		t.Errorf("old password: %d", got)
	}
	if got := login("second-password"); got != http.StatusOK {
		t.Fatalf("new password: %d", got)
	}
	// The new B post sees g3's case.
	resp, _ := f.request(t, http.MethodGet, "/api/cases/"+f.cases["g3"], f.loginAs(t, "lead3", "second-password"), nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("lead3 on g3's case: %d", resp.StatusCode)
	}
	if resp, body := f.request(t, http.MethodPost, "/api/staff/lead3/disable", admin, map[string]bool{"disabled": true}); resp.StatusCode != 200 {
		t.Fatalf("disable: %d %s", resp.StatusCode, body)
	}
	if got := login("second-password"); got != http.StatusUnauthorized {
		t.Errorf("disabled login: %d", got)
	}
	_, body := f.request(t, http.MethodGet, "/api/staff", admin, nil)
	list := decode[struct{ Staff []staffAdminView }](t, body).Staff
	found := false
	for _, s := range list {
		if s.ID == "lead3" {
			found = s.Disabled && len(s.Posts) == 1 && s.Posts[0] == "g3:B"
		}
	}
	if !found {
		t.Errorf("staff list %+v", list)
	}
}

func (f *fixture) loginAs(t *testing.T, id, pw string) *http.Cookie {
	t.Helper()
	resp, body := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: id, Password: pw})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d %s", id, resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatal("no cookie")
	return nil
}

// TestLoginRateLimited: after maxPairAttempts wrong passwords a username is
// refused, even with the right password, while others log in.
func TestLoginRateLimited(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.srv.addrFailures = maxPairAttempts + 3 })
	for i := range maxPairAttempts {
		resp, _ := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "lead1", Password: "guess"})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
	}
	resp, body := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "lead1", Password: password("lead1")})
	if resp.StatusCode != http.StatusTooManyRequests || errorMessage(t, body) != msgTooMany {
		t.Errorf("after the limit: %d %s", resp.StatusCode, body)
	}
	f.login(t, "lead2")
	// Per address: past the address limit every name from it is refused
	// (lead2 logged in here, so that one counted; admin did not).
	for i := range 3 {
		f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "nobody" + string(rune('a'+i)), Password: "x"})
	}
	resp, _ = f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "admin", Password: password("admin")})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after the address limit: %d", resp.StatusCode)
	}
}
