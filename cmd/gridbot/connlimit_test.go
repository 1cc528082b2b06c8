package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// serveLimited serves /healthz, and /hold until release closes, behind a
// connLimiter.
func serveLimited(t *testing.T, maxConns, maxPerAddr int, exempt func(netip.Addr) bool) (string, chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newConnLimiter(ln, maxConns, maxPerAddr, exempt, slog.New(slog.NewTextHandler(io.Discard, nil)))
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/hold", func(w http.ResponseWriter, r *http.Request) { <-release })
	srv := &http.Server{Handler: mux, ConnState: l.connState, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), release
}

// held opens n kept-alive connections from address from and returns those
// the server answered.
func held(t *testing.T, target, from string, n int) []net.Conn {
	t.Helper()
	var out []net.Conn
	for range n {
		if c := floodConn(context.Background(), target, net.ParseIP(from)); c != nil {
			out = append(out, c)
			t.Cleanup(func() { c.Close() })
		}
	}
	return out
}

// stillOpen reports whether the server has not closed c.
func stillOpen(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func countOpen(cs []net.Conn) int {
	n := 0
	for _, c := range cs {
		if stillOpen(c) {
			n++
		}
	}
	return n
}

// One address gets at most its bound; another is not affected; an exempt
// address (a reverse proxy) is not bound.
func TestConnLimiterPerAddress(t *testing.T) {
	target, _ := serveLimited(t, 100, 5, func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.4") })
	if got := len(held(t, target, "127.0.0.2", 12)); got != 5 {
		t.Errorf("127.0.0.2 got %d connections served, want its bound 5", got)
	}
	if got := len(held(t, target, "127.0.0.3", 3)); got != 3 {
		t.Errorf("127.0.0.3 got %d of 3 connections served beside a flooding address", got)
	}
	if got := len(held(t, target, "127.0.0.4", 12)); got != 12 {
		t.Errorf("the exempt 127.0.0.4 got %d of 12 connections served", got)
	}
}

// At the overall bound an idle connection of the address holding the most
// makes room for a newcomer; the newcomer's own address keeps its.
func TestConnLimiterMakesRoomFromTheHeaviestAddress(t *testing.T) {
	target, _ := serveLimited(t, 10, 100, nil)
	light := held(t, target, "127.0.0.5", 2)
	heavy := held(t, target, "127.0.0.6", 8)
	if len(light) != 2 || len(heavy) != 8 {
		t.Fatalf("served %d and %d connections before the bound", len(light), len(heavy))
	}
	newcomer := held(t, target, "127.0.0.7", 3)
	if len(newcomer) != 3 {
		t.Fatalf("a newcomer got %d of 3 connections served at the bound", len(newcomer))
	}
	if n := countOpen(light); n != 2 {
		t.Errorf("the light address kept %d of its 2 idle connections", n)
	}
	if n := countOpen(heavy); n != 5 {
		t.Errorf("the heavy address kept %d of its 8 idle connections, want 5", n)
	}
}

// When every connection is serving a request, a newcomer is refused
// rather than one of them cut; once one finishes there is room again.
func TestConnLimiterNeverCutsARequest(t *testing.T) {
	target, release := serveLimited(t, 2, 100, nil)
	done := make(chan error, 2)
	for range 2 {
		go func() {
			resp, err := http.Get("http://" + target + "/hold")
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
	}
	time.Sleep(200 * time.Millisecond)
	if c := floodConn(context.Background(), target, net.ParseIP("127.0.0.8")); c != nil {
		c.Close()
		t.Error("a third connection was served while two requests were under way at a bound of 2")
	}
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("a request under way was cut: %v", err)
		}
	}
	// The server marks the connections idle just after their responses.
	deadline := time.Now().Add(2 * time.Second)
	for {
		if c := floodConn(context.Background(), target, net.ParseIP("127.0.0.8")); c != nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no room once the requests finished")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
