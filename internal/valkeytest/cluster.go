package valkeytest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvCluster names the variable that points tests at a running cluster:
// its nodes' addresses, comma-separated.
const EnvCluster = "GRIDBOT_TEST_VALKEY_CLUSTER"

// cluster is a three-master cluster this process started.
type cluster struct {
	addrs []string
	procs []*exec.Cmd
	ended []chan struct{} // closed when the node of procs[i] has exited
	dirs  []string
}

// shared is the package's one cluster, started by the first SharedCluster
// and stopped by Main when the package's tests are done: a cluster takes a
// few seconds to start and join, too long to pay for each test. It is test
// scaffolding, the one piece of package state here.
var shared struct {
	once sync.Once
	c    *cluster
	err  error
}

// SharedCluster returns the addresses of the real cluster of three masters
// that the test binary's tests share: the one EnvCluster names, or else one
// started on loopback on first use (redis-server --cluster-enabled yes ×3,
// then redis-cli --cluster create … --cluster-yes, waiting until every node
// says cluster_state:ok) and stopped when Main's tests are done (call Main
// from TestMain). Tests on it keep to keys of their own (Prefix). Without
// redis-server or redis-cli it skips (fails under CI=true).
func SharedCluster(t testing.TB) []string {
	t.Helper()
	if env := os.Getenv(EnvCluster); env != "" {
		return strings.Split(env, ",")
	}
	shared.once.Do(func() {
		start := time.Now()
		shared.c, shared.err = startCluster()
		if shared.err == nil {
			fmt.Fprintf(os.Stderr, "valkeytest: three-master cluster started in %s\n", time.Since(start).Round(time.Millisecond))
		}
	})
	if shared.err != nil {
		skipOrFail(t, shared.err)
	}
	return shared.c.addrs
}

// stopShared stops the shared cluster, if one was started.
func stopShared() {
	if shared.c != nil {
		shared.c.stop()
	}
}

// errNoBinaries says the machine cannot run a cluster: a skip outside CI.
var errNoBinaries = errors.New("no redis-server or redis-cli on PATH")

func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, errNoBinaries) {
		if os.Getenv("CI") == "true" {
			t.Fatal("valkeytest: a cluster needs redis-server and redis-cli on PATH; CI must not skip")
		}
		t.Skip(err)
	}
	t.Fatalf("valkeytest: %v", err)
}

func cliBinary() string {
	for _, name := range []string{"valkey-cli", "redis-cli"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func startCluster() (c *cluster, err error) {
	bin, cli := serverBinary(), cliBinary()
	if bin == "" || cli == "" {
		return nil, errNoBinaries
	}
	c = &cluster{}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	for len(c.addrs) < 3 {
		if err := c.startNode(bin); err != nil {
			return nil, err
		}
	}
	args := append([]string{"--cluster", "create"}, c.addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", cli, strings.Join(args, " "), err, out)
	}
	for _, a := range c.addrs {
		ok := waitFor(func() bool {
			out, err := exec.Command(cli, "-h", "127.0.0.1", "-p", portOf(a), "cluster", "info").Output()
			return err == nil && strings.Contains(string(out), "cluster_state:ok")
		})
		if !ok {
			return nil, fmt.Errorf("cluster node %s never said cluster_state:ok", a)
		}
	}
	return c, nil
}

// startNode starts one node on a free port and waits until it answers as
// itself: another test binary may take the port between our probe and the
// server's bind, and a node that answers there must not be joined to this
// cluster. It tries a few ports.
func (c *cluster) startNode(bin string) error {
	var last error
	for range 5 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := l.Addr().String()
		l.Close()
		dir, err := os.MkdirTemp("", "gridbot-cluster-")
		if err != nil {
			return err
		}
		c.dirs = append(c.dirs, dir)
		srv := exec.Command(bin, "--port", portOf(addr), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf",
			"--cluster-node-timeout", "2000")
		dieWithParent(srv)
		if err := srv.Start(); err != nil {
			return err
		}
		exited := make(chan struct{})
		go func() { srv.Wait(); close(exited) }()
		c.procs, c.ended = append(c.procs, srv), append(c.ended, exited)
		pid := fmt.Sprintf("process_id:%d", srv.Process.Pid)
		ours := func() bool {
			select {
			case <-exited:
				return true // stop waiting; checked below
			default:
			}
			out, err := exec.Command(cliBinary(), "-h", "127.0.0.1", "-p", portOf(addr), "info", "server").Output()
			return err == nil && strings.Contains(string(out), pid)
		}
		if waitFor(ours) {
			select {
			case <-exited:
				last = fmt.Errorf("cluster node on %s exited at start (port taken?)", addr)
				continue
			default:
			}
			c.addrs = append(c.addrs, addr)
			return nil
		}
		last = fmt.Errorf("cluster node %s did not come up", addr)
	}
	return last
}

func (c *cluster) stop() {
	for i, p := range c.procs {
		p.Process.Kill()
		<-c.ended[i]
	}
	for _, d := range c.dirs {
		os.RemoveAll(d)
	}
}

// NodeOf returns the address of the master that serves key on the cluster
// of addrs (CLUSTER KEYSLOT, then CLUSTER NODES' slot ranges).
func NodeOf(t testing.TB, addrs []string, key string) string {
	t.Helper()
	return MasterOfSlot(t, addrs, SlotOf(t, addrs, key))
}

// SlotOf is the cluster's CLUSTER KEYSLOT of key.
func SlotOf(t testing.TB, addrs []string, key string) int {
	t.Helper()
	cli := cliBinary()
	if cli == "" {
		skipOrFail(t, errNoBinaries)
	}
	out, err := exec.Command(cli, "-h", "127.0.0.1", "-p", portOf(addrs[0]), "cluster", "keyslot", key).Output()
	if err != nil {
		t.Fatalf("cluster keyslot: %v", err)
	}
	var slot int
	if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &slot); err != nil {
		t.Fatalf("cluster keyslot %q: %q", key, out)
	}
	return slot
}

// MasterOfSlot returns the address of the master that serves slot.
func MasterOfSlot(t testing.TB, addrs []string, slot int) string {
	t.Helper()
	cli := cliBinary()
	if cli == "" {
		skipOrFail(t, errNoBinaries)
	}
	// CLUSTER NODES: "<id> <host:port@cport> <flags> <master> <ping> <pong>
	// <epoch> <link> <slot ranges…>".
	out, err := exec.Command(cli, "-h", "127.0.0.1", "-p", portOf(addrs[0]), "cluster", "nodes").Output()
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
	t.Fatalf("no master serves slot %d:\n%s", slot, out)
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
