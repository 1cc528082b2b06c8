package console

import (
	"net/http"
	"testing"
)

// TestSecureCookieBehindTLSProxy: the login cookie is Secure and answers
// carry HSTS when the client came over TLS: a trusted proxy's
// X-Forwarded-Proto, or console.secure_cookies; a stranger's header is not
// believed, and plain HTTP gets neither.
func TestSecureCookieBehindTLSProxy(t *testing.T) {
	tests := []struct {
		name   string
		opts   []fixtureOption
		header string // X-Forwarded-Proto sent
		secure bool
	}{
		{"plain, no proxy", nil, "", false},
		{"stranger says https", nil, "https", false},
		{"trusted proxy says https", []fixtureOption{withProxy(t)}, "https", true},
		{"trusted proxy says http", []fixtureOption{withProxy(t)}, "http", false},
		{"setting", []fixtureOption{func(f *fixture) { f.srv.SecureCookies = true }}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts...)
			resp, body := f.request(t, http.MethodPost, "/api/login", nil, loginRequest{Username: "lead1", Password: password("lead1")},
				withHeader("X-Forwarded-Proto", tt.header))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("login: %d %s", resp.StatusCode, body)
			}
			var cookie *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == SessionCookie {
					cookie = c
				}
			}
			if cookie == nil || cookie.Secure != tt.secure {
				t.Errorf("cookie %+v, want Secure=%v", cookie, tt.secure)
			}
			if hsts := resp.Header.Get("Strict-Transport-Security"); (hsts != "") != tt.secure {
				t.Errorf("Strict-Transport-Security %q, want it only over TLS", hsts)
			}
			resp, _ = f.request(t, http.MethodPost, "/api/logout", cookie, nil, withHeader("X-Forwarded-Proto", tt.header))
			for _, c := range resp.Cookies() {
				if c.Name == SessionCookie && c.Secure != tt.secure {
					t.Errorf("logout cookie Secure=%v", c.Secure)
				}
			}
		})
	}
}
