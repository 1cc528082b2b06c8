// Package embedded is gridbot's default store: one bbolt file, no server.
// Cases, their event logs and the outbox live in the file and every write to
// them is one fsynced transaction; short-lived keys live in memory.
package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
	"gridbot/store/decodedcache"
	"gridbot/store/tallycache"
)

var (
	bucketCases     = []byte("cases")
	bucketOutbox    = []byte("outbox")           // seq → case number (events.go)
	bucketResidents = []byte("residents")        // openid \x00 number → nothing: the resident index
	bucketCounters  = []byte("counters")         // day → cases numbered that day
	bucketKeys      = []byte("ephemeral")        // the memory keys, one entry each, as saved before chunks
	bucketKeyChunks = []byte("ephemeral.chunks") // chunk number → the memory keys, saved on Close
	bucketRecords   = []byte("records")          // one nested bucket per namespace
)

// Options configure a store.
type Options struct {
	// CasePrefix starts every case number (e.g. "ST").
	CasePrefix string
	// Now is the clock for expiring keys; nil means time.Now.
	Now func() time.Time
	// Timeout bounds the wait for the file lock when another process holds it.
	Timeout time.Duration
	// SaveKeysWithin bounds the time Close spends saving the short-lived
	// keys, so that a stop finishes within the service manager's timeout
	// (a SIGKILL then would be worse); the keys that expire soonest are
	// the ones dropped. Zero means DefaultSaveKeysWithin.
	SaveKeysWithin time.Duration
	// Log reports keys Close had no time to save; nil logs nothing.
	Log *slog.Logger
	// NoSync skips the fsync of each commit, for a bulk load (gridbot
	// fill) that writes the file from scratch and is run again if it
	// fails; Close syncs the file. Never for serving.
	NoSync bool
	// Figures decides what each write adds to the figures' counters;
	// its zero value counts in China time with the default accept time.
	Figures core.FigureRule
	// Search is the rule of the word index (indexes_search.go); a file
	// indexed under another is indexed again when opened.
	Search core.SearchIndex
	// Sealer seals the personal data of cases, events and the residents'
	// records before they reach the file (core/sealing.go); nil writes
	// them plain. Either way what was written plain before still reads.
	Sealer core.Sealer
}

// DefaultSaveKeysWithin is how long Close may spend saving the short-lived
// keys when Options.SaveKeysWithin is zero.
const DefaultSaveKeysWithin = 2 * time.Second

// Store is the bbolt-backed store. It implements store.Store and core.Outbox.
type Store struct {
	db     *bolt.DB
	writes *groupCommit
	prefix string
	ready  chan struct{}
	keys   MemoryKeys
	// saveKeysWithin bounds the saving of keys on Close.
	saveKeysWithin time.Duration
	log            *slog.Logger
	figures        core.FigureRule
	search         core.SearchIndex
	sealer         core.Sealer
	// tallies keeps the last tally Figures read (figures.go).
	tallies tallycache.Cache[int]
	// decoded keeps cases decoded for the list pages, marks those decoded
	// for the figures (cases.go).
	decoded *decodedcache.Cache[core.Case]
	marks   *decodedcache.Cache[core.FigureMarks]
	// callbacks is the callbacks waiting as last read (figures_gridwork.go).
	callbacks callbacksKept

	// lists keeps RecordsIn's answers: the small namespaces asked on every
	// message (the staff bindings). Every record is written through this
	// process, so a write drops its namespace's list and counts, and a read
	// that raced a write does not keep what it read.
	listsMu sync.Mutex
	lists   map[string]*keptList
}

// keptList is a namespace's kept list and how many writes it has seen.
type keptList struct {
	records map[string][]byte // nil when not kept
	writes  uint64
}

// list returns ns's entry, made if need be. s.listsMu is held.
func (s *Store) list(ns string) *keptList {
	if s.lists == nil {
		s.lists = map[string]*keptList{}
	}
	l := s.lists[ns]
	if l == nil {
		l = &keptList{}
		s.lists[ns] = l
	}
	return l
}

