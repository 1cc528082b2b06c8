package dialogs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/script"
)

// testResident is the openid of the resident in the transcripts.
const testResident = "o-resident-1"

// testTown is a small town: two villages, three square grids (东村's two
// side by side, 西村's further south), posts A and B, four categories.
//
//	lat 22.36–22.37 │ 东村第二网格 (g2) lng 112.56–112.57
//	lat 22.35–22.36 │ 东村第一网格 (g1) lng 112.56–112.57
//	lat 22.34–22.35 │ 西村网格     (g3) lng 112.55–112.56
func testTown(t testing.TB) *core.Town {
	t.Helper()
	square := func(lat, lng float64) []core.Point {
		return []core.Point{{Lat: lat, Lng: lng}, {Lat: lat + 0.01, Lng: lng}, {Lat: lat + 0.01, Lng: lng + 0.01}, {Lat: lat, Lng: lng + 0.01}}
	}
	town, err := core.NewTown(core.Town{
		Name:       "沙塘镇",
		CasePrefix: "ST",
		Villages:   []core.Village{{ID: "v1", Name: "东村"}, {ID: "v2", Name: "西村"}},
		Landmarks:  []string{"红桥市场"},
		Lexicon:    testLexicon(t),
		Grids: []core.Grid{
			{ID: "g1", Name: "第一网格", Kind: core.GridLarge, Village: "v1", Boundary: square(22.35, 112.56), LeaderA: "s1", LeaderB: "s2"},
			{ID: "g2", Name: "第二网格", Kind: core.GridLarge, Village: "v1", Boundary: square(22.36, 112.56), LeaderA: "s3", LeaderB: "s1"},
			{ID: "g3", Name: "西村网格", Kind: core.GridMicro, Village: "v2", Boundary: square(22.34, 112.55), LeaderA: "s2", LeaderB: "s3"},
		},
		Departments: []core.Department{{ID: "cj", Name: "城建办"}},
		Staff: []core.Staff{
			{ID: "s1", Name: "张伟", Role: core.RoleGridLeader, Village: "v1"},
			{ID: "s2", Name: "李娜", Role: core.RoleGridLeader, Village: "v2"},
			{ID: "s3", Name: "王强", Role: core.RoleGridLeader, Village: "v1", Away: true},
		},
		Categories: []core.Category{
			{Code: "env", Name: "环境卫生", DeadlineHours: 48, Cues: cues("垃圾", 4, "臭", 3, "水沟", 4, "水渠", 4, "堵", 2, "卫生", 3)},
			{Code: "road", Name: "道路交通设施", DeadlineHours: 72, Department: "cj", Cues: cues("路面", 4, "坑", 4, "红绿灯", 6, "井盖", 5, "路灯", 5, "很黑", 2, "马路", 3)},
			{Code: "public", Name: "公共设施维修", DeadlineHours: 72, Department: "cj", Cues: cues("路灯", 4, "水管", 4, "设施", 3, "坏了", 1, "灯", 2)},
			{Code: "dispute", Name: "矛盾纠纷", DeadlineHours: 24, Cues: cues("邻居", 3, "漏水", 3, "吵架", 5, "纠纷", 5)},
		},
	})
	if err != nil {
		t.Fatalf("test town: %v", err)
	}
	return town
}

// The sample lexicon and the script converter, loaded once for every test
// (the converter takes a tenth of a second to build).
var (
	sampleLexicon = sync.OnceValues(configs.SampleLexicon)
	loadScript    = sync.OnceValues(readyScript)
)

// readyScript is a converter with its tables built, so that every test
// reads the same way whatever the timing.
func readyScript() (*script.Converter, error) {
	c, err := script.New()
	if err == nil {
		c.Wait()
	}
	return c, err
}

func testLexicon(t testing.TB) *core.Lexicon {
	t.Helper()
	l, err := sampleLexicon()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func testScript(t testing.TB) *script.Converter {
	t.Helper()
	c, err := loadScript()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cues builds a category's cues from phrase, weight pairs.
func cues(pairs ...any) []core.Cue {
	var out []core.Cue
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, core.Cue{Phrase: pairs[i].(string), Weight: pairs[i+1].(int)})
	}
	return out
}

