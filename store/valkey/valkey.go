// Package valkey is gridbot's store for the scaled-out deployment: any number
// of gridbot instances share one Valkey server (or a Valkey cluster) and
// behave as one service. It implements store.Store with valkey-go and passes
// the same behaviour suite (store/storetest) as the embedded bbolt store.
//
// # Keys
//
// Every key starts with Options.Prefix (P below, e.g. "gridbot:"). The
// ledger's keys all carry the hash tag {gb} — Options.Tag, "gb" unless
// given, so below {gb} stands for {<tag>} — as does the transport's stream
// (valkeystream.TaggedStreamKey), so on a cluster they live in one slot and
// a case, its events, the counters and the stream entry that announces the
// events change together in one Lua script. Towns as tenants each take a tag
// of their own (e.g. {gb:chikan}), so a cluster spreads them over its
// masters. The prefix therefore must not contain '{' or '}'. Ephemeral keys carry no shared tag, so the busy per-message
// traffic spreads over the cluster.
//
//	key                          type        TTL   holds
//	P{gb}:case:<number>          string      none  the case as JSON
//	P{gb}:log:<number>           list|string none  the case's events, in sequence order: the one copy of each (events.go); a closed case's packed into one string (events_pack.go)
//	P{gb}:seqs:r<seq/128>        string      none  a record per seq%128: the case's day and count, the position in its log: EventsSince's index (events.go)
//	P{gb}:seqs:<seq/128>         hash        none  seq%128 → "<number> <position in the log>": the index's entries with no record (events.go)
//	P{gb}:seqs-packed            string      none  set once the entries written before the records are moved to them
//	P{gb}:seq                    string      none  the last event sequence number (INCR)
//	P{gb}:day:<yyyymmdd>         string      none  cases numbered on that day, China time (INCR)
//	P{gb}:days                   sorted set  none  the days (yyyymmdd) that gave case numbers, score 0: every case is listed from them and the day counters (days.go)
//	P{gb}:daysbuilt              string      none  set once a ledger's set of every case number (P{gb}:cases, before) is moved to the days
//	P{gb}:resident:<openid>      sorted set  none  the resident's case numbers, score 0, lexical order
//	P{gb}:live                   sorted set  none  the numbers of the cases not closed, score 0 (indexes.go)
//	P{gb}:grid:<grid>            sorted set  none  the grid's case numbers, score 0
//	P{gb}:indexed                string      none  set once the cases written before the indexes are indexed
//	P{gb}:kind:<category>        sorted set  none  the category's case numbers, score 0 (a category's queue)
//	P{gb}:kinded                 string      none  set once the cases written before the category index are in it
//	P{gb}:who:<staff>            sorted set  none  the case numbers by each staff member they are with, score 0 (indexes_reach.go)
//	P{gb}:vgrids:<village>       set         none  every grid a case of the village was ever in: a village's list (indexes_reach.go)
//	P{gb}:reached                string      none  set once the cases written before those two are in them
//	P{gb}:near:<category>:<place> sorted set none  the open cases of a category under a place (core/places.go): 附议
//	P{gb}:neared                 string      none  set once the open cases written before the near index are in it
//	P{gb}:retain:<yyyymmdd>      sorted set  none  closed cases still holding personal data, by when their clock started (UTC day; indexes_retention.go)
//	P{gb}:retaindays             sorted set  none  the days that have such a set, score 0
//	P{gb}:retained               string      none  set once the cases written before the retention index are in it
//	P{gb}:marks:<number>         string      none  the case's figure marks (core.FigureMarks) as JSON (figures.go)
//	P{gb}:figures                hash        none  the figures' counters by cell, and the counts of cases by state
//	P{gb}:figured                string      none  set once the cases written before the counters are tallied
//	P{gb}:figures:waiting        hash        none  number → what the figures read of its callback waiting (figures_gridwork.go)
//	P{gb}:stream:case.events     stream      none  the router's transport (valkeystream): one entry per event
//	Peph:<key>                   string      yes   Ephemeral values as given: sessions, dedupe marks, logins (SET PX)
//	Prec:<namespace>             hash        none  Records: key → value, one hash per namespace (staff, bindings…)
//	Prec:<namespace>:<key>       string      none  Records of the namespaces that grow with the residents, one key each (records.go)
//	Prec-moved:<namespace>       string      none  set once those records are out of the old hash (MigrateRecords)
//
// Why {gb} on each ledger key: the write script of CreateCase and UpdateCase
// touches the case, its log, the sequence index, the sequence counter, the
// stream and (on creation) both indexes; a script may only touch keys of one
// slot. The day counter is incremented before the script, so a failed write
// leaves a gap in the day's numbers, never a half-written case; it carries
// {gb} all the same, so the numbering can move into the script without a
// change of layout. The indexes
// hold case numbers with score 0 so that ZRANGE … BYLEX REV lists cases
// newest first in the same byte order the embedded store uses.
//
// Ephemeral keys expire on the server's clock (SET PX), the same for every
// instance.
//
// # Consistency
//
// An event's sequence number is taken inside the write script, so sequence
// numbers are gap-free and in commit order: a console that replays
// EventsSince(last seen) never skips an event that committed late. The stream
// entry's UUID and payload carry the same number (routing.NewMessage).
// UpdateCase is optimistic: it reads the case, runs change, and the script
// writes only if the stored case is still byte for byte what change saw;
// otherwise it reads again and retries, a bounded number of times.
package valkey

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/core"
	"gridbot/routing"
	"gridbot/routing/valkeystream"
	"gridbot/store/decodedcache"
	"gridbot/store/tallycache"
)

