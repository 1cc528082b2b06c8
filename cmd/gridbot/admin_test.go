package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gridbot/configs"
)

// TestAdminGuard: the admin endpoints answer only with the token and a
// loopback Host, so neither a web page in the operator's browser nor a
// rebinding name reaches the backup or the profiler.
func TestAdminGuard(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("secret")) })
	h := adminGuard(token, ok)
	tests := []struct {
		name, host, auth string
		want             int
	}{
		{"token and loopback", "127.0.0.1:8079", "Bearer " + token, 200},
		{"localhost", "localhost:8079", "Bearer " + token, 200},
		{"IPv6 loopback", "[::1]:8079", "Bearer " + token, 200},
		{"no token", "127.0.0.1:8079", "", 401},
		{"wrong token", "127.0.0.1:8079", "Bearer " + strings.Repeat("x", len(token)), 401},
		{"token without Bearer", "127.0.0.1:8079", token, 401},
		{"rebinding name", "evil.example:8079", "Bearer " + token, 421},
		{"rebinding name, no port", "evil.example", "Bearer " + token, 421},
		{"other address", "192.0.2.1:8079", "Bearer " + token, 421},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/backup", nil)
			r.Host = tt.host
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("%d, want %d", w.Code, tt.want)
			}
			if tt.want != 200 && strings.Contains(w.Body.String(), "secret") {
				t.Error("refused, yet the endpoint answered")
			}
		})
	}
	// An empty token lets nobody in.
	r := httptest.NewRequest(http.MethodGet, "/backup", nil)
	r.Host = "127.0.0.1"
	r.Header.Set("Authorization", "Bearer ")
	w := httptest.NewRecorder()
	adminGuard("", ok).ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("empty token: %d", w.Code)
	}
}

// TestAdminToken: without admin.token, serve makes a random token in a
// file only its user reads, keeps it across restarts, and backup reads it.
func TestAdminToken(t *testing.T) {
	dir := t.TempDir()
	cfg, err := configs.Load("", []string{"GRIDBOT_STORE_PATH=" + filepath.Join(dir, "gridbot.db")})
	if err != nil {
		t.Fatal(err)
	}
	first, err := loadAdminToken(cfg)
	if err != nil || len(first) < 32 {
		t.Fatalf("token %q, %v", first, err)
	}
	info, err := os.Stat(filepath.Join(dir, "admin-token"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v, want mode 0600", info, err)
	}
	if again, err := loadAdminToken(cfg); again != first || err != nil {
		t.Errorf("second start: %q %v, want the same token", again, err)
	}
	if read, err := readAdminToken(cfg); read != first || err != nil {
		t.Errorf("backup reads %q %v", read, err)
	}
	cfg.Admin.Token = "from-the-environment-0123"
	if got, _ := loadAdminToken(cfg); got != cfg.Admin.Token {
		t.Errorf("admin.token set: %q", got)
	}
}

// TestAdminListenerNeedsToken: the running instance's admin listener
// refuses a request without the token.
func TestAdminListenerNeedsToken(t *testing.T) {
	r := boot(t, rigOptions{})
	for _, path := range []string{"/backup", "/debug/pprof/"} {
		resp, err := http.Get("http://" + r.urls.Admin + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without the token: %d", path, resp.StatusCode)
		}
	}
}
