package valkeytest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Cluster starts a real cluster of three masters on loopback for the test
// (redis-server --cluster-enabled yes ×3, then redis-cli --cluster create
// … --cluster-yes), waits until every node says cluster_state:ok, and stops
// it when the test ends. It returns the three addresses. Without
// redis-server or redis-cli on PATH it skips (fails under CI=true).
func Cluster(t testing.TB) []string {
	t.Helper()
	bin := serverBinary()
	cli, err := exec.LookPath("valkey-cli")
	if err != nil {
		cli, err = exec.LookPath("redis-cli")
	}
	if bin == "" || err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("valkeytest: a cluster needs redis-server and redis-cli on PATH")
		}
		t.Skip("no redis-server or redis-cli on PATH")
	}
	var addrs []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		_, port, _ := net.SplitHostPort(addr)
		dir := t.TempDir()
		srv := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf",
			"--cluster-node-timeout", "2000")
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			srv.Process.Kill()
			srv.Wait()
		})
		addrs = append(addrs, addr)
	}
	for _, a := range addrs {
		if !waitFor(func() bool { return ping(a) }) {
			t.Fatalf("valkeytest: cluster node %s did not come up", a)
		}
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("valkeytest: %s %s: %v\n%s", cli, strings.Join(args, " "), err, out)
	}
	for _, a := range addrs {
		ok := waitFor(func() bool {
			out, err := exec.Command(cli, "-h", "127.0.0.1", "-p", portOf(a), "cluster", "info").Output()
			return err == nil && strings.Contains(string(out), "cluster_state:ok")
		})
		if !ok {
			t.Fatalf("valkeytest: cluster node %s never said cluster_state:ok", a)
		}
	}
	return addrs
}

// NodeOf returns the address of the master that serves key on the cluster
// of addrs (CLUSTER KEYSLOT, then CLUSTER SHARDS' slot ranges).
func NodeOf(t testing.TB, addrs []string, key string) string {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("no redis-cli on PATH")
	}
	out, err := exec.Command(cli, "-h", "127.0.0.1", "-p", portOf(addrs[0]), "cluster", "keyslot", key).Output()
	if err != nil {
		t.Fatalf("cluster keyslot: %v", err)
	}
	var slot int
	fmt.Sscan(strings.TrimSpace(string(out)), &slot)
	// CLUSTER NODES: "<id> <host:port@cport> <flags> <master> <ping> <pong>
	// <epoch> <link> <slot ranges…>".
	out, err = exec.Command(cli, "-h", "127.0.0.1", "-p", portOf(addrs[0]), "cluster", "nodes").Output()
	if err != nil {
		t.Fatalf("cluster nodes: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.Contains(f[2], "master") {
			continue
		}
		for _, r := range f[8:] {
			var lo, hi int
			if n, _ := fmt.Sscanf(r, "%d-%d", &lo, &hi); n == 1 {
				hi = lo
			} else if n != 2 {
				continue
			}
			if slot >= lo && slot <= hi {
				return strings.SplitN(f[1], "@", 2)[0]
			}
		}
	}
	t.Fatalf("no master serves slot %d of %q:\n%s", slot, key, out)
	return ""
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

func waitFor(ok func() bool) bool {
	for range 100 {
		if ok() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// serverBinary is valkey-server or redis-server from PATH, or "".
func serverBinary() string {
	for _, name := range []string{"valkey-server", "redis-server"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