// DefaultTimeout bounds each call when Options.Timeout is zero: WeChat
// gives the bot five seconds per answer, so a dead server must fail fast.
const DefaultTimeout = 2 * time.Second

// Options configure a store.
type Options struct {
	// Addr lists the server (or cluster seed) addresses, host:port.
	Addr []string
	// Password authenticates to the server; empty for none.
	Password string
	// DB selects the database (standalone servers only).
	DB int
	// Prefix starts every key (e.g. "gridbot:"); it must not contain braces.
	Prefix string
	// Tag is the hash tag of the ledger's keys, P{<Tag>}:… (the cases,
	// their logs, the indexes, the counters) and of the transport's streams
	// (valkeystream.Config.Tag must be the same): they are in one slot, so
	// one master of a cluster holds a tag's ledger. A town of a city takes
	// a tag of its own (e.g. "gb:chikan") so towns spread over the masters
	// and never share a ledger. Empty means valkeystream.DefaultTag ("gb"),
	// the keys written before the option existed. Letters, digits and
	// "-_.:" only (valkeystream.CheckTag). The records, ephemeral keys,
	// audit trail and visits are not under the tag: stores that must not
	// share those need different Prefixes as well.
	Tag string
	// CasePrefix starts every case number (e.g. "ST").
	CasePrefix string
	// Now dates a case whose CreatedAt is zero; nil means time.Now. The
	// server's clock expires ephemeral keys.
	Now func() time.Time
	// Timeout bounds dialling, each network round trip and each store call
	// without a deadline of the caller's own; zero means DefaultTimeout.
	Timeout time.Duration
	// Figures decides what each write adds to the figures' counters;
	// its zero value counts in China time with the default accept time.
	Figures core.FigureRule
	// Search is the rule of the word index (indexes_search.go); a ledger
	// indexed under another is indexed again when opened.
	Search core.SearchIndex
	// Sealer seals the personal data of cases, events (the stream's
	// entries too) and the residents' records before they reach the
	// server (core/sealing.go); nil writes them plain. Either way what was
	// written plain before still reads.
	Sealer core.Sealer
}

// Store is the Valkey-backed store. It implements store.Store.
type Store struct {
	client     vk.Client
	prefix     string
	ledger     string // prefix and hash tag of the ledger's keys: P{<tag>}:
	tag        string
	casePrefix string
	now        func() time.Time
	timeout    time.Duration
	write      *vk.Lua
	writeMany  *vk.Lua
	tally      *vk.Lua
	stream     string
	figures    core.FigureRule
	search     core.SearchIndex
	sealer     core.Sealer

	// lists keeps what RecordsIn knows of each record namespace (see
	// recordList); listGen counts the server's invalidations.
	listGen atomic.Uint64
	listsMu sync.Mutex
	lists   map[string]*recordList

	// keyed is what the store knows of the records kept one key per
	// record (records.go).
	keyed keyedState

	// byDays: the ledger keeps no set of every case number (days.go).
	byDays atomic.Bool
	// marks are the figure marks the last figures page parsed.
	marks *marksCache
	// tallies keeps the last tally Figures read (figures.go).
	tallies *tallycache.Cache[string]
	// decoded keeps the cases the list pages and the 附议 lookup decoded
	// (caseValues), by the stored value they came from.
	decoded *decodedcache.Cache[core.Case]
	// vgrids are the villages' grids this process has added
	// (indexes_reach.go).
	vgrids villageGrids
}

