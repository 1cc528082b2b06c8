package valkey

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
	"gridbot/store/valuecodec"
)

// resealStringScript replaces a string only if it is still what was read:
// a write that raced the reseal wins, and was sealed by its own instance.
var resealStringScript = vk.NewLuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`)

// resealEntryScript does the same for one entry of a case's log.
var resealEntryScript = vk.NewLuaScript(`
if redis.call('LINDEX', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('LSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`)

// Reseal seals again, with the current key, every case, logged event and
// residents' record sealed with an older key or written plain (before the
// keys): what gridbot keys reseal runs after a rotation, while instances
// serve. It returns how many values it rewrote. The stream's entries are
// not rewritten (a stream cannot be edited): they are trimmed once handled,
// and the older keys, which the key file keeps, open those still there.
func (s *Store) Reseal(ctx context.Context) (int, error) {
	if s.sealer == nil {
		return 0, fmt.Errorf("reseal: %w", core.ErrNoKey)
	}
	current := s.sealer.KeyID()
	n := 0
	err := s.scanKeys(ctx, s.caseKey(""), "string", func(key string) error {
		raw, err := s.client.Do(ctx, s.client.B().Get().Key(key).Build()).AsBytes()
		if vk.IsValkeyNil(err) {
			return nil
		}
		if err != nil {
			return err
		}
		plain, marks, err := splitCase(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		var probe struct {
			Sealed string `json:"sealed"`
		}
		if err := json.Unmarshal(plain, &probe); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if probe.Sealed != "" && core.SealedTextKey(probe.Sealed) == current {
			return nil
		}
		var c core.Case
		if err := core.DecodeCase(s.sealer, plain, &c); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		resealed, err := core.EncodeCase(s.sealer, &c)
		if err != nil || (probe.Sealed == "" && !bytes.Contains(resealed, []byte(`"sealed":`))) {
			return err
		}
		var nv []byte
		if marks != nil {
			nv, err = valuecodec.PackCaseWithMarks(resealed, marks)
		} else {
			nv, err = valuecodec.Case.Pack(resealed)
		}
		if err != nil {
			return err
		}
		return s.resealString(ctx, key, raw, nv, &n)
	})
	if err != nil {
		return n, fmt.Errorf("reseal cases: %w", err)
	}
	// A log is a list, or a string once packed (events_pack.go).
	err = s.scanKeys(ctx, s.caseLogKey(""), "", func(key string) error {
		number := strings.TrimPrefix(key, s.caseLogKey(""))
		raws, packed, err := s.readLog(ctx, number)
		if err != nil {
			return err
		}
		if len(raws) > 0 && strings.HasPrefix(raws[0], string(packedHead)) {
			m, err := s.resealPacked(ctx, key, number, raws[0], current, packed)
			if err != nil {
				return fmt.Errorf("%s[0]: %w", key, err)
			}
			n += m
			raws[0] = "" // done
		}
		for i, raw := range raws {
			if raw == "" {
				continue
			}
			ev, err := decodeLogEntry(number, raw)
			if err != nil {
				return fmt.Errorf("%s[%d]: %w", key, i, err)
			}
			if k := core.SealedEventKey(ev); k == current || (k == "" && !core.EventHasPersonalData(ev)) {
				continue
			}
			if err := core.OpenEvent(s.sealer, &ev); err != nil {
				return fmt.Errorf("%s[%d]: %w", key, i, err)
			}
			sealed, err := core.SealEvent(s.sealer, ev)
			if err != nil {
				return err
			}
			tail, _, err := encodeEvent(sealed)
			if err != nil {
				return err
			}
			entry := "[" + strconv.FormatUint(ev.Seq, 10) + tail
			ok, err := resealEntryScript.Exec(ctx, s.client, []string{key}, []string{strconv.Itoa(i), raw, entry}).AsInt64()
			if err != nil {
				return err
			}
			n += int(ok)
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("reseal logs: %w", err)
	}
	for _, ns := range core.SealedNamespaces() {
		if !core.OneKeyPerRecord(ns) {
			m, err := s.resealHash(ctx, ns, current)
			n += m
			if err != nil {
				return n, fmt.Errorf("reseal records %s: %w", ns, err)
			}
			continue
		}
		err := s.scanKeys(ctx, s.recordKey(ns, ""), "string", func(key string) error {
			raw, err := s.client.Do(ctx, s.client.B().Get().Key(key).Build()).AsBytes()
			if vk.IsValkeyNil(err) {
				return nil
			}
			if err != nil || core.SealedKeyOf(raw) == current {
				return err
			}
			plain, err := core.OpenBytes(s.sealer, raw)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			nv, err := s.sealer.Seal(plain)
			if err != nil {
				return err
			}
			return s.resealString(ctx, key, raw, nv, &n)
		})
		if err != nil {
			return n, fmt.Errorf("reseal records %s: %w", ns, err)
		}
	}
	return n, nil
}

// resealFieldScript replaces a field of a record hash only if it is still
// what was read.
var resealFieldScript = vk.NewLuaScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`)

// resealHash reseals the records of a namespace kept in one hash.
func (s *Store) resealHash(ctx context.Context, ns, current string) (int, error) {
	m, err := s.client.Do(ctx, s.client.B().Hgetall().Key(s.recordsKey(ns)).Build()).AsStrMap()
	if err != nil {
		return 0, err
	}
	n := 0
	for field, raw := range m {
		if core.SealedKeyOf([]byte(raw)) == current {
			continue
		}
		plain, err := core.OpenBytes(s.sealer, []byte(raw))
		if err != nil {
			return n, fmt.Errorf("%s: %w", field, err)
		}
		nv, err := s.sealer.Seal(plain)
		if err != nil {
			return n, err
		}
		ok, err := resealFieldScript.Exec(ctx, s.client, []string{s.recordsKey(ns)}, []string{field, raw, string(nv)}).AsInt64()
		if err != nil {
			return n, err
		}
		n += int(ok)
	}
	if n > 0 {
		s.recordsWritten(ns)
	}
	return n, nil
}

func (s *Store) resealString(ctx context.Context, key string, was, now []byte, n *int) error {
	ok, err := resealStringScript.Exec(ctx, s.client, []string{key}, []string{string(was), string(now)}).AsInt64()
	*n += int(ok)
	return err
}

// scanKeys calls fn with every key of type typ ("": any type) that starts
// with prefix, on every master.
func (s *Store) scanKeys(ctx context.Context, prefix, typ string, fn func(key string) error) error {
	for _, node := range s.scanNodes() {
		cursor := uint64(0)
		for {
			cmd := node.B().Scan().Cursor(cursor).Match(escapeGlob(prefix) + "*").Count(200)
			build := cmd.Build
			if typ != "" {
				build = cmd.Type(typ).Build
			}
			scan, err := node.Do(ctx, build()).AsScanEntry()
			if err != nil {
				return err
			}
			for _, key := range scan.Elements {
				if err := fn(key); err != nil {
					return err
				}
			}
			if cursor = scan.Cursor; cursor == 0 {
				break
			}
		}
	}
	return nil
}

// resealPacked reseals the events of a log's packed head (events_pack.go)
// that are not sealed with the current key, and writes the head again over
// the one read. It returns how many it resealed.
func (s *Store) resealPacked(ctx context.Context, key, number, raw, current string, packed bool) (int, error) {
	entries, err := unpackEntries(raw)
	if err != nil {
		return 0, err
	}
	n := 0
	for j, e := range entries {
		ev, err := decodeLogEntry(number, e)
		if err != nil {
			return 0, err
		}
		if k := core.SealedEventKey(ev); k == current || (k == "" && !core.EventHasPersonalData(ev)) {
			continue
		}
		if err := core.OpenEvent(s.sealer, &ev); err != nil {
			return 0, err
		}
		sealed, err := core.SealEvent(s.sealer, ev)
		if err != nil {
			return 0, err
		}
		tail, err := logTail(sealed)
		if err != nil {
			return 0, err
		}
		entries[j] = "[" + strconv.FormatUint(ev.Seq, 10) + tail
		n++
	}
	if n == 0 {
		return 0, nil
	}
	head, err := packEntries(entries)
	if err != nil {
		return 0, err
	}
	write := resealEntryScript.Exec(ctx, s.client, []string{key}, []string{"0", raw, head})
	if packed {
		write = resealStringScript.Exec(ctx, s.client, []string{key}, []string{raw, head})
	}
	ok, err := write.AsInt64()
	if err != nil || ok == 0 {
		return 0, err
	}
	return n, nil
}
