package configs

import (
	"slices"
	"strings"
	"testing"
)

// TestTrustedProxies: the list comes from the file or, comma-separated,
// from the environment; anything that is not an address or a CIDR stops
// start-up naming the key.
func TestTrustedProxies(t *testing.T) {
	c, err := Load("", []string{"GRIDBOT_HTTP_TRUSTED_PROXIES=127.0.0.1/32, 10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"127.0.0.1/32", "10.0.0.0/8"}; !slices.Equal(c.HTTP.TrustedProxies, want) {
		t.Errorf("trusted_proxies = %q, want %q", c.HTTP.TrustedProxies, want)
	}
	if c, err := Load("", nil); err != nil || len(c.HTTP.TrustedProxies) != 0 {
		t.Errorf("default trusts %q (%v), want nobody", c.HTTP.TrustedProxies, err)
	}
	_, err = Load("", []string{"GRIDBOT_HTTP_TRUSTED_PROXIES=10.0.0.0/40"})
	if err == nil || !strings.Contains(err.Error(), "http.trusted_proxies") {
		t.Errorf("bad CIDR: %v", err)
	}
}

// TestAdminAndCookieSettings: the admin token, when given, is long enough;
// its file defaults to beside the store; secure_cookies reads as a bool.
func TestAdminAndCookieSettings(t *testing.T) {
	if _, err := Load("", []string{"GRIDBOT_ADMIN_TOKEN=short"}); err == nil || !strings.Contains(err.Error(), "admin.token") {
		t.Errorf("a short admin token: %v", err)
	}
	c, err := Load("", []string{"GRIDBOT_STORE_PATH=/var/lib/gridbot/gridbot.db", "GRIDBOT_CONSOLE_SECURE_COOKIES=true"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.AdminTokenFile(); got != "/var/lib/gridbot/admin-token" {
		t.Errorf("token file %q", got)
	}
	if !c.Console.SecureCookies {
		t.Error("secure_cookies not read")
	}
	c.Admin.TokenFile = "/etc/gridbot/admin-token"
	if got := c.AdminTokenFile(); got != "/etc/gridbot/admin-token" {
		t.Errorf("token file %q", got)
	}
}

// TestWebsocketLimits: the per-person and per-address websocket bounds
// default to 10 and 300 and refuse 0.
func TestWebsocketLimits(t *testing.T) {
	c, err := Load("", nil)
	if err != nil || c.Console.WebsocketsPerPerson != 10 || c.Console.WebsocketsPerAddr != 300 {
		t.Fatalf("defaults %d %d (%v)", c.Console.WebsocketsPerPerson, c.Console.WebsocketsPerAddr, err)
	}
	if _, err := Load("", []string{"GRIDBOT_CONSOLE_WEBSOCKETS_PER_PERSON=0"}); err == nil || !strings.Contains(err.Error(), "websockets_per_person") {
		t.Errorf("0 per person: %v", err)
	}
}

// TestStaffSlots: console requests run one per CPU but one unless
// console.staff_slots says how many; a negative or absurd number is
// refused.
func TestStaffSlots(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want int
		err  bool
	}{{"", 0, false}, {"3", 3, false}, {"-1", 0, true}, {"65", 0, true}} {
		var env []string
		if tt.env != "" {
			env = []string{"GRIDBOT_CONSOLE_STAFF_SLOTS=" + tt.env}
		}
		c, err := Load("", env)
		if (err != nil) != tt.err || err != nil && !strings.Contains(err.Error(), "staff_slots") {
			t.Errorf("staff_slots %q: %v", tt.env, err)
			continue
		}
		if err == nil && c.Console.StaffSlots != tt.want {
			t.Errorf("staff_slots %q read as %d", tt.env, c.Console.StaffSlots)
		}
	}
}