// Open connects to the server and returns a store on it. It fails when the
// server cannot be reached within the timeout.
func Open(ctx context.Context, opt Options) (*Store, error) {
	if len(opt.Addr) == 0 {
		return nil, errors.New("open valkey store: no address")
	}
	if opt.CasePrefix == "" {
		return nil, errors.New("open valkey store: empty case prefix")
	}
	if opt.Tag == "" {
		opt.Tag = valkeystream.DefaultTag
	}
	if err := valkeystream.CheckTag(opt.Tag); err != nil {
		return nil, fmt.Errorf("open valkey store: %w", err)
	}
	if strings.ContainsAny(opt.Prefix, "{}") {
		return nil, fmt.Errorf("open valkey store: key prefix %q must not contain braces: the ledger's hash tag is {%s}", opt.Prefix, opt.Tag)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	s := &Store{
		prefix:     opt.Prefix,
		marks:      newMarksCache(),
		tallies:    &tallycache.Cache[string]{},
		decoded:    decodedcache.New[core.Case](maxDecodedCases),
		ledger:     opt.Prefix + "{" + opt.Tag + "}:",
		tag:        opt.Tag,
		casePrefix: opt.CasePrefix,
		now:        opt.Now,
		timeout:    opt.Timeout,
		write:      vk.NewLuaScript(writeScript),
		writeMany:  vk.NewLuaScript(writeManyScript),
		tally:      vk.NewLuaScript(tallyScript),
		figures:    opt.Figures,
		search:     opt.Search,
		sealer:     opt.Sealer,
		stream:     valkeystream.TaggedStreamKey(opt.Prefix, opt.Tag, routing.TopicCaseEvents),
	}
	where := strings.Join(opt.Addr, ",")
	// NewClient dials without a context: it is bounded by the dial timeout
	// and ConnWriteTimeout, which also bounds the handshake with a server
	// that accepts but never answers.
	client, err := vk.NewClient(vk.ClientOption{
		InitAddress:      opt.Addr,
		Password:         opt.Password,
		SelectDB:         opt.DB,
		ClientName:       "gridbot",
		Dialer:           net.Dialer{Timeout: opt.Timeout, KeepAlive: time.Second},
		ConnWriteTimeout: opt.Timeout,
		// Records are read through the server-assisted client cache
		// (CLIENT TRACKING): see Record.
		CacheSizeEachConn: recordCacheSize,
		// Any invalidation, or a lost connection (nil), retires the
		// parsed lists; it runs on the reading goroutine, so it only
		// counts.
		OnInvalidations: func([]vk.ValkeyMessage) { s.listGen.Add(1) },
		RetryDelay:      retryDelay,
	})
	if err != nil {
		return nil, fmt.Errorf("open valkey store at %s: %w", where, err)
	}
	s.client = client
	if err := s.Ping(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store at %s: %w", where, err)
	}
	// First: the one-off builds below walk every case through the days.
	if err := s.buildDays(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store at %s: %w", where, err)
	}
	if err := s.migrateEvents(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store: %w", err)
	}
	if err := s.packSeqs(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store: %w", err)
	}
	if err := s.buildFigures(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store: %w", err)
	}
	if err := s.upgradeMarks(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store: %w", err)
	}
	if err := s.moveWaiting(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store: %w", err)
	}
	if err := s.buildIndexes(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store at %s: %w", where, err)
	}
	if err := s.buildKinds(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store at %s: %w", where, err)
	}
	if err := s.buildNear(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store at %s: %w", where, err)
	}
	if err := s.buildDepts(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store at %s: %w", where, err)
	}
	if err := s.buildTerms(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store at %s: %w", where, err)
	}
	if err := s.buildRetention(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store at %s: %w", where, err)
	}
	if err := s.buildReach(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("open valkey store at %s: %w", where, err)
	}
	return s, nil
}

// Close closes the client the store created. A transport that shares it
// (Client) must be closed first.
func (s *Store) Close() error {
	s.client.Close()
	return nil
}

// Client is the store's valkey-go client, for the Valkey transport to share
// (valkeystream.Config{Client: st.Client()}). The store owns it: Close
// closes it.
func (s *Store) Client() vk.Client { return s.client }

// Tag is the hash tag of the store's ledger (Options.Tag, or the default):
// the transport's valkeystream.Config.Tag on the same ledger.
func (s *Store) Tag() string { return s.tag }

// Ping checks that the server answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.client.Do(ctx, s.client.B().Ping().Build()).Error(); err != nil {
		return fmt.Errorf("valkey ping: %w", err)
	}
	return nil
}

