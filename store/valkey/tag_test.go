package valkey_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gridbot/internal/valkeytest"
	"gridbot/routing"
	"gridbot/routing/valkeystream"
	"gridbot/store/storetest"
	"gridbot/store/valkey"
)

// openTagged opens a store under prefix and hash tag on addrs.
func openTagged(t testing.TB, addrs []string, prefix, tag string) *valkey.Store {
	t.Helper()
	s, err := valkey.Open(context.Background(), valkey.Options{
		Addr: addrs, Prefix: prefix, Tag: tag, CasePrefix: "ST", Search: storetest.SearchRule,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Options.Tag: two towns on one prefix, each under its own tag, write every
// ledger key and the stream entry under their own {tag} and never read each
// other's cases; the default tag is "gb", so a ledger written before the
// option reads as it was; a tag that could break out of the braces is
// refused.
func TestTagSeparatesTowns(t *testing.T) {
	ctx := context.Background()
	addr := []string{valkeytest.Addr(t)}
	prefix := valkeytest.Prefix(t)
	chikan, xiashan := openTagged(t, addr, prefix, "gb:chikan"), openTagged(t, addr, prefix, "gb:xiashan")
	now := time.Now()
	a, _, err := createCase(ctx, chikan, now, "赤坎的路灯")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := createCase(ctx, xiashan, now, "霞山的井盖")
	if err != nil {
		t.Fatal(err)
	}
	// Each town numbers its own cases: the same number, two cases.
	if a.Number != b.Number {
		t.Fatalf("numbers %s and %s: each town's day counter is its own", a.Number, b.Number)
	}
	if got, err := xiashan.Case(ctx, b.Number); err != nil || got.Text != "霞山的井盖" {
		t.Fatalf("xiashan reads %+v %v", got, err)
	}
	if got, err := chikan.Case(ctx, a.Number); err != nil || got.Text != "赤坎的路灯" {
		t.Fatalf("chikan reads %+v %v", got, err)
	}
	cl := chikan.Client()
	keys, err := cl.Do(ctx, cl.B().Keys().Pattern(prefix+"*").Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	ledger := map[string]int{}
	for _, k := range keys {
		rest := strings.TrimPrefix(k, prefix)
		switch {
		case strings.HasPrefix(rest, "{gb:chikan}:"):
			ledger["gb:chikan"]++
		case strings.HasPrefix(rest, "{gb:xiashan}:"):
			ledger["gb:xiashan"]++
		case strings.HasPrefix(rest, "{"):
			t.Errorf("key %s under neither town's tag", k)
		}
	}
	if ledger["gb:chikan"] < 5 || ledger["gb:chikan"] != ledger["gb:xiashan"] {
		t.Fatalf("ledger keys by tag %v (all keys %v): each town's case under its own tag", ledger, keys)
	}
	// A second case in one town: its stream has two entries, the other's one.
	if _, _, err := createCase(ctx, chikan, now, "赤坎的第二件"); err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]int64{"gb:chikan": 2, "gb:xiashan": 1, "gb": 0} {
		key := valkeystream.TaggedStreamKey(prefix, tag, routing.TopicCaseEvents)
		if n, err := cl.Do(ctx, cl.B().Xlen().Key(key).Build()).AsInt64(); err != nil || n != want {
			t.Fatalf("stream %s has %d entries (%v), want %d", key, n, err, want)
		}
	}
	if chikan.Tag() != "gb:chikan" {
		t.Fatalf("Tag() = %q", chikan.Tag())
	}

	// The default is the layout of before: "" and "gb" are one ledger,
	// under {gb}.
	old := openTagged(t, addr, prefix, "")
	c, _, err := createCase(ctx, old, now, "旧的")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := cl.Do(ctx, cl.B().Exists().Key(prefix+"{gb}:case:"+c.Number).Build()).AsInt64(); err != nil || n != 1 {
		t.Fatalf("default tag: %s{gb}:case:%s exists %d %v", prefix, c.Number, n, err)
	}
	if got, err := openTagged(t, addr, prefix, "gb").Case(ctx, c.Number); err != nil || got.Text != "旧的" {
		t.Fatalf("tag gb reads the default's case: %+v %v", got, err)
	}
	if old.Tag() != "gb" {
		t.Fatalf("default Tag() = %q", old.Tag())
	}

	for _, bad := range []string{"gb}", "{gb", "gb}:x{y", "gb chikan", "赤坎", strings.Repeat("x", 65)} {
		if s, err := valkey.Open(ctx, valkey.Options{Addr: addr, Prefix: prefix, Tag: bad, CasePrefix: "ST"}); err == nil {
			s.Close()
			t.Errorf("Open with tag %q", bad)
		}
	}
}
