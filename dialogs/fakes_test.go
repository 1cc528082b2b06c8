package dialogs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"gridbot/core"
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
			{Code: "env", Name: "环境卫生", DeadlineHours: 48},
			{Code: "road", Name: "道路交通设施", DeadlineHours: 72, Department: "cj"},
			{Code: "public", Name: "公共设施维修", DeadlineHours: 72, Department: "cj"},
			{Code: "dispute", Name: "矛盾纠纷", DeadlineHours: 24},
		},
	})
	if err != nil {
		t.Fatalf("test town: %v", err)
	}
	return town
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
	return &clock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, displayZone())}
}

// fakeLedger files cases in memory, numbered ST202611250001 …, and fails a
// call on demand.
type fakeLedger struct {
	mu     sync.Mutex
	town   *core.Town
	now    func() time.Time
	cases  []core.Case // in filing order
	fail   map[string]bool
	drafts []core.Draft // what Submit was given
}

func newFakeLedger(town *core.Town, now func() time.Time) *fakeLedger {
	return &fakeLedger{town: town, now: now, fail: map[string]bool{}}
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
		Location:  d.Location,
		Village:   g.Village,
		Grid:      g.ID,
		Resident:  resident,
		Phone:     d.Phone,
		Deadline:  now.Add(time.Duration(cat.DeadlineHours) * time.Hour),
		CreatedAt: now,
		UpdatedAt: now,
	}
	l.cases = append(l.cases, c)
	return c, nil
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
	clock  *clock
	town   *core.Town
	ledger *fakeLedger
	store  *memStore
	svc    *Service
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	c := newClock()
	town := testTown(t)
	l := newFakeLedger(town, c.Now)
	st := newMemStore(c.Now)
	eng := &Engine{Town: town, Ledger: l, Now: c.Now}
	return &harness{clock: c, town: town, ledger: l, store: st, svc: &Service{Engine: eng, Store: st}}
}