// clock is a fake clock the transcripts move with [wait].
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))}
}

// fakeLedger files cases in memory, numbered ST202611250001 …, and fails a
// call on demand.
type fakeLedger struct {
	mu     sync.Mutex
	town   *core.Town
	now    func() time.Time
	cases  []core.Case // in filing order
	fail   map[string]bool
	drafts []core.Draft            // what Submit was given
	events map[string][]core.Event // each case's log
}

func newFakeLedger(town *core.Town, now func() time.Time) *fakeLedger {
	return &fakeLedger{town: town, now: now, fail: map[string]bool{}, events: map[string][]core.Event{}}
}

var errFake = errors.New("fake ledger: store unavailable (internal detail)")

// failNext makes the next call of op ("submit", "cases", "rate") fail.
func (l *fakeLedger) failNext(op string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail[op] = true
}

func (l *fakeLedger) failing(op string) bool {
	if l.fail[op] {
		delete(l.fail, op)
		return true
	}
	return false
}

func (l *fakeLedger) Submit(_ context.Context, resident string, d core.Draft) (core.Case, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failing("submit") {
		return core.Case{}, fmt.Errorf("submit: %w", errFake)
	}
	if l.failing("submit-toomany") {
		return core.Case{}, fmt.Errorf("submit: %w", core.ErrTooMany)
	}
	for _, c := range l.cases {
		if d.Key != "" && c.SubmitKey == d.Key && c.Resident == resident {
			return c, nil
		}
	}
	cat := l.town.Category(d.Category)
	g := l.town.Grid(d.Grid)
	if cat == nil || g == nil || d.Text == "" || resident == "" {
		return core.Case{}, fmt.Errorf("submit: %w", core.ErrInvalid)
	}
	now := l.now()
	l.drafts = append(l.drafts, d)
	c := core.Case{
		Number:    core.FormatCaseNumber(l.town.CasePrefix, now, len(l.cases)+1),
		State:     core.StateSubmitted,
		Category:  d.Category,
		Text:      d.Text,
		Photos:    d.Photos,
		Voices:    d.Voices,
		Location:  d.Location,
		Village:   g.Village,
		Grid:      g.ID,
		Address:   d.Address,
		Resident:  resident,
		Phone:     d.Phone,
		SubmitKey: d.Key,
		Deadline:  now.Add(time.Duration(cat.DeadlineHours) * time.Hour),
		CreatedAt: now,
		UpdatedAt: now,
	}
	l.cases = append(l.cases, c)
	l.log(c.Number, core.Event{Kind: core.EventSubmitted, Actor: core.ActorResident})
	if l.failing("submit-reply") {
		// Filed, but the answer was lost on the way back.
		return core.Case{}, fmt.Errorf("submit: %w", errFake)
	}
	return c, nil
}

// log appends an event to a case's log. Callers hold l.mu.
func (l *fakeLedger) log(number string, ev core.Event) {
	ev.Case, ev.At = number, l.now()
	ev.Seq = uint64(len(l.events[number]) + 1)
	l.events[number] = append(l.events[number], ev)
}

// find returns the case with number, or nil. Callers hold l.mu.
func (l *fakeLedger) find(number string) *core.Case {
	for i := range l.cases {
		if l.cases[i].Number == number {
			return &l.cases[i]
		}
	}
	return nil
}

// notice records a step staff took (a reply, a result) on a case.
func (l *fakeLedger) notice(number string, kind core.EventKind, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log(number, core.Event{Kind: kind, Actor: "s1", Text: text})
}

func (l *fakeLedger) Case(_ context.Context, number string) (core.Case, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.find(number); c != nil {
		return *c, nil
	}
	return core.Case{}, fmt.Errorf("case %s: %w", number, core.ErrNotFound)
}

func (l *fakeLedger) ResidentCases(_ context.Context, resident string) ([]core.Case, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []core.Case
	for i := len(l.cases) - 1; i >= 0; i-- {
		if l.cases[i].Resident == resident {
			out = append(out, l.cases[i])
		}
	}
	return out, nil
}