// Open opens (or creates) the store file at path.
func Open(path string, opt Options) (*Store, error) {
	if opt.CasePrefix == "" {
		return nil, fmt.Errorf("open store: empty case prefix")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Timeout == 0 {
		opt.Timeout = 5 * time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.Timeout})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if opt.SaveKeysWithin <= 0 {
		opt.SaveKeysWithin = DefaultSaveKeysWithin
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	db.NoSync = opt.NoSync
	s := &Store{db: db, prefix: opt.CasePrefix, ready: make(chan struct{}, 1), saveKeysWithin: opt.SaveKeysWithin, log: opt.Log,
		figures: opt.Figures, search: opt.Search, sealer: opt.Sealer,
		decoded: decodedcache.New[core.Case](maxDecodedCases), marks: decodedcache.New[core.FigureMarks](maxDecodedMarks)}
	s.keys.Now = opt.Now
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCases, bucketCaseLogs, bucketOutbox, bucketResidents, bucketCounters, bucketKeys, bucketKeyChunks, bucketSeqs, bucketRecords} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = migrateEvents(db, migrateBatch)
	}
	if err == nil {
		err = migrateSeqs(db, moveLogBatch)
	}
	if err == nil {
		err = db.Update(s.buildOnOpen)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.buildTerms(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.writes = newGroupCommit(db)
	return s, nil
}

// buildOnOpen builds what a file written by an older version lacks, and
// loads the saved short-lived keys.
func (s *Store) buildOnOpen(tx *bolt.Tx) error {
	setFill(tx)
	if tx.Bucket(bucketCounters).Get(keyCallbacksTx) == nil {
		// A file from before the mark: from now on, every change marks.
		if err := callbacksChanged(tx); err != nil {
			return err
		}
	}
	if err := buildIndexes(tx); err != nil {
		return err
	}
	if err := s.buildFigures(tx); err != nil {
		return err
	}
	if err := s.upgradeMarks(tx); err != nil {
		return err
	}
	return s.loadKeys(tx)
}

// Close saves the live short-lived keys (those that expire last first, for
// at most Options.SaveKeysWithin) and closes the file.
func (s *Store) Close() error {
	s.writes.close()
	keys := s.keys.live()
	start := time.Now()
	saved := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		// Both are emptied: keys saved one per entry by an older version
		// were read back at Open, and are in keys if still live.
		for _, name := range [][]byte{bucketKeys, bucketKeyChunks} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		b := tx.Bucket(bucketKeyChunks)
		var chunk []byte
		for n, i := uint64(0), 0; i < len(keys); n++ {
			// A fresh buffer each time: bbolt keeps the value until commit.
			chunk = make([]byte, 0, keyChunkSize+keyChunkSize/8)
			for ; i < len(keys) && len(chunk) < keyChunkSize; i++ {
				chunk = appendSavedKey(chunk, keys[i])
			}
			// Dialog drafts and cached replies quote residents: sealed
			// whole, keys and all.
			if s.sealer != nil {
				sealed, err := s.sealer.Seal(chunk)
				if err != nil {
					return err
				}
				chunk = sealed
			}
			if err := b.Put(seqKey(n), chunk); err != nil {
				return err
			}
			saved = i
			if time.Since(start) > s.saveKeysWithin {
				break
			}
		}
		return nil
	})
	if saved < len(keys) && err == nil {
		s.log.Warn("short-lived keys not saved: no time left to save them", "saved", saved, "dropped", len(keys)-saved)
	}
	if s.db.NoSync && err == nil {
		err = s.db.Sync()
	}
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

func (s *Store) loadKeys(tx *bolt.Tx) error {
	err := tx.Bucket(bucketKeys).ForEach(func(k, v []byte) error {
		var e memoryEntry
		if json.Unmarshal(v, &e) == nil {
			s.keys.load(string(k), e.Value, e.Expires)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketKeyChunks).ForEach(func(_, v []byte) error {
		// Keys saved under a key no longer held are dropped: they are
		// disposable (a dialog starts over).
		if plain, err := core.OpenBytes(s.sealer, v); err == nil {
			readSavedKeys(plain, s.keys.load)
		}
		return nil
	})
}

// Get implements core.Ephemeral.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return s.keys.Get(ctx, key)
}

// Set implements core.Ephemeral.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return s.keys.Set(ctx, key, value, ttl)
}

