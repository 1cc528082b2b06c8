package valkey_test

import (
	"bytes"
	"context"
	"testing"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/sealing"
	"gridbot/store"
	"gridbot/store/storetest"
	"gridbot/store/valkey"
)

// Personal data is sealed on the server (core/sealing.go): in the case
// strings, the logs, the stream's entries and the records.
func TestSealed(t *testing.T) {
	addr, prefix := valkeytest.Addr(t), valkeytest.Prefix(t)
	storetest.RunSealed(t, func(t *testing.T, sealer core.Sealer) store.Store {
		s, err := valkey.Open(context.Background(), valkey.Options{Addr: []string{addr}, Prefix: prefix, CasePrefix: "ST", Sealer: sealer,
			Search: storetest.SealedSearch(sealer)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, func(t *testing.T) []byte { return serverContents(t, addr, prefix) })
}

// The behaviour suite holds with sealing on.
func TestBehaviourSealed(t *testing.T) {
	keys, err := sealing.Parse(sealing.NewFile())
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		s, err := valkey.Open(context.Background(), valkey.Options{Addr: []string{valkeytest.Addr(t)}, Prefix: valkeytest.Prefix(t),
			CasePrefix: "ST", Now: clock.Now, Sealer: keys, Search: storetest.SearchRule})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// serverContents is every key under prefix with everything it holds, read
// by its type.
func serverContents(t *testing.T, addr, prefix string) []byte {
	t.Helper()
	ctx := context.Background()
	c, err := vk.NewClient(vk.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out bytes.Buffer
	cursor := uint64(0)
	for {
		scan, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(500).Build()).AsScanEntry()
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range scan.Elements {
			typ, err := c.Do(ctx, c.B().Type().Key(key).Build()).ToString()
			if err != nil {
				t.Fatal(err)
			}
			var cmd vk.Completed
			switch typ {
			case "string":
				cmd = c.B().Get().Key(key).Build()
			case "list":
				cmd = c.B().Lrange().Key(key).Start(0).Stop(-1).Build()
			case "zset":
				cmd = c.B().Zrange().Key(key).Min("0").Max("-1").Build()
			case "hash":
				cmd = c.B().Hgetall().Key(key).Build()
			case "set":
				cmd = c.B().Smembers().Key(key).Build()
			case "stream":
				cmd = c.B().Xrange().Key(key).Start("-").End("+").Build()
			default:
				t.Fatalf("key %s of type %s", key, typ)
			}
			out.WriteString(key + "\n")
			writeReply(&out, c.Do(ctx, cmd))
		}
		if cursor = scan.Cursor; cursor == 0 {
			break
		}
	}
	return out.Bytes()
}

func writeReply(out *bytes.Buffer, r vk.ValkeyResult) {
	msg, err := r.ToMessage()
	if err != nil {
		return
	}
	var walk func(m vk.ValkeyMessage)
	walk = func(m vk.ValkeyMessage) {
		if s, err := m.ToString(); err == nil {
			out.Write(valkey.ExpandStored([]byte(s)))
			out.WriteString("\n")
			return
		}
		if arr, err := m.ToArray(); err == nil {
			for _, e := range arr {
				walk(e)
			}
			return
		}
		if mp, err := m.AsMap(); err == nil {
			for k, v := range mp {
				out.WriteString(k + "\n")
				walk(v)
			}
		}
	}
	walk(msg)
}