// retryDelay spaces valkey-go's retries of read-only commands after a
// network error: a few quick ones ride over a blip or a restart, then the
// error goes back to the caller, who has a resident waiting.
func retryDelay(attempts int, _ vk.Completed, _ error) time.Duration {
	if attempts > 4 {
		return -1
	}
	return time.Duration(10<<attempts) * time.Millisecond
}

// bound limits ctx to the store's timeout when the caller set no deadline
// of its own. A caller with one (a callback answering within WeChat's
// limit) keeps it: a timer per call was a measurable share of a message's
// CPU, and ConnWriteTimeout already ends a wait on a server that hangs.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// CheckDurability reads the server's persistence settings and returns a
// warning for each that can lose acknowledged cases: no AOF, an AOF never
// fsynced, or an eviction policy that may drop keys. Where the server refuses
// CONFIG (managed services often do), it says so in a warning. An error means
// the server could not be asked at all. On a cluster it checks the node that
// answers.
func (s *Store) CheckDurability(ctx context.Context) ([]string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	durabilityParams := []string{"appendonly", "appendfsync", "maxmemory-policy"}
	cmds := make(vk.Commands, 0, len(durabilityParams))
	for _, p := range durabilityParams {
		// One parameter per CONFIG GET: servers before Redis 7 take only one.
		cmds = append(cmds, s.client.B().ConfigGet().Parameter(p).Build())
	}
	cfg := make(map[string]string, len(durabilityParams))
	for i, res := range s.client.DoMulti(ctx, cmds...) {
		m, err := res.AsStrMap()
		if err != nil {
			if _, ok := vk.IsValkeyErr(err); ok {
				return []string{fmt.Sprintf("could not check the server's durability settings (CONFIG GET %s: %v); make sure appendonly is yes, appendfsync everysec or always, and maxmemory-policy noeviction", durabilityParams[i], err)}, nil
			}
			return nil, fmt.Errorf("check durability: %w", err)
		}
		for k, v := range m {
			cfg[strings.ToLower(k)] = v
		}
	}
	return durabilityWarnings(cfg), nil
}

// durabilityWarnings judges the settings CONFIG GET returned.
func durabilityWarnings(cfg map[string]string) []string {
	var out []string
	get := func(name string) (string, bool) {
		v, ok := cfg[name]
		if !ok {
			out = append(out, fmt.Sprintf("could not read %s from the server's configuration", name))
		}
		return strings.ToLower(v), ok
	}
	if v, ok := get("appendonly"); ok && v != "yes" {
		out = append(out, fmt.Sprintf("appendonly is %q: without the append-only file, cases acknowledged since the last snapshot are lost when the server stops; set appendonly yes", v))
	}
	if v, ok := get("appendfsync"); ok && v == "no" {
		out = append(out, `appendfsync is "no": the operating system decides when the append-only file reaches the disk; set everysec (at most a second lost) or always`)
	}
	if v, ok := get("maxmemory-policy"); ok && v != "noeviction" {
		out = append(out, fmt.Sprintf("maxmemory-policy is %q: under memory pressure the server may evict cases, events or stream entries; set noeviction", v))
	}
	return out
}

// Key builders; see the package comment for the layout.

func (s *Store) caseKey(number string) string     { return s.ledger + "case:" + number }
func (s *Store) caseLogKey(number string) string  { return s.ledger + "log:" + number }
func (s *Store) seqKey() string                   { return s.ledger + "seq" }
func (s *Store) dayKey(day string) string         { return s.ledger + "day:" + day }
func (s *Store) casesKey() string                 { return s.ledger + "cases" }
func (s *Store) residentKey(openid string) string { return s.ledger + "resident:" + openid }
func (s *Store) liveKey() string                  { return s.ledger + "live" }
func (s *Store) gridKey(grid string) string       { return s.ledger + "grid:" + grid }
func (s *Store) indexedKey() string               { return s.ledger + "indexed" }
func (s *Store) submitKey(openid, key string) string {
	return s.ledger + "submit:" + openid + ":" + key
}
func (s *Store) ephemeralKey(key string) string     { return s.prefix + "eph:" + key }
func (s *Store) recordsKey(namespace string) string { return s.prefix + "rec:" + namespace }