// SetNX implements core.Ephemeral.
func (s *Store) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return s.keys.SetNX(ctx, key, value, ttl)
}

// Delete implements core.Ephemeral.
func (s *Store) Delete(ctx context.Context, key string) error { return s.keys.Delete(ctx, key) }

// WriteBackup writes a consistent copy of the store file to w while the
// store keeps serving (a read transaction sees one moment of the file).
func (s *Store) WriteBackup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

// CreateCase implements core.CaseStore.
func (s *Store) CreateCase(ctx context.Context, c core.Case, first core.Event) (core.Case, core.Event, error) {
	var evs []core.Event
	var filed *core.Case
	err := s.writes.update(func(tx *bolt.Tx) error {
		filed = nil
		if c.SubmitKey != "" {
			prev, err := s.filedWith(tx, c.Resident, c.SubmitKey)
			if err != nil || prev != nil {
				filed = prev
				return err
			}
		}
		day := c.CreatedAt // in the town's zone (core.Ledger.Submit), not the server's
		counters := tx.Bucket(bucketCounters)
		dayKey := []byte(day.Format("20060102"))
		n := 1
		if v := counters.Get(dayKey); v != nil {
			prev, err := strconv.Atoi(string(v))
			if err != nil {
				return fmt.Errorf("counter %s: %w", dayKey, err)
			}
			n = prev + 1
		}
		if err := counters.Put(dayKey, []byte(strconv.Itoa(n))); err != nil {
			return err
		}
		c.Number = core.FormatCaseNumber(s.prefix, day, n)
		c.Version = 1
		if tx.Bucket(bucketCases).Get([]byte(c.Number)) != nil {
			return fmt.Errorf("case %s exists: %w", c.Number, core.ErrConflict)
		}
		if err := tx.Bucket(bucketResidents).Put(append(append([]byte(c.Resident), 0), c.Number...), nil); err != nil {
			return err
		}
		first.Case = c.Number
		var err error
		evs, err = s.write(tx, nil, &c, []core.Event{first})
		return err
	})
	if err != nil {
		return core.Case{}, core.Event{}, fmt.Errorf("create case: %w", err)
	}
	if filed != nil {
		return *filed, core.Event{}, nil
	}
	s.signal()
	return c, evs[0], nil
}

// filedWith returns the resident's case filed with submit key, or nil. It
// looks through the resident's own cases: a handful, and no index to keep.
func (s *Store) filedWith(tx *bolt.Tx, resident, key string) (*core.Case, error) {
	prefix := append([]byte(resident), 0)
	cur := tx.Bucket(bucketResidents).Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		var c core.Case
		if err := s.openCase(tx, string(k[len(prefix):]), &c); err != nil {
			return nil, err
		}
		if c.SubmitKey == key {
			return &c, nil
		}
	}
	return nil, nil
}

// write stores c and appends evs to its log and to the outbox, numbering
// them, and moves c's index entries from was (nil for a new case).
func (s *Store) write(tx *bolt.Tx, was *indexedAs, c *core.Case, evs []core.Event) ([]core.Event, error) {
	if err := s.appendEvents(tx, c, evs); err != nil {
		return nil, err
	}
	v, err := s.encodeCase(c)
	if err != nil {
		return nil, err
	}
	if err := reindex(tx, was, c); err != nil {
		return nil, err
	}
	if err := s.reterm(tx, was, c); err != nil {
		return nil, err
	}
	if err := s.tally(tx, c, evs); err != nil {
		return nil, err
	}
	return evs, tx.Bucket(bucketCases).Put([]byte(c.Number), v)
}

