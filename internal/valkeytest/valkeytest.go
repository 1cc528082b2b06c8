// Package valkeytest gives tests a real Valkey-protocol server on loopback.
//
// GRIDBOT_TEST_VALKEY=host:port points the tests at a running server.
// Otherwise Main starts a private redis-server (or valkey-server) from PATH
// on a free loopback port for the test binary and stops it afterwards. With
// neither, a test that needs the server skips, except under CI=true, where
// it fails: a Valkey test never silently skips in CI.
//
// SharedCluster gives the tests of a binary one real cluster of three
// masters (GRIDBOT_TEST_VALKEY_CLUSTER, or one started on first use).
package valkeytest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// EnvAddr names the variable that points tests at a running server.
const EnvAddr = "GRIDBOT_TEST_VALKEY"

// server is the private server of this test binary, if Main started one.
type server struct {
	bin, dir, addr string
	port           string
}

// Main runs the tests of a package with a server available; call it from
// TestMain: func TestMain(m *testing.M) { valkeytest.Main(m) }.
func Main(m *testing.M) {
	var srv *server
	if os.Getenv(EnvAddr) == "" {
		var err error
		srv, err = start()
		if err != nil {
			fmt.Fprintln(os.Stderr, "valkeytest: no server started:", err)
		} else {
			os.Setenv(EnvAddr, srv.addr)
			os.Setenv("GRIDBOT_TEST_VALKEY_RESTART", strings.Join(srv.restartCommand(), "\x1f"))
		}
	}
	code := m.Run()
	if srv != nil {
		srv.stop()
	}
	stopShared()
	os.Exit(code)
}

// Addr returns the server's address, or skips (fails under CI=true) when
// there is none.
func Addr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(EnvAddr)
	if addr == "" || !ping(addr) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Valkey server reachable (set %s or install redis-server); CI must not skip", EnvAddr)
		}
		t.Skipf("no Valkey server reachable (set %s or install redis-server)", EnvAddr)
	}
	return addr
}

// RestartCommand is a command that restarts the server in place (keeping
// its data), for watermill's RestartServiceCommand; nil when the server is
// not this binary's own.
func RestartCommand() []string {
	v := os.Getenv("GRIDBOT_TEST_VALKEY_RESTART")
	if v == "" {
		return nil
	}
	return strings.Split(v, "\x1f")
}

// Prefix returns a key prefix no other test uses, so tests share a server
// without flushing it.
func Prefix(t testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "t" + hex.EncodeToString(b) + ":"
}

func start() (*server, error) {
	bin := ""
	for _, name := range []string{"valkey-server", "redis-server"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		return nil, fmt.Errorf("neither valkey-server nor redis-server is on PATH")
	}
	dir, err := os.MkdirTemp("", "gridbot-valkey-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	s := &server{bin: bin, dir: dir, addr: addr, port: port}
	if out, err := exec.Command(bin, s.args()...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", bin, err, out)
	}
	for i := 0; i < 100 && !ping(addr); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !ping(addr) {
		return nil, fmt.Errorf("%s did not answer on %s", bin, addr)
	}
	return s, nil
}

func (s *server) args() []string {
	return []string{"--port", s.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
		"--appendfsync", "everysec", "--dir", s.dir, "--daemonize", "yes",
		"--pidfile", filepath.Join(s.dir, "server.pid"), "--logfile", filepath.Join(s.dir, "server.log")}
}

// restartCommand stops the server (its AOF keeps the data) and starts it
// again on the same port, waiting until it answers.
func (s *server) restartCommand() []string {
	script := fmt.Sprintf(`pid=$(cat %[1]s/server.pid); kill $pid; while kill -0 $pid 2>/dev/null; do sleep 0.05; done; %[2]s %[3]s; for i in $(seq 100); do %[4]s && exit 0; sleep 0.05; done; exit 1`,
		s.dir, s.bin, shellQuote(s.args()), pingCommand(s.addr))
	return []string{"bash", "-c", script}
}

func shellQuote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

// pingCommand checks the server from bash without redis-cli.
func pingCommand(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf(`(exec 3<>/dev/tcp/%s/%s && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null`, host, port)
}

func (s *server) stop() {
	if b, err := os.ReadFile(filepath.Join(s.dir, "server.pid")); err == nil {
		exec.Command("kill", strings.TrimSpace(string(b))).Run()
	}
	for i := 0; i < 100 && ping(s.addr); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	os.RemoveAll(s.dir)
}

// ping reports whether a server answers PING at addr.
func ping(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}
