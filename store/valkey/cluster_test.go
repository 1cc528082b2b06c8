package valkey_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/store"
	"gridbot/store/storetest"
	"gridbot/store/valkey"
)

// startCluster starts a one-node cluster (all slots on one server) that
// this test owns, and returns its address. The store then runs on
// valkey-go's cluster client and the server refuses any command or script
// whose keys span slots (CROSSSLOT): what proves the {gb} hash tags.
func startCluster(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("valkey-server")
	if err != nil {
		if bin, err = exec.LookPath("redis-server"); err != nil {
			t.Skip("no valkey-server or redis-server on PATH")
		}
	}
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	srv := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Kill()
		srv.Wait()
	})
	ctx := context.Background()
	var admin vk.Client
	for i := 0; ; i++ {
		admin, err = vk.NewClient(vk.ClientOption{InitAddress: []string{addr}, ForceSingleClient: true, DisableCache: true})
		if err == nil {
			break
		}
		if i == 50 {
			t.Fatalf("cluster node did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer admin.Close()
	if err := admin.Do(ctx, admin.B().ClusterAddslotsrange().StartSlotEndSlot().StartSlotEndSlot(0, 16383).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		info, err := admin.Do(ctx, admin.B().ClusterInfo().Build()).ToString()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if i == 100 {
			t.Fatalf("cluster did not become ok: %q %v", info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr
}

func TestBehaviourOnCluster(t *testing.T) {
	addr := startCluster(t)
	open := func(t *testing.T, prefix string, now func() time.Time) *valkey.Store {
		s, err := valkey.Open(context.Background(), valkey.Options{Addr: []string{addr}, Prefix: prefix, CasePrefix: "ST", Now: now, Search: storetest.SearchRule})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	n := 0
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		n++
		return open(t, fmt.Sprintf("c%d:", n), clock.Now)
	})
	// The stream entry goes with the case on a cluster too.
	prefix := "stream:"
	s := open(t, prefix, nil)
	if typ := fmt.Sprintf("%T", s.Client()); !strings.Contains(strings.ToLower(typ), "cluster") {
		t.Fatalf("the store runs on a %s, not valkey-go's cluster client", typ)
	}
	_, first, err := createCase(context.Background(), s, time.Now(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if got := streamEvents(t, s, prefix); len(got) != 1 || got[0].Seq != first.Seq || got[0].Kind != core.EventSubmitted {
		t.Fatalf("stream on cluster: %+v", got)
	}
}

// The behaviour suite on a real cluster of three masters started by the
// test: every ledger key of a deployment lives in its {gb} slot, so the
// scripts run on one master; keys of other tags spread over the others.
func TestBehaviourOnThreeMasters(t *testing.T) {
	addrs := valkeytest.Cluster(t)
	n := 0
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		n++
		s, err := valkey.Open(context.Background(), valkey.Options{Addr: addrs, Prefix: fmt.Sprintf("m%d:", n), CasePrefix: "ST", Now: clock.Now, Search: storetest.SearchRule})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
	masters := map[string]bool{}
	for _, tag := range []string{"{gb}", "{a}", "{b}", "{c}", "{d}", "{e}", "{f}"} {
		masters[valkeytest.NodeOf(t, addrs, "x:"+tag+":case:1")] = true
	}
	if len(masters) != 3 {
		t.Fatalf("seven hash tags landed on %d masters, want all three: %v", len(masters), masters)
	}
	if a, b := valkeytest.NodeOf(t, addrs, "p:{gb}:case:ST1"), valkeytest.NodeOf(t, addrs, "p:{gb}:figures"); a != b {
		t.Fatalf("a case and the counters are on %s and %s: the write script could not run", a, b)
	}
}