func (s *Store) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Case implements core.CaseStore.
func (s *Store) Case(ctx context.Context, number string) (core.Case, error) {
	var c core.Case
	err := s.db.View(func(tx *bolt.Tx) error {
		return s.openCase(tx, number, &c)
	})
	return c, err
}

// openCase reads a case with its personal fields opened: what callers see.
// getCase reads only what the indexes and figures need.
func (s *Store) openCase(tx *bolt.Tx, number string, c *core.Case) error {
	v := tx.Bucket(bucketCases).Get([]byte(number))
	if v == nil {
		return fmt.Errorf("case %q: %w", number, core.ErrNotFound)
	}
	if err := s.decodeCase(number, v, c); err != nil {
		return fmt.Errorf("case %q: %w", number, err)
	}
	return nil
}

// openEvent decodes a stored event, its personal part opened.
func (s *Store) openEvent(v []byte, e *core.Event) error {
	if err := json.Unmarshal(v, e); err != nil {
		return err
	}
	return core.OpenEvent(s.sealer, e)
}

func getCase(tx *bolt.Tx, number string, c *core.Case) error {
	v := tx.Bucket(bucketCases).Get([]byte(number))
	if v == nil {
		return fmt.Errorf("case %q: %w", number, core.ErrNotFound)
	}
	// Decode into a zero case: JSON leaves fields it lacks as they were, and
	// a write run again after its group rolled back must not see what its
	// first run set.
	*c = core.Case{}
	plain, err := plainCase(v)
	if err == nil {
		err = json.Unmarshal(plain, c)
	}
	if err != nil {
		return fmt.Errorf("case %q: %w", number, err)
	}
	return nil
}

// defaultLimit bounds a listing that did not ask for a limit.
const defaultLimit = 1000

