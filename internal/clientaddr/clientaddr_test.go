package clientaddr

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestAddr(t *testing.T) {
	proxies, err := Parse([]string{"127.0.0.1", "10.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, peer, xff, realIP, want string
	}{
		{"no proxy, headers ignored", "203.0.113.9:5000", "198.51.100.1", "198.51.100.2", "203.0.113.9"},
		{"proxy, one hop", "127.0.0.1:5000", "198.51.100.1", "", "198.51.100.1"},
		{"proxy chain: the right-most untrusted", "10.1.1.1:80", "6.6.6.6, 198.51.100.1, 10.2.2.2", "", "198.51.100.1"},
		{"client-written left part ignored", "127.0.0.1:80", "1.2.3.4, 198.51.100.7", "", "198.51.100.7"},
		{"real ip without xff", "[::1]:80", "", "198.51.100.3", "198.51.100.3"},
		{"garbage hop stops at the proxy", "127.0.0.1:80", "198.51.100.1, nonsense", "", "127.0.0.1"},
		{"all hops trusted: the left-most", "127.0.0.1:80", "10.0.0.5, 10.0.0.6", "", "10.0.0.5"},
		{"mapped v4 peer", "[::ffff:127.0.0.1]:80", "198.51.100.4", "", "198.51.100.4"},
		{"proxy without headers", "127.0.0.1:80", "", "", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.realIP != "" {
				r.Header.Set("X-Real-IP", tt.realIP)
			}
			if got := proxies.Addr(r).String(); got != tt.want {
				t.Errorf("Addr = %s, want %s", got, tt.want)
			}
		})
	}
	// Nobody trusted (the default): the peer, whatever the headers say.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := (Proxies{}).Addr(r).String(); got != "127.0.0.1" {
		t.Errorf("zero Proxies: %s", got)
	}
}

func TestParseRefusesNonsense(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "example.org", "1.2.3"} {
		if _, err := Parse([]string{bad}); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestKeyGroupsIPv6By64(t *testing.T) {
	p := Proxies{}
	a := httptest.NewRequest("GET", "/", nil)
	a.RemoteAddr = "[2001:db8:1:2::1]:80"
	b := httptest.NewRequest("GET", "/", nil)
	b.RemoteAddr = "[2001:db8:1:2:ffff::9]:80"
	if Key(p.Addr(a)) != Key(p.Addr(b)) || Key(p.Addr(a)) != "2001:db8:1:2::/64" {
		t.Errorf("keys %s %s", Key(p.Addr(a)), Key(p.Addr(b)))
	}
}

func TestTLS(t *testing.T) {
	p, _ := Parse([]string{"127.0.0.1"})
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("X-Forwarded-Proto", "https")
	if !p.TLS(r) {
		t.Error("trusted proxy's https not believed")
	}
	r.RemoteAddr = "198.51.100.1:1"
	if p.TLS(r) {
		t.Error("a stranger's X-Forwarded-Proto believed")
	}
	r.TLS = &tls.ConnectionState{}
	if !p.TLS(r) {
		t.Error("a TLS connection not seen")
	}
}