func (l *fakeLedger) CaseEvents(_ context.Context, number string) ([]core.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]core.Event(nil), l.events[number]...), nil
}

func (l *fakeLedger) JoinCandidates(_ context.Context, resident string, d core.Draft, radiusM float64) ([]core.Case, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []core.Case
	for _, c := range l.cases {
		if !c.State.Open() || c.Category != d.Category || c.Resident == resident || slices.Contains(c.Joined, resident) {
			continue
		}
		near := c.Grid == d.Grid
		if c.Location != nil && d.Location != nil {
			near = core.DistanceM(c.Location.Point, d.Location.Point) <= radiusM
		}
		if near {
			out = append(out, c)
		}
	}
	return out, nil
}

func (l *fakeLedger) Join(_ context.Context, number, resident string) (core.Case, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.find(number)
	switch {
	case c == nil:
		return core.Case{}, core.ErrNotFound
	case !c.State.Open():
		return core.Case{}, core.ErrWrongState
	case slices.Contains(c.Joined, resident):
		return core.Case{}, core.ErrNoChange
	}
	c.Joined = append(c.Joined, resident)
	l.log(number, core.Event{Kind: core.EventJoined, Actor: core.ActorResident})
	return *c, nil
}

func (l *fakeLedger) Supplement(_ context.Context, number, resident string, add core.Addition) (core.Case, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.find(number)
	switch {
	case c == nil || c.Resident != resident:
		return core.Case{}, core.ErrForbidden
	case !c.State.Open():
		return core.Case{}, core.ErrWrongState
	}
	if add.Photo != nil {
		c.Photos = append(c.Photos, *add.Photo)
	}
	if add.Voice != nil {
		c.Voices = append(c.Voices, *add.Voice)
	}
	if add.Text != "" {
		c.Text += "\n[补充] " + add.Text
	}
	l.log(number, core.Event{Kind: core.EventSupplemented, Actor: core.ActorResident, Text: add.Text})
	return *c, nil
}

func (l *fakeLedger) Withdraw(_ context.Context, number, resident, reason string) (core.Case, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.find(number)
	switch {
	case c == nil || c.Resident != resident:
		return core.Case{}, core.ErrForbidden
	case !c.State.Open():
		return core.Case{}, core.ErrWrongState
	}
	c.State = core.StateClosed
	l.log(number, core.Event{Kind: core.EventWithdrawn, Actor: core.ActorResident, Text: reason})
	return *c, nil
}

func (l *fakeLedger) RateJoined(_ context.Context, number, resident string, score int) (core.Case, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.find(number)
	if c == nil || !slices.Contains(c.Joined, resident) {
		return core.Case{}, core.ErrForbidden
	}
	l.log(number, core.Event{Kind: core.EventRated, Actor: core.ActorResident, Data: map[string]string{core.DataRating: fmt.Sprint(score), core.DataJoined: "true"}})
	return *c, nil
}

func (l *fakeLedger) Anonymise(_ context.Context, resident string) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var voices []string
	for i := range l.cases {
		c := &l.cases[i]
		if c.Resident != resident {
			continue
		}
		for _, v := range c.Voices {
			voices = append(voices, v.MediaID)
		}
		c.Phone, c.Address, c.Voices = "", "", nil
		if c.Location != nil {
			loc := *c.Location
			loc.Label = ""
			c.Location = &loc
		}
	}
	return voices, nil
}

func (l *fakeLedger) OpenCases(_ context.Context, resident string) ([]core.Case, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failing("cases") {
		return nil, fmt.Errorf("open cases: %w", errFake)
	}
	var out []core.Case
	for i := len(l.cases) - 1; i >= 0; i-- {
		if c := l.cases[i]; c.Resident == resident && c.State != core.StateClosed {
			out = append(out, c)
		}
	}
	return out, nil
}

