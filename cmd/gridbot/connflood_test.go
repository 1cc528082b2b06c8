package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// floodConn opens a connection from local address from, sends one request
// for /healthz and keeps the connection open, idle, as a keep-alive client
// would; it returns nil if the server closed it or refused.
func floodConn(ctx context.Context, target string, from net.IP) net.Conn {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return nil
	}
	defer context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: gridbot\r\n\r\n"); err != nil {
		c.Close()
		return nil
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil
	}
	resp.Body.Close()
	c.SetDeadline(time.Time{})
	return c
}

// A flood of idle keep-alive connections from many addresses, more than
// the process has file descriptors and kept up (each closed one is opened
// again a second later), does not stop WeChat's callbacks being answered:
// at the bound the longest-idle connections make room. (Without the bound
// the process ran out of descriptors and callbacks timed out.)
func TestCallbacksAnsweredUnderAConnectionFlood(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("1,200 connections from 40 loopback addresses (Linux)")
	}
	const nofile, flood = 256, 1200
	a, _ := bootProcessLimited(t, rigOptions{}, nofile)
	target := strings.TrimPrefix(strings.TrimSuffix(a.urls.Console, "/"), "http://")

	// 1,200 clients on 40 addresses (127.0.1.1–40), each holding one
	// connection and opening another a second after it is closed.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var opened, holding atomic.Int64
	for i := range flood {
		from := net.IPv4(127, 0, 1, byte(i%40+1))
		wg.Go(func() {
			for ctx.Err() == nil {
				c := floodConn(ctx, target, from)
				if c != nil {
					opened.Add(1)
					holding.Add(1)
					stop := context.AfterFunc(ctx, func() { c.Close() })
					c.Read(make([]byte, 1)) // until the server closes it
					stop()
					c.Close()
					holding.Add(-1)
				}
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	time.Sleep(2 * time.Second)
	t.Logf("after 2 s the flood has opened %d connections and holds %d (descriptor limit %d)",
		opened.Load(), holding.Load(), nofile)

	// Residents keep being answered, each within WeChat's 5 seconds.
	var slowest time.Duration
	for i := range 20 {
		start := time.Now()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		reply, err := a.sim.SendText(sctx, fmt.Sprintf("oresident-flood-%d", i), "报事")
		scancel()
		if err != nil || !strings.Contains(reply, "道路照明") {
			t.Fatalf("callback %d under the flood (holding %d): %q %v", i, holding.Load(), reply, err)
		}
		slowest = max(slowest, time.Since(start))
	}
	if held := holding.Load(); held >= nofile {
		t.Errorf("the flood holds %d connections with a descriptor limit of %d", held, nofile)
	}
	t.Logf("20 callbacks answered under the flood (%d connections opened, %d held), the slowest in %s",
		opened.Load(), holding.Load(), slowest.Round(time.Millisecond))
}