// Cases implements core.CaseStore.
func (s *Store) Cases(ctx context.Context, q core.CaseQuery) ([]core.Case, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var out []core.Case
	err := s.db.View(func(tx *bolt.Tx) error {
		if found, ok, err := s.searchCases(tx, q, limit); ok {
			out = found
			return err
		}
		if nearQuery(q) {
			for _, number := range nearNumbers(tx, q.Category, q.Places) {
				var c core.Case
				if err := s.openCase(tx, number, &c); err != nil {
					return err
				}
				if q.Match(&c) {
					out = append(out, c)
					if len(out) == limit {
						break
					}
				}
			}
			return nil
		}
		visit := s.keepMatching(tx, q, &out, limit)
		if parts, ok := mergedParts(tx, q); ok {
			return walkMerged(tx, parts, q.Before, visit) // indexes_reach.go
		}
		if index, prefix := indexFor(tx, q); index != nil {
			return walkBack(index, prefix, q.Before, withinFilter(tx, q, visit))
		}
		// Numbers sort by day and count, so walking backwards lists newest first.
		cur := tx.Bucket(bucketCases).Cursor()
		k, v := cur.Last()
		if q.Before != "" {
			if k, v = cur.Seek([]byte(q.Before)); k == nil {
				k, v = cur.Last()
			} else {
				k, v = cur.Prev()
			}
		}
		for ; k != nil && len(out) < limit; k, v = cur.Prev() {
			var c core.Case
			if err := s.decodeCase(string(k), v, &c); err != nil {
				return fmt.Errorf("case %q: %w", k, err)
			}
			if q.Match(&c) {
				out = append(out, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	return out, nil
}

// keepMatching is a walk's visit: it reads the case numbered number and
// appends it to out when q matches, until out holds limit.
func (s *Store) keepMatching(tx *bolt.Tx, q core.CaseQuery, out *[]core.Case, limit int) func(number string) (bool, error) {
	return func(number string) (bool, error) {
		var c core.Case
		if err := s.openCase(tx, number, &c); err != nil {
			return false, err
		}
		if q.Match(&c) {
			*out = append(*out, c)
		}
		return len(*out) < limit, nil
	}
}

// CountCases implements core.CaseStore.
func (s *Store) CountCases(ctx context.Context) (map[core.State]int, error) {
	var out map[core.State]int
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = countCases(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("count cases: %w", err)
	}
	return out, nil
}

// Events implements core.CaseStore.
func (s *Store) Events(ctx context.Context, number string) ([]core.Event, error) {
	var out []core.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketCases).Get([]byte(number)) == nil {
			return fmt.Errorf("events of %q: %w", number, core.ErrNotFound)
		}
		var err error
		out, err = s.caseEvents(tx, []byte(number))
		return err
	})
	return out, err
}

// UpdateCase implements core.CaseStore. bbolt serialises writers, so the read
// and the write in one transaction cannot lose a concurrent update.
func (s *Store) UpdateCase(ctx context.Context, number string, change func(*core.Case) ([]core.Event, error)) (core.Case, []core.Event, error) {
	var (
		c   core.Case
		evs []core.Event
	)
	err := s.writes.update(func(tx *bolt.Tx) error {
		if err := s.openCase(tx, number, &c); err != nil {
			return err
		}
		was := indexOf(&c)
		var err error
		if evs, err = change(&c); err != nil {
			return err
		}
		if len(evs) == 0 {
			return core.ErrNoChange
		}
		c.Number = number // the key is not the change's to edit
		c.Version++
		evs, err = s.write(tx, &was, &c, evs)
		return err
	})
	if err != nil {
		return core.Case{}, nil, err
	}
	s.signal()
	return c, evs, nil
}

// UpdateCases implements core.CaseStore: the cases are read, changed and
// written in one transaction, so they are written together or not at all.
func (s *Store) UpdateCases(ctx context.Context, numbers []string, change func([]*core.Case) ([][]core.Event, error)) ([]core.Case, [][]core.Event, error) {
	if err := core.CheckCaseNumbers(numbers); err != nil {
		return nil, nil, fmt.Errorf("update cases: %w", err)
	}
	var (
		cases []core.Case
		evs   [][]core.Event
	)
	err := s.writes.update(func(tx *bolt.Tx) error {
		cases = make([]core.Case, len(numbers))
		ptrs := make([]*core.Case, len(numbers))
		was := make([]indexedAs, len(numbers))
		for i, number := range numbers {
			if err := s.openCase(tx, number, &cases[i]); err != nil {
				return err
			}
			was[i], ptrs[i] = indexOf(&cases[i]), &cases[i]
		}
		var err error
		if evs, err = change(ptrs); err != nil {
			return err
		}
		if len(evs) != len(numbers) {
			return fmt.Errorf("update cases: %d event lists for %d cases: %w", len(evs), len(numbers), core.ErrInvalid)
		}
		for i := range evs {
			if len(evs[i]) == 0 {
				return core.ErrNoChange
			}
		}
		for i, number := range numbers {
			c := &cases[i]
			c.Number = number // the key is not the change's to edit
			c.Version++
			if evs[i], err = s.write(tx, &was[i], c, evs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	s.signal()
	return cases, evs, nil
}

// EventsSince implements core.CaseStore.
func (s *Store) EventsSince(ctx context.Context, seq uint64, limit int) ([]core.Event, error) {
	var out []core.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		if limit <= 0 {
			return nil
		}
		events := eventReader{logs: tx.Bucket(bucketCaseLogs)}
		return eachSeq(tx.Bucket(bucketSeqs), seq, func(seq uint64, number []byte) (bool, error) {
			v, err := events.event(number, seq)
			if err != nil {
				return false, err
			}
			var e core.Event
			if err := s.openEntry(number, seq, v, &e); err != nil {
				return false, fmt.Errorf("event %d: %w", seq, err)
			}
			out = append(out, e)
			return len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("events since %d: %w", seq, err)
	}
	return out, nil
}

// Record implements core.Records.
func (s *Store) Record(ctx context.Context, ns, key string) ([]byte, bool, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketRecords).Bucket([]byte(ns)); b != nil {
			if v := b.Get([]byte(key)); v != nil {
				out = append([]byte{}, v...)
			}
		}
		return nil
	})
	if err == nil && out != nil && core.SealedNamespace(ns) {
		out, err = core.OpenBytes(s.sealer, out)
	}
	if err != nil {
		return nil, false, fmt.Errorf("record %s/%s: %w", ns, key, err)
	}
	return out, out != nil, nil
}

// recordsChanged forgets the kept list of namespace ns after a write.
func (s *Store) recordsChanged(ns string) {
	s.listsMu.Lock()
	defer s.listsMu.Unlock()
	l := s.list(ns)
	l.records = nil
	l.writes++
}

// PutRecord implements core.Records.
func (s *Store) PutRecord(ctx context.Context, ns, key string, value []byte) error {
	if s.sealer != nil && core.SealedNamespace(ns) {
		sealed, err := s.sealer.Seal(value)
		if err != nil {
			return fmt.Errorf("put record %s/%s: %w", ns, key, err)
		}
		value = sealed
	}
	defer s.recordsChanged(ns)
	err := s.writes.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketRecords).CreateBucketIfNotExists([]byte(ns))
		if err != nil {
			return err
		}
		return b.Put([]byte(key), append([]byte{}, value...))
	})
	if err != nil {
		return fmt.Errorf("put record %s/%s: %w", ns, key, err)
	}
	return nil
}

// DeleteRecord implements core.Records.
func (s *Store) DeleteRecord(ctx context.Context, ns, key string) error {
	defer s.recordsChanged(ns)
	err := s.writes.update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketRecords).Bucket([]byte(ns)); b != nil {
			return b.Delete([]byte(key))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete record %s/%s: %w", ns, key, err)
	}
	return nil
}

