package valkey_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/routing"
	"gridbot/routing/valkeystream"
	"gridbot/store"
	"gridbot/store/storetest"
	"gridbot/store/valkey"
)

// spread is where the keys of one prefix are on a cluster: node address →
// key → slot.
type spread map[string]map[string]int64

// keysOn scans every master of the store's cluster for the keys that start
// with prefix and asks each key's slot.
func keysOn(t *testing.T, s *valkey.Store, prefix string) spread {
	t.Helper()
	ctx := context.Background()
	out := spread{}
	for addr, node := range s.Client().Nodes() {
		var cursor uint64
		for {
			scan, err := node.Do(ctx, node.B().Scan().Cursor(cursor).Match(prefix+"*").Count(500).Build()).AsScanEntry()
			if err != nil {
				t.Fatalf("scan %s: %v", addr, err)
			}
			for _, k := range scan.Elements {
				slot, err := node.Do(ctx, node.B().ClusterKeyslot().Key(k).Build()).AsInt64()
				if err != nil {
					t.Fatal(err)
				}
				if out[addr] == nil {
					out[addr] = map[string]int64{}
				}
				out[addr][k] = slot
			}
			if cursor = scan.Cursor; cursor == 0 {
				break
			}
		}
	}
	return out
}

// ledgerOf checks that every ledger key of the store under prefix and tag —
// every key but the records, ephemeral keys, audit trail and visits, which
// have slots of their own by design — is in the tag's one slot on one
// master, and returns that master and how many keys it holds.
func ledgerOf(t *testing.T, s *valkey.Store, prefix, tag string) (master string, keys int) {
	t.Helper()
	want := int64(-1)
	for addr, ks := range keysOn(t, s, prefix) {
		for k, slot := range ks {
			rest := strings.TrimPrefix(k, prefix)
			if strings.HasPrefix(rest, "rec:") || strings.HasPrefix(rest, "rec-moved:") || strings.HasPrefix(rest, "eph:") ||
				strings.HasPrefix(rest, "{au}:") || strings.HasPrefix(rest, "{gv}:") {
				continue
			}
			if !strings.HasPrefix(rest, "{"+tag+"}:") {
				t.Errorf("ledger key %s is not under {%s}", k, tag)
			}
			if want == -1 {
				want, master = slot, addr
			}
			if slot != want || addr != master {
				t.Errorf("ledger key %s in slot %d on %s, another in slot %d on %s: the ledger is not in one slot", k, slot, addr, want, master)
			}
			keys++
		}
	}
	return master, keys
}

// openOn opens a store on a cluster under prefix and tag, closed at cleanup.
func openOn(t *testing.T, addrs []string, prefix, tag string, now func() time.Time) *valkey.Store {
	t.Helper()
	s, err := valkey.Open(context.Background(), valkey.Options{Addr: addrs, Prefix: prefix, Tag: tag, CasePrefix: "ST", Now: now, Search: storetest.SearchRule})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The behaviour suite on a real cluster of three masters (the package's
// shared one), through valkey-go's cluster client: the server refuses any
// script or command whose keys span slots (CROSSSLOT), so every write
// script passing is itself a check of the layout. Each store of the suite
// is a town of its own (tag gb:t<n>), so the suite's towns spread over the
// masters; after each test every ledger key the store wrote is checked to
// be in its tag's one slot.
func TestBehaviourOnThreeMasters(t *testing.T) {
	addrs := valkeytest.SharedCluster(t)
	n := 0
	masters := map[string]int{}
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		n++
		prefix, tag := valkeytest.Prefix(t), fmt.Sprintf("gb:t%d", n)
		s := openOn(t, addrs, prefix, tag, clock.Now)
		// Cleanups run last first: this runs before the store closes.
		t.Cleanup(func() {
			if master, keys := ledgerOf(t, s, prefix, tag); keys > 0 {
				masters[master]++
			}
		})
		return s
	})
	if len(masters) != 3 {
		t.Errorf("the suite's %d towns wrote their ledgers on %d masters, want all three: %v", n, len(masters), masters)
	}
}

// Two towns under tags that the cluster's slot map puts on different
// masters: each town's ledger — the case, its log, the indexes, the
// counters and the stream entry the write script adds — is on its own
// master, in one slot. Were the tag ignored, both would be on {gb}'s.
func TestTownsOnDifferentMasters(t *testing.T) {
	ctx := context.Background()
	addrs := valkeytest.SharedCluster(t)
	// Pick the tags by the slot map, so the test never depends on where
	// the cluster happened to put its slot ranges.
	var tags []string
	var want []string
	for i := 0; len(tags) < 2 && i < 100; i++ {
		tag := fmt.Sprintf("gb:town%d", i)
		m := valkeytest.NodeOf(t, addrs, "{"+tag+"}")
		if len(tags) == 0 || m != want[0] {
			tags, want = append(tags, tag), append(want, m)
		}
	}
	if len(tags) != 2 {
		t.Fatalf("no two of 100 tags on different masters: %v", want)
	}
	var got []string
	for i, tag := range tags {
		// A prefix each, so that every key under it is the town's own.
		prefix := valkeytest.Prefix(t)
		s := openOn(t, addrs, prefix, tag, nil)
		if typ := fmt.Sprintf("%T", s.Client()); !strings.Contains(strings.ToLower(typ), "cluster") {
			t.Fatalf("the store runs on a %s, not valkey-go's cluster client", typ)
		}
		c, first, err := createCase(ctx, s, time.Now(), "路灯不亮")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
			c.State = core.StateAssigned
			return []core.Event{{Kind: core.EventAssigned, Actor: core.ActorSystem, At: time.Now()}}, nil
		}); err != nil {
			t.Fatal(err)
		}
		master, keys := ledgerOf(t, s, prefix, tag)
		if master != want[i] || keys < 5 {
			t.Fatalf("town %s: %d ledger keys on %s, want them on %s", tag, keys, master, want[i])
		}
		got = append(got, master)
		// The stream entry went with the case, on the town's master.
		stream := valkeystream.TaggedStreamKey(prefix, tag, routing.TopicCaseEvents)
		if _, ok := keysOn(t, s, prefix)[master][stream]; !ok {
			t.Fatalf("town %s: stream %s is not on %s", tag, stream, master)
		}
		entries, err := s.Client().Do(ctx, s.Client().B().Xrange().Key(stream).Start("-").End("+").Build()).AsXRange()
		if err != nil || len(entries) != 2 {
			t.Fatalf("town %s: stream has %d entries (%v), want the submission and the assignment", tag, len(entries), err)
		}
		msg, err := valkeystream.MessageFromFields(entries[0].FieldValues)
		if err != nil {
			t.Fatal(err)
		}
		if ev, err := routing.DecodeEvent(msg); err != nil || ev.Seq != first.Seq || ev.Case != c.Number {
			t.Fatalf("town %s: first stream entry %+v %v, want case %s seq %d", tag, ev, err, c.Number, first.Seq)
		}
	}
	if got[0] == got[1] {
		t.Fatalf("towns %v both on %s", tags, got[0])
	}
}
