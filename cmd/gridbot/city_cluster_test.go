package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/internal/valkeytest"
)

// A city of two towns on a real cluster of three masters: the towns stay
// apart as on one server (testCityTownsIsolated), and each town's ledger,
// under its tag gb:<town key>, is in that tag's one slot on that slot's
// master; shatang's and chishui's tags are on different masters (slots 4992
// and 5933 of the three ranges redis-cli gives three masters), so the city's
// towns are spread over the cluster.
func TestCityTownsOnThreeMasters(t *testing.T) {
	addrs, prefix := valkeytest.SharedCluster(t), valkeytest.Prefix(t)
	dir := t.TempDir()
	r := bootCity(t, fmt.Sprintf("store:\n  kind: valkey\n  path: %s\nvalkey:\n  addr: [%s]\n  prefix: %q\n  claim_idle: 2s\n",
		filepath.Join(dir, "gridbot.db"), strings.Join(addrs, ","), prefix))
	testCityTownsIsolated(t, r, false)

	client, err := vk.NewClient(vk.ClientOption{InitAddress: addrs, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()
	masters := map[string]string{}
	for _, town := range []string{"shatang", "chishui"} {
		tag := "gb:" + town
		want := valkeytest.NodeOf(t, addrs, "{"+tag+"}")
		ledger := prefix + "town:" + town + ":{" + tag + "}:"
		found := 0
		for addr, node := range client.Nodes() {
			keys, err := node.Do(ctx, node.B().Keys().Pattern(ledger+"*").Build()).AsStrSlice()
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) > 0 && addr != want {
				t.Errorf("town %s: %d ledger keys on %s, want all on %s (e.g. %s)", town, len(keys), addr, want, keys[0])
			}
			found += len(keys)
		}
		if found < 5 {
			t.Fatalf("town %s: %d ledger keys under %s*", town, found, ledger)
		}
		masters[town] = want
	}
	if masters["shatang"] == masters["chishui"] {
		t.Fatalf("both towns on %s: the city's towns are not spread", masters["shatang"])
	}
}
