package valkey

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
)

// Records of the namespaces that grow with the residents (core.OneKeyPerRecord:
// household files, joined cases, what each kept photo is) live one key per
// record, Prec:<namespace>:<key>, so a million households spread over a
// cluster's shards and can be backed up, moved and expired one by one. The
// other namespaces (staff, bindings: a town's worth, read whole on every
// message) stay one hash each, Prec:<namespace>.
//
// A store written before this layout holds those records in the hash. Until
// MigrateRecords has moved them (a key Prec:moved:<namespace> says so), a
// read asks the record's key and the old hash field in one round trip and
// takes the key's value first, and a delete removes both.

// keyedState is what the store knows of the move out of the old hashes.
type keyedState struct {
	mu      sync.Mutex
	moved   map[string]bool
	checked time.Time
}

// movedRecheck is how often a store that has not seen a namespace moved asks
// again (another instance may have moved it).
const movedRecheck = time.Minute

func (s *Store) recordKey(ns, key string) string { return s.prefix + "rec:" + ns + ":" + key }
func (s *Store) movedKey(ns string) string       { return s.prefix + "rec-moved:" + ns }

// isMoved reports whether ns's old hash is known to be empty for good.
func (s *Store) isMoved(ctx context.Context, ns string) bool {
	k := &s.keyed
	k.mu.Lock()
	if k.moved[ns] {
		k.mu.Unlock()
		return true
	}
	due := time.Since(k.checked) >= movedRecheck
	if due {
		k.checked = time.Now()
	}
	k.mu.Unlock()
	if !due {
		return false
	}
	keyed := core.OneKeyPerRecordNamespaces()
	cmds := make(vk.Commands, len(keyed))
	for i, n := range keyed {
		cmds[i] = s.client.B().Exists().Key(s.movedKey(n)).Build()
	}
	res := s.client.DoMulti(ctx, cmds...)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.moved == nil {
		k.moved = map[string]bool{}
	}
	for i, n := range keyed {
		if v, err := res[i].AsInt64(); err == nil && v == 1 {
			k.moved[n] = true
		}
	}
	return k.moved[ns]
}

func (s *Store) markMoved(ns string) {
	k := &s.keyed
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.moved == nil {
		k.moved = map[string]bool{}
	}
	k.moved[ns] = true
}

func (s *Store) keyedRecord(ctx context.Context, ns, key string) ([]byte, bool, error) {
	if s.isMoved(ctx, ns) {
		v, err := s.client.Do(ctx, s.client.B().Get().Key(s.recordKey(ns, key)).Build()).AsBytes()
		if vk.IsValkeyNil(err) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("record %s/%s: %w", ns, key, err)
		}
		return v, true, nil
	}
	res := s.client.DoMulti(ctx,
		s.client.B().Get().Key(s.recordKey(ns, key)).Build(),
		s.client.B().Hget().Key(s.recordsKey(ns)).Field(key).Build())
	for _, r := range res {
		v, err := r.AsBytes()
		if vk.IsValkeyNil(err) {
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("record %s/%s: %w", ns, key, err)
		}
		return v, true, nil
	}
	return nil, false, nil
}

func (s *Store) putKeyedRecord(ctx context.Context, ns, key string, value []byte) error {
	if err := s.client.Do(ctx, s.client.B().Set().Key(s.recordKey(ns, key)).Value(vk.BinaryString(value)).Build()).Error(); err != nil {
		return fmt.Errorf("put record %s/%s: %w", ns, key, err)
	}
	return nil
}

func (s *Store) deleteKeyedRecord(ctx context.Context, ns, key string) error {
	cmds := vk.Commands{s.client.B().Del().Key(s.recordKey(ns, key)).Build()}
	if !s.isMoved(ctx, ns) {
		cmds = append(cmds, s.client.B().Hdel().Key(s.recordsKey(ns)).Field(key).Build())
	}
	for _, r := range s.client.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return fmt.Errorf("delete record %s/%s: %w", ns, key, err)
		}
	}
	return nil
}

// errKeyedList is RecordsIn asked for a namespace kept one key per record.
var errKeyedList = fmt.Errorf("a namespace kept one key per record is not read whole: %w", core.ErrInvalid)

// moveRecordScript moves one field of the old hash to its own key, unless
// the key was written since (then the key's value is newer) or the field was
// deleted since: atomic, so a record erased meanwhile never comes back.
// KEYS[1] the hash, KEYS[2] the record's key; ARGV[1] the field.
var moveRecordScript = vk.NewLuaScript(`local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
redis.call('SET', KEYS[2], v, 'NX')
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`)