// RecordsIn implements core.Records.
func (s *Store) RecordsIn(ctx context.Context, ns string) (map[string][]byte, error) {
	if core.OneKeyPerRecord(ns) {
		// As on Valkey: such a namespace grows with the residents and
		// is paged through (RecordKeys), never read whole.
		return nil, fmt.Errorf("records in %s: a namespace kept one key per record is not read whole: %w", ns, core.ErrInvalid)
	}
	s.listsMu.Lock()
	l := s.list(ns)
	if kept := l.records; kept != nil {
		s.listsMu.Unlock()
		return kept, nil
	}
	writes := l.writes
	s.listsMu.Unlock()
	out := make(map[string][]byte)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords).Bucket([]byte(ns))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			v = append([]byte{}, v...)
			if core.SealedNamespace(ns) {
				var err error
				if v, err = core.OpenBytes(s.sealer, v); err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
			}
			out[string(k)] = v
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("records in %s: %w", ns, err)
	}
	s.listsMu.Lock()
	defer s.listsMu.Unlock()
	if l.writes == writes {
		l.records = out
	}
	return out, nil
}

// PendingEvents implements core.Outbox.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]core.Event, error) {
	return s.PendingEventsAfter(ctx, 0, limit)
}

// PendingEventsAfter implements core.Outbox.
func (s *Store) PendingEventsAfter(ctx context.Context, after uint64, limit int) ([]core.Event, error) {
	var out []core.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		events := eventReader{logs: tx.Bucket(bucketCaseLogs)}
		cur := tx.Bucket(bucketOutbox).Cursor()
		for k, v := cur.Seek(seqKey(after + 1)); k != nil && len(out) < limit; k, v = cur.Next() {
			var e core.Event
			if pointsToLog(v) {
				seq := binary.BigEndian.Uint64(k)
				ev, err := events.event(v, seq)
				if err == nil {
					err = s.openEntry(v, seq, ev, &e)
				}
				if err != nil {
					return fmt.Errorf("outbox: %w", err)
				}
				out = append(out, e)
				continue
			}
			if err := s.openEvent(v, &e); err != nil {
				return fmt.Errorf("outbox %x: %w", k, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	return out, nil
}

// AckEvents implements core.Outbox.
func (s *Store) AckEvents(ctx context.Context, seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	err := s.writes.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		for _, seq := range seqs {
			if err := b.Delete(seqKey(seq)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ack events: %w", err)
	}
	return nil
}

// OutboxReady implements core.Outbox.
func (s *Store) OutboxReady() <-chan struct{} { return s.ready }
