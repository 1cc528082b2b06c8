package valkeytest

import (
	"os/exec"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestServerAnswersAndRestarts(t *testing.T) {
	addr := Addr(t)
	if !ping(addr) {
		t.Fatal("no PONG")
	}
	cmd := RestartCommand()
	if cmd == nil {
		t.Skip("server not started by this binary")
	}
	if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("restart: %v: %s", err, out)
	}
	if !ping(addr) {
		t.Fatal("no PONG after restart")
	}
}