// MigrateRecords moves the records of the namespaces kept one key per
// record out of the hashes older versions kept them in, and marks each
// namespace moved. It may run while instances serve (a record is readable
// throughout) and again (it finds nothing left). On a standalone server each
// record moves atomically; a cluster cannot run one script on the hash and
// the record's key (they lie on different shards), so there a record is
// first taken out of the hash and then written to its key, and one erased in
// the instant between the two would come back: run it on a cluster with the
// instances stopped. Every instance must run this version or later first:
// an older one writes the hash.
func (s *Store) MigrateRecords(ctx context.Context) (moved int, err error) {
	cluster := s.client.Mode() == vk.ClientModeCluster
	for _, ns := range core.OneKeyPerRecordNamespaces() {
		hash := s.recordsKey(ns)
		cursor := uint64(0)
		for {
			scan, err := s.client.Do(ctx, s.client.B().Hscan().Key(hash).Cursor(cursor).Count(200).Build()).AsScanEntry()
			if err != nil {
				return moved, fmt.Errorf("migrate records %s: %w", ns, err)
			}
			for i := 0; i+1 < len(scan.Elements); i += 2 {
				field, value := scan.Elements[i], scan.Elements[i+1]
				n, err := s.moveRecord(ctx, cluster, ns, field, value)
				if err != nil {
					return moved, fmt.Errorf("migrate records %s/%s: %w", ns, field, err)
				}
				moved += n
			}
			if cursor = scan.Cursor; cursor == 0 {
				break
			}
		}
		if n, err := s.client.Do(ctx, s.client.B().Hlen().Key(hash).Build()).AsInt64(); err != nil || n > 0 {
			// An older instance wrote meanwhile: not moved for good yet.
			if err == nil {
				err = fmt.Errorf("%d records written to the old hash meanwhile", n)
			}
			return moved, fmt.Errorf("migrate records %s: %w", ns, err)
		}
		if err := s.client.Do(ctx, s.client.B().Set().Key(s.movedKey(ns)).Value("1").Build()).Error(); err != nil {
			return moved, fmt.Errorf("migrate records %s: %w", ns, err)
		}
		s.markMoved(ns)
	}
	return moved, nil
}

func (s *Store) moveRecord(ctx context.Context, cluster bool, ns, field, value string) (int, error) {
	hash, key := s.recordsKey(ns), s.recordKey(ns, field)
	if !cluster {
		n, err := moveRecordScript.Exec(ctx, s.client, []string{hash, key}, []string{field}).AsInt64()
		return int(n), err
	}
	n, err := s.client.Do(ctx, s.client.B().Hdel().Key(hash).Field(field).Build()).AsInt64()
	if err != nil || n == 0 {
		return 0, err // deleted meanwhile, or moved by another instance
	}
	return 1, s.client.Do(ctx, s.client.B().Set().Key(key).Value(value).Nx().Build()).Error()
}

// RecordKeys implements core.RecordPager: first the fields left in the old
// hash, then the record keys, read with SCAN on every node. The cursor is
// "h<hscan cursor>" or "k<node>:<scan cursor>".
func (s *Store) RecordKeys(ctx context.Context, ns, cursor string, count int) ([]string, string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if count <= 0 {
		count = 100
	}
	if cursor == "" {
		cursor = "h0"
	}
	if !core.OneKeyPerRecord(ns) {
		return nil, "", fmt.Errorf("record keys of %s: not kept one key per record: %w", ns, core.ErrInvalid)
	}
	if c, ok := strings.CutPrefix(cursor, "h"); ok {
		n, err := strconv.ParseUint(c, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("record keys: bad cursor %q: %w", cursor, core.ErrInvalid)
		}
		scan, err := s.client.Do(ctx, s.client.B().Hscan().Key(s.recordsKey(ns)).Cursor(n).Count(int64(count)).Build()).AsScanEntry()
		if err != nil {
			return nil, "", fmt.Errorf("record keys of %s: %w", ns, err)
		}
		var keys []string
		for i := 0; i < len(scan.Elements); i += 2 {
			keys = append(keys, scan.Elements[i])
		}
		next := "h" + strconv.FormatUint(scan.Cursor, 10)
		if scan.Cursor == 0 {
			next = "k0:0"
		}
		return keys, next, nil
	}
	c, ok := strings.CutPrefix(cursor, "k")
	nodeStr, scanStr, ok2 := strings.Cut(c, ":")
	node, err1 := strconv.Atoi(nodeStr)
	at, err2 := strconv.ParseUint(scanStr, 10, 64)
	if !ok || !ok2 || err1 != nil || err2 != nil || node < 0 {
		return nil, "", fmt.Errorf("record keys: bad cursor %q: %w", cursor, core.ErrInvalid)
	}
	nodes := s.scanNodes()
	if node >= len(nodes) {
		return nil, "", nil
	}
	prefix := s.recordKey(ns, "")
	scan, err := nodes[node].Do(ctx, nodes[node].B().Scan().Cursor(at).Match(escapeGlob(prefix)+"*").Count(int64(count)).Type("string").Build()).AsScanEntry()
	if err != nil {
		return nil, "", fmt.Errorf("record keys of %s: %w", ns, err)
	}
	keys := make([]string, 0, len(scan.Elements))
	for _, k := range scan.Elements {
		keys = append(keys, strings.TrimPrefix(k, prefix))
	}
	switch {
	case scan.Cursor != 0:
		return keys, "k" + strconv.Itoa(node) + ":" + strconv.FormatUint(scan.Cursor, 10), nil
	case node+1 < len(nodes):
		return keys, "k" + strconv.Itoa(node+1) + ":0", nil
	}
	return keys, "", nil
}

// scanNodes are the clients of the masters to SCAN, in a fixed order (one,
// the store's own client, on a standalone server).
func (s *Store) scanNodes() []vk.Client {
	if s.client.Mode() != vk.ClientModeCluster {
		return []vk.Client{s.client}
	}
	nodes := s.client.Nodes()
	addrs := make([]string, 0, len(nodes))
	for a := range nodes {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	out := make([]vk.Client, 0, len(addrs))
	for _, a := range addrs {
		// Replicas hold the same keys: SCAN only masters.
		role, err := nodes[a].Do(context.Background(), nodes[a].B().Role().Build()).ToArray()
		if err == nil && len(role) > 0 {
			if r, _ := role[0].ToString(); r != "master" {
				continue
			}
		}
		out = append(out, nodes[a])
	}
	return out
}

// escapeGlob escapes what MATCH would read as a pattern.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

var _ core.RecordPager = (*Store)(nil)
