// Package clientaddr finds who is on the other end of a request: the
// connection's peer, or, when that peer is a reverse proxy the deployment
// trusts, the client the proxy names. Headers from anyone else are ignored,
// since any client can write them.
package clientaddr

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies whose forwarding headers are believed.
// The zero value trusts nobody: every request's client is its peer.
type Proxies struct {
	nets []netip.Prefix
}

// Parse reads the trusted proxies: CIDRs ("10.0.0.0/8") or single addresses.
func Parse(list []string) (Proxies, error) {
	var p Proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return Proxies{}, fmt.Errorf("trusted proxy %q: want an address or a CIDR", s)
			}
			a = a.Unmap()
			p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		n, err := netip.ParsePrefix(s)
		if err != nil {
			return Proxies{}, fmt.Errorf("trusted proxy %q: want an address or a CIDR", s)
		}
		p.nets = append(p.nets, n.Masked())
	}
	return p, nil
}

// Trusts reports whether a is one of the proxies: the listener does not
// bound a proxy's connections by its address, as it carries many clients.
func (p Proxies) Trusts(a netip.Addr) bool { return p.trusts(a) }

// trusts reports whether a is one of the proxies.
func (p Proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// peer is the connection's remote address; invalid when RemoteAddr is not
// an IP (a test's or a unix socket's), which then counts as one client.
func peer(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// ViaProxy reports whether the request came through a trusted proxy.
func (p Proxies) ViaProxy(r *http.Request) bool {
	a := peer(r)
	return a.IsValid() && p.trusts(a)
}

// Addr returns the client's address. From a trusted proxy it walks
// X-Forwarded-For from the right, past the proxies' own hops, to the first
// address the proxies did not add themselves (what is left of it the client
// wrote); without that header it takes X-Real-IP. A malformed hop stops the
// walk at the last proxy.
func (p Proxies) Addr(r *http.Request) netip.Addr {
	a := peer(r)
	if !a.IsValid() || !p.trusts(a) {
		return a
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	if len(hops) == 0 {
		if real, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get("X-Real-IP"))); err == nil {
			return real.Unmap()
		}
		return a
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return a
		}
		a = hop.Unmap()
		if !p.trusts(a) {
			return a
		}
	}
	return a
}

// Key names the client's address for limits: the address itself for IPv4,
// its /64 for IPv6, since one household or attacker is handed a whole /64.
func Key(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is6() {
		n, _ := a.Prefix(64)
		return n.String()
	}
	return a.String()
}

// TLS reports whether the client reached the service over TLS: the
// connection itself, or a trusted proxy saying so (X-Forwarded-Proto).
func (p Proxies) TLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return p.ViaProxy(r) && strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}
