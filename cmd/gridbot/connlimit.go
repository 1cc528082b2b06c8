package main

import (
	"container/list"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// connLimiter bounds the HTTP listener's connections, per client address
// and in all, below the process's file descriptor limit: 20,000 idle
// keep-alive connections from a stranger once used up every descriptor, and
// WeChat's callbacks timed out. A connection over an address's bound is
// closed at once; at the overall bound an idle connection (kept alive
// between requests, or opened and not yet sent a request) is closed to make
// room — one long idle, from the address holding the most connections — so
// a flood of idle connections pushes out its own and a callback still gets
// in. Connections serving a request
// or upgraded to a websocket are never the ones closed.
type connLimiter struct {
	net.Listener
	maxConns, maxPerAddr int
	// exempt reports addresses the per-address bound does not apply to:
	// a reverse proxy carries many clients on its own address.
	exempt func(netip.Addr) bool
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	open    int
	perAddr map[netip.Addr]int
	// idle lists the connections not serving a request, the longest idle
	// first.
	idle *list.List
	// refused and evicted count since the last log line.
	refused, evicted int
	loggedAt         time.Time
}

// limitedConn is a connection the limiter counts.
type limitedConn struct {
	net.Conn
	l    *connLimiter
	addr netip.Addr
	// elem is the connection's place in l.idle, nil when busy; guarded
	// by l.mu.
	elem   *list.Element
	closed bool
	once   sync.Once
}

func newConnLimiter(ln net.Listener, maxConns, maxPerAddr int, exempt func(netip.Addr) bool, log *slog.Logger) *connLimiter {
	if exempt == nil {
		exempt = func(netip.Addr) bool { return false }
	}
	return &connLimiter{Listener: ln, maxConns: maxConns, maxPerAddr: maxPerAddr, exempt: exempt, log: log,
		now: time.Now, perAddr: map[netip.Addr]int{}, idle: list.New()}
}

// connLimitLogEvery is the most often the limiter logs what it refused.
const connLimitLogEvery = 10 * time.Second

// Accept returns the next connection within the bounds, closing those
// over them.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := clientAddr(c)
		l.mu.Lock()
		if !l.exempt(addr) && l.perAddr[addr] >= l.maxPerAddr {
			l.refused++
			l.logLocked()
			l.mu.Unlock()
			c.Close()
			continue
		}
		var victim *limitedConn
		if l.open >= l.maxConns {
			front := l.idle.Front()
			if front == nil {
				// Every connection is serving a request: this one waits
				// its turn by being refused.
				l.refused++
				l.logLocked()
				l.mu.Unlock()
				c.Close()
				continue
			}
			victim = l.victimLocked()
			l.releaseLocked(victim)
			l.evicted++
			l.logLocked()
		}
		lc := &limitedConn{Conn: c, l: l, addr: addr}
		l.open++
		l.perAddr[addr]++
		// New: idle until its first request arrives.
		lc.elem = l.idle.PushBack(lc)
		l.mu.Unlock()
		if victim != nil {
			victim.Conn.Close()
		}
		return lc, nil
	}
}

// victimCandidates is how many of the longest-idle connections the
// limiter weighs when it must close one.
const victimCandidates = 64

// victimLocked picks the idle connection to close: of the longest idle,
// the one whose address holds the most connections, so that a flood from
// a few addresses makes room with its own connections, not those of WeChat's
// servers or a staff member's browser. The caller holds mu; idle is not
// empty.
func (l *connLimiter) victimLocked() *limitedConn {
	var best *limitedConn
	e := l.idle.Front()
	for i := 0; e != nil && i < victimCandidates; i, e = i+1, e.Next() {
		c := e.Value.(*limitedConn)
		if best == nil || l.perAddr[c.addr] > l.perAddr[best.addr] {
			best = c
		}
	}
	return best
}

// logLocked reports refusals and evictions, at most every
// connLimitLogEvery; the caller holds mu.
func (l *connLimiter) logLocked() {
	if now := l.now(); now.Sub(l.loggedAt) >= connLimitLogEvery {
		l.log.Warn("connections over the limits closed", "refused", l.refused, "idle_closed", l.evicted,
			"open", l.open, "max_conns", l.maxConns, "max_conns_per_addr", l.maxPerAddr)
		l.refused, l.evicted, l.loggedAt = 0, 0, now
	}
}

// releaseLocked stops counting c; the caller holds mu. It runs once per
// connection, at its close or eviction.
func (l *connLimiter) releaseLocked(c *limitedConn) {
	if c.closed {
		return
	}
	c.closed = true
	if c.elem != nil {
		l.idle.Remove(c.elem)
		c.elem = nil
	}
	l.open--
	if n := l.perAddr[c.addr] - 1; n > 0 {
		l.perAddr[c.addr] = n
	} else {
		delete(l.perAddr, c.addr)
	}
}

// connState is the http.Server's ConnState hook: it keeps the idle list.
func (l *connLimiter) connState(c net.Conn, state http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		// Served over TLS (http.tls_cert_file): the limited connection
		// is beneath.
		c = tc.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if lc.closed {
		return
	}
	switch state {
	case http.StateIdle:
		if lc.elem != nil {
			l.idle.Remove(lc.elem)
		}
		lc.elem = l.idle.PushBack(lc)
	case http.StateActive, http.StateHijacked:
		if lc.elem != nil {
			l.idle.Remove(lc.elem)
			lc.elem = nil
		}
	case http.StateClosed:
		l.releaseLocked(lc)
	}
}

// Close closes the connection and stops counting it.
func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.releaseLocked(c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// clientAddr is the connection's remote IP, IPv4 in IPv6 unwrapped.
func clientAddr(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// defaultMaxConns bounds the connections when http.max_conns is 0: the
// smaller of 10,000 and three quarters of the descriptor limit (the rest
// are the store's, the outgoing calls' and the log's).
func defaultMaxConns() int {
	n := 10000
	if limit := fileLimit(); limit > 0 {
		n = min(n, limit*3/4)
	}
	return max(n, 16)
}
