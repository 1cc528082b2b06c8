package valkey_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/store/storetest"
	"gridbot/store/valkey"
)

// fillEvents writes cases cases and then n more events over them in turn,
// and returns every event in sequence order as Events reads them.
func fillEvents(t *testing.T, ctx context.Context, s *valkey.Store, cases, n int) []core.Event {
	t.Helper()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	var numbers []string
	for i := range cases {
		c, _, err := createCase(ctx, s, now, fmt.Sprintf("case %d", i))
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, c.Number)
	}
	for i := range n {
		_, _, err := s.UpdateCase(ctx, numbers[i%cases], func(c *core.Case) ([]core.Event, error) {
			return []core.Event{{Kind: core.EventDelivered, Actor: "system", At: now.Add(time.Duration(i) * time.Second),
				Data: map[string]string{core.DataTo: "resident", core.DataAbout: strconv.Itoa(i)}}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var all []core.Event
	for _, number := range numbers {
		evs, err := s.Events(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, evs...)
	}
	byseq := make([]core.Event, len(all))
	for _, ev := range all {
		if ev.Seq == 0 || ev.Seq > uint64(len(all)) || byseq[ev.Seq-1].Seq != 0 {
			t.Fatalf("event numbered %d of %d", ev.Seq, len(all))
		}
		byseq[ev.Seq-1] = ev
	}
	return byseq
}

// checkEventsSince compares EventsSince from every point and with limits
// around the index's buckets to the events all (in sequence order).
func checkEventsSince(t *testing.T, ctx context.Context, s *valkey.Store, all []core.Event) {
	t.Helper()
	for _, from := range []int{0, 1, 2, 126, 127, 128, 129, 255, 256, 300, len(all) - 1, len(all), len(all) + 5} {
		for _, limit := range []int{1, 3, 127, 128, 129, 300, 10000} {
			got, err := s.EventsSince(ctx, uint64(from), limit)
			if err != nil {
				t.Fatalf("EventsSince(%d, %d): %v", from, limit, err)
			}
			want := all[min(from, len(all)):min(from+limit, len(all))]
			if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Fatalf("EventsSince(%d, %d): %d events, want %d", from, limit, len(got), len(want))
			}
		}
	}
}

// Each event is stored once, in its case's log; EventsSince reads the
// same events in sequence order through the index, across its buckets.
func TestEventsSinceReadsTheCaseLogs(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, nil)
	all := fillEvents(t, ctx, s, 7, 400)
	checkEventsSince(t, ctx, s, all)
	if last, err := s.LastSeq(ctx); err != nil || last != all[len(all)-1].Seq {
		t.Fatalf("LastSeq = %d, %v; the last event is %d", last, err, all[len(all)-1].Seq)
	}
	if last, err := open(t, valkeytest.Prefix(t), nil).LastSeq(ctx); err != nil || last != 0 {
		t.Fatalf("LastSeq of an empty ledger = %d, %v", last, err)
	}
	if n, err := s.Client().Do(ctx, s.Client().B().Exists().Key(prefix+"{gb}:events").Build()).AsInt64(); err != nil || n != 0 {
		t.Fatalf("the old sorted set of every event exists: %d, %v", n, err)
	}
}

// A number taken by a write that failed half way (no event, no index
// entry) is skipped, not an error or the end.
func TestEventsSinceSkipsANumberWithoutAnEvent(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, nil)
	before := fillEvents(t, ctx, s, 1, 2)
	for range 200 { // more than a bucket of numbers without events
		if err := s.Client().Do(ctx, s.Client().B().Incr().Key(prefix+"{gb}:seq").Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	c, ev, err := createCase(ctx, s, time.Now(), "after the gap")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.EventsSince(ctx, 0, 10)
	if err != nil || len(got) != len(before)+1 || got[len(before)].Seq != ev.Seq || got[len(before)].Case != c.Number {
		t.Fatalf("EventsSince over a gap: %+v, %v", got, err)
	}
	if got, err := s.EventsSince(ctx, before[len(before)-1].Seq, 1); err != nil || len(got) != 1 || got[0].Seq != ev.Seq {
		t.Fatalf("EventsSince(last before the gap, 1): %+v, %v", got, err)
	}
}

// A ledger of the layout before, every event also in the sorted set
// P{gb}:events and written as JSON objects in the logs, is moved to the
// index when a store opens it, and reads as before.
func TestEventsMoveFromTheOldSortedSet(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, nil)
	all := fillEvents(t, ctx, s, 5, 300)
	// Rewrite it as the old layout wrote it.
	cl := s.Client()
	old := prefix + "{gb}:events"
	logs := map[string][]string{}
	for _, ev := range all {
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		logs[ev.Case] = append(logs[ev.Case], string(raw))
		if err := cl.Do(ctx, cl.B().Zadd().Key(old).ScoreMember().ScoreMember(float64(ev.Seq), string(raw)).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	for number, raws := range logs {
		key := prefix + "{gb}:log:" + number
		if err := cl.Do(ctx, cl.B().Del().Key(key).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		if err := cl.Do(ctx, cl.B().Rpush().Key(key).Element(raws...).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	for b := range len(all)/128 + 1 {
		if err := cl.Do(ctx, cl.B().Del().Key(prefix+"{gb}:seqs:"+strconv.Itoa(b), prefix+"{gb}:seqs:r"+strconv.Itoa(b)).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Do(ctx, cl.B().Del().Key(prefix+"{gb}:seqs-packed").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.EventsSince(ctx, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("the rewrite left an index: %d, %v", len(got), err)
	}

	moved := open(t, prefix, nil)
	checkEventsSince(t, ctx, moved, all)
	for number := range logs {
		evs, err := moved.Events(ctx, number)
		if err != nil || len(evs) != len(logs[number]) {
			t.Fatalf("Events(%s): %d, %v", number, len(evs), err)
		}
	}
	if n, err := cl.Do(ctx, cl.B().Exists().Key(old).Build()).AsInt64(); err != nil || n != 0 {
		t.Fatalf("the old sorted set is still there: %d, %v", n, err)
	}
	// New events after the move follow on.
	c, ev, err := createCase(ctx, moved, time.Now(), "after the move")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := moved.EventsSince(ctx, uint64(len(all)), 5); err != nil || len(got) != 1 || got[0].Seq != ev.Seq || got[0].Case != c.Number {
		t.Fatalf("EventsSince after the move: %+v, %v", got, err)
	}
	// A case of the old layout closed now: its log, entries with field
	// names, is packed whole and reads the same.
	number := all[0].Case
	was, err := moved.Events(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	_, closing, err := moved.UpdateCase(ctx, number, func(c *core.Case) ([]core.Event, error) {
		c.State = core.StateClosed
		return []core.Event{{Kind: core.EventClosed, Actor: core.ActorSystem, At: time.Now()}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := logShape(t, cl, prefix+"{gb}:log:"+number); n != 0 {
		t.Fatalf("the closed old log: a list of %d elements, want it packed into a string", n)
	}
	now, err := moved.Events(ctx, number)
	if err != nil || len(now) != len(was)+1 || !reflect.DeepEqual(now[:len(was)], was) {
		t.Fatalf("the packed old log: %d events of %d, %v", len(now), len(was)+1, err)
	}
	if got, err := moved.EventsSince(ctx, 0, 10000); err != nil || len(got) != len(all)+2 || !reflect.DeepEqual(got[:len(all)], all) {
		t.Fatalf("EventsSince after the pack: %d events, %v", len(got), err)
	}
	if got, err := moved.EventsSince(ctx, closing[0].Seq-1, 1); err != nil || len(got) != 1 || got[0].Case != number {
		t.Fatalf("the closing event: %+v, %v", got, err)
	}
}

// indexKeys counts the index's records strings and hashes.
func indexKeys(t *testing.T, ctx context.Context, s *valkey.Store, prefix string) (records, hashes int) {
	t.Helper()
	cl := s.Client()
	keys, err := cl.Do(ctx, cl.B().Keys().Pattern(prefix+"{gb}:seqs:*").Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.HasPrefix(k, prefix+"{gb}:seqs:r") {
			records++
		} else {
			hashes++
		}
	}
	return records, hashes
}

// An event is indexed by a record of 7 bytes in its bucket's string,
// which fits the allocator's 1 KiB class whole.
func TestEventsIndexedByRecords(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, nil)
	all := fillEvents(t, ctx, s, 5, 300)
	checkEventsSince(t, ctx, s, all)
	records, hashes := indexKeys(t, ctx, s, prefix)
	if want := int(all[len(all)-1].Seq/128) + 1; records != want || hashes != 0 {
		t.Fatalf("%d records strings and %d hashes, want %d strings and no hash", records, hashes, want)
	}
	cl := s.Client()
	n, err := cl.Do(ctx, cl.B().MemoryUsage().Key(prefix+"{gb}:seqs:r0").Build()).AsInt64()
	if err != nil {
		t.Fatal(err)
	}
	// The key's name and the server's own record of it come on top.
	if n > 1024+100 {
		t.Errorf("a bucket of 128 events takes %d bytes, more than its 1 KiB and the key", n)
	}
	t.Logf("a bucket of 128 events: %d bytes by MEMORY USAGE", n)
}

// Two prefixes on one ledger (a town that changed its case prefix, with
// instances of both running): an event whose bucket's string is of the
// other prefix is a field of the bucket's hash, and the index reads both
// in sequence order.
func TestEventsIndexedAcrossPrefixes(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	st := open(t, prefix, nil)
	kp, err := valkey.Open(ctx, valkey.Options{Addr: []string{valkeytest.Addr(t)}, Prefix: prefix, CasePrefix: "KP", Search: storetest.SearchRule})
	if err != nil {
		t.Fatal(err)
	}
	defer kp.Close()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	var want []uint64
	for i := range 300 {
		s := st
		if i%3 == 0 {
			s = kp
		}
		_, ev, err := createCase(ctx, s, now, fmt.Sprintf("case %d", i))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ev.Seq)
	}
	got, err := st.EventsSince(ctx, 0, 1000)
	if err != nil || len(got) != len(want) {
		t.Fatalf("EventsSince: %d events, %v; want %d", len(got), err, len(want))
	}
	for i, ev := range got {
		if ev.Seq != want[i] || ev.Case == "" {
			t.Fatalf("event %d: %+v, want seq %d", i, ev, want[i])
		}
	}
	if _, hashes := indexKeys(t, ctx, st, prefix); hashes == 0 {
		t.Error("no event of the other prefix went to a hash: the test shows nothing")
	}
}

// A ledger whose index was written as hashes only (the layout before) is
// read as it is, and packed into records once when a store opens it.
func TestEventsIndexPackedOnOpen(t *testing.T) {
	ctx := context.Background()
	prefix := valkeytest.Prefix(t)
	s := open(t, prefix, nil)
	all := fillEvents(t, ctx, s, 5, 300)
	cl := s.Client()
	// As the layout before wrote it.
	for b := range int(all[len(all)-1].Seq/128) + 1 {
		if err := cl.Do(ctx, cl.B().Del().Key(prefix+"{gb}:seqs:r"+strconv.Itoa(b)).Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}
	pos := map[string]int{}
	for _, ev := range all {
		if err := cl.Do(ctx, cl.B().Hset().Key(prefix+"{gb}:seqs:"+strconv.FormatUint(ev.Seq/128, 10)).FieldValue().
			FieldValue(strconv.FormatUint(ev.Seq%128, 10), ev.Case+" "+strconv.Itoa(pos[ev.Case])).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		pos[ev.Case]++
	}
	if err := cl.Do(ctx, cl.B().Del().Key(prefix+"{gb}:seqs-packed").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	checkEventsSince(t, ctx, s, all)
	if records, hashes := indexKeys(t, ctx, s, prefix); records != 0 || hashes == 0 {
		t.Fatalf("before packing: %d records strings, %d hashes", records, hashes)
	}
	packed := open(t, prefix, nil)
	checkEventsSince(t, ctx, packed, all)
	if records, hashes := indexKeys(t, ctx, s, prefix); records == 0 || hashes != 0 {
		t.Fatalf("after packing: %d records strings, %d hashes left", records, hashes)
	}
}
