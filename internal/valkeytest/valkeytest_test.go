package valkeytest

import (
	"os/exec"
	"strings"
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

// The shared cluster is one cluster of three masters that serve every slot
// between them, the same for every caller.
func TestSharedClusterHasThreeMasters(t *testing.T) {
	addrs := SharedCluster(t)
	if again := SharedCluster(t); strings.Join(again, ",") != strings.Join(addrs, ",") {
		t.Fatalf("a second call started another cluster: %v, %v", addrs, again)
	}
	masters := map[string]bool{}
	for _, slot := range []int{0, 5000, 5461, 5462, 10922, 10923, 16383} {
		masters[MasterOfSlot(t, addrs, slot)] = true
	}
	if len(masters) != 3 {
		t.Fatalf("slots 0…16383 served by %d masters, want 3: %v", len(masters), masters)
	}
	for _, a := range addrs {
		if !masters[a] {
			t.Errorf("%s is not a master serving slots", a)
		}
	}
	if a, b := SlotOf(t, addrs, "x{gb:a}y"), SlotOf(t, addrs, "{gb:a}"); a != b {
		t.Errorf("a key's hash tag decides its slot: %d, %d", a, b)
	}
}