func (l *fakeLedger) Rate(_ context.Context, resident string, score int) (core.Case, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failing("rate") {
		return core.Case{}, fmt.Errorf("rate: %w", errFake)
	}
	for i := range l.cases {
		c := &l.cases[i]
		if c.Resident == resident && c.State == core.StateResolved {
			c.State, c.Rating = core.StateClosed, score
			if score <= 2 {
				c.State = core.StateReopened
			}
			return *c, nil
		}
	}
	return core.Case{}, fmt.Errorf("rate: %w", core.ErrNotFound)
}

func (l *fakeLedger) NotFixed(_ context.Context, resident string) (core.Case, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.cases {
		c := &l.cases[i]
		if c.Resident == resident && c.State == core.StateResolved {
			c.State = core.StateReopened
			return *c, nil
		}
	}
	return core.Case{}, fmt.Errorf("not fixed: %w", core.ErrNotFound)
}

// setState moves a case, as staff would elsewhere.
func (l *fakeLedger) setState(number string, st core.State) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.cases {
		if l.cases[i].Number == number {
			l.cases[i].State = st
			return nil
		}
	}
	return fmt.Errorf("no case %s", number)
}

// memRecords is a core.Records in memory.
type memRecords struct {
	mu   sync.Mutex
	recs map[string][]byte // ns + "/" + key
}

func newMemRecords() *memRecords { return &memRecords{recs: map[string][]byte{}} }

func (m *memRecords) Record(_ context.Context, ns, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.recs[ns+"/"+key]
	return append([]byte(nil), v...), ok, nil
}

func (m *memRecords) PutRecord(_ context.Context, ns, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[ns+"/"+key] = append([]byte(nil), value...)
	return nil
}

func (m *memRecords) DeleteRecord(_ context.Context, ns, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, ns+"/"+key)
	return nil
}

func (m *memRecords) RecordsIn(_ context.Context, ns string) (map[string][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range m.recs {
		if rest, ok := strings.CutPrefix(k, ns+"/"); ok {
			out[rest] = append([]byte(nil), v...)
		}
	}
	return out, nil
}

// dump lists every record as "ns/key value", sorted.
func (m *memRecords) dump() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k, v := range m.recs {
		out = append(out, k+" "+string(v))
	}
	sort.Strings(out)
	return out
}

// memStore is a core.Ephemeral in memory on the fake clock.
type memStore struct {
	mu   sync.Mutex
	now  func() time.Time
	vals map[string]memValue
	fail map[string]error // op → error to return
	sets []memSet
}

type memValue struct {
	v   []byte
	exp time.Time
}

type memSet struct {
	key string
	ttl time.Duration
}

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, vals: map[string]memValue{}, fail: map[string]error{}}
}

func (m *memStore) Get(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["get"]; err != nil {
		return nil, false, err
	}
	v, ok := m.vals[key]
	if !ok || !m.now().Before(v.exp) {
		return nil, false, nil
	}
	return append([]byte(nil), v.v...), true, nil
}

func (m *memStore) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["set"]; err != nil {
		return err
	}
	m.vals[key] = memValue{v: append([]byte(nil), value...), exp: m.now().Add(ttl)}
	m.sets = append(m.sets, memSet{key, ttl})
	return nil
}

func (m *memStore) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if _, ok, err := m.Get(ctx, key); err != nil || ok {
		return false, err
	}
	return true, m.Set(ctx, key, value, ttl)
}

func (m *memStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail["delete"]; err != nil {
		return err
	}
	delete(m.vals, key)
	return nil
}

func (m *memStore) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.vals {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// harness wires a Service to the fakes.
type harness struct {
	clock   *clock
	town    *core.Town
	ledger  *fakeLedger
	store   *memStore
	records *memRecords
	svc     *Service
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	c := newClock()
	town := testTown(t)
	l := newFakeLedger(town, c.Now)
	st := newMemStore(c.Now)
	recs := newMemRecords()
	eng := &Engine{Town: town, Ledger: l, Now: c.Now, NewKey: countingKeys(), Households: &core.Households{Records: recs}, JoinRadiusM: 200,
		Script: testScript(t)}
	return &harness{clock: c, town: town, ledger: l, store: st, records: recs, svc: &Service{Engine: eng, Store: st}}
}
