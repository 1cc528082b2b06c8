// Package storetest is the behaviour suite every gridbot store passes: the
// embedded bbolt store and the Valkey store run the same tests, so the two
// deployments behave alike.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store"
)

// Clock is a settable time for the suite; stores under test read it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time; a zero Clock starts at a fixed instant.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	}
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.Now()
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Factory opens an empty store with case prefix "ST" reading clock.
type Factory func(t *testing.T, clock *Clock) store.Store

// Run runs the suite against the stores factory makes.
func Run(t *testing.T, factory Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store, *Clock)
	}{
		{"RecordsOneKeyEach", testRecordsOneKeyEach},
		{"MediaOutOfTheStore", testMediaOutOfTheStore},
		{"CreateNumbersPerDay", testCreateNumbersPerDay},
		{"SubmitKeyFilesOnce", testSubmitKeyFilesOnce},
		{"UpdateAppendsEvents", testUpdateAppendsEvents},
		{"UpdateErrorWritesNothing", testUpdateErrorWritesNothing},
		{"ConcurrentUpdatesLoseNothing", testConcurrentUpdates},
		{"UpdateCasesAllOrNothing", testUpdateCasesAllOrNothing},
		{"UpdateCasesConcurrent", testUpdateCasesConcurrent},
		{"QueryByResidentStateGrid", testQuery},
		{"IndexesFollowEveryWrite", testIndexes},
		{"KeepFiltersBeforeLimit", testKeep},
		{"QueryWithinReach", testReach},
		{"NotFound", testNotFound},
		{"EphemeralExpiry", testEphemeral},
		{"EphemeralBatch", testKeyBatch},
		{"CounterAtomicWindow", testCounter},
		{"EventsSince", testEventsSince},
		{"Records", testRecords},
		{"FiguresFollowEveryWrite", testFigures},
		{"FiguresCountOrigins", testFigureOrigins},
		{"NearIndexFollowsEveryWrite", testNear},
		{"QueryByCategory", testCategory},
		{"SearchByWordIndex", testSearch},
		{"QueryByDepartment", testDepartments},
		{"RetentionIndexFollowsEveryWrite", testRetention},
		{"AuditChain", testAuditChain},
		{"AuditConcurrentAppends", testAuditConcurrent},
		{"AuditTrim", testAuditTrim},
		{"VisitsCountedInTheWrite", testVisits},
		{"GridWorkCountedInTheWrite", testGridWork},
		{"BoardFromTheMarks", testBoard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &Clock{}
			s := factory(t, clock)
			tt.fn(t, s, clock)
		})
	}
}

func newCase(clock *Clock, resident, grid string) (core.Case, core.Event) {
	now := clock.Now()
	return core.Case{State: core.StateSubmitted, Category: "env", Text: "路灯坏了", Grid: grid, Village: "v1",
			Resident: resident, CreatedAt: now, UpdatedAt: now, Deadline: now.Add(48 * time.Hour)},
		core.Event{Kind: core.EventSubmitted, Actor: core.ActorResident, At: now}
}

func mustCreate(t *testing.T, s store.Store, clock *Clock, resident, grid string) core.Case {
	t.Helper()
	c, ev := newCase(clock, resident, grid)
	got, gotEv, err := s.CreateCase(context.Background(), c, ev)
	if err != nil {
		t.Fatalf("CreateCase: %v", err)
	}
	if gotEv.Seq == 0 || gotEv.Case != got.Number {
		t.Fatalf("first event = %+v, want a sequence and case %s", gotEv, got.Number)
	}
	return got
}

func testCreateNumbersPerDay(t *testing.T, s store.Store, clock *Clock) {
	a := mustCreate(t, s, clock, "o1", "g1")
	b := mustCreate(t, s, clock, "o2", "g1")
	if a.Number != "ST202611250001" || b.Number != "ST202611250002" {
		t.Fatalf("numbers %s %s, want ST202611250001 ST202611250002", a.Number, b.Number)
	}
	clock.Advance(24 * time.Hour)
	c := mustCreate(t, s, clock, "o1", "g1")
	if c.Number != "ST202611260001" {
		t.Fatalf("next day number %s, want ST202611260001", c.Number)
	}
	got, err := s.Case(context.Background(), a.Number)
	if err != nil || got.Text != "路灯坏了" || got.Resident != "o1" {
		t.Fatalf("Case = %+v, %v", got, err)
	}
}

// A case created again with the same submit key (a resident's retry after
// an unclear failure) is the case filed the first time, even when the
// retries race; the key is the resident's own.
func testSubmitKeyFilesOnce(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	c, ev := newCase(clock, "o1", "g1")
	c.SubmitKey = "intake-1"
	numbers := make([]string, 8)
	var wg sync.WaitGroup
	for i := range numbers {
		wg.Go(func() {
			got, _, err := s.CreateCase(ctx, c, ev)
			if err != nil {
				t.Errorf("CreateCase: %v", err)
			}
			numbers[i] = got.Number
		})
	}
	wg.Wait()
	for _, n := range numbers[1:] {
		if n != numbers[0] {
			t.Fatalf("the same submit key filed %v", numbers)
		}
	}
	mine, err := s.Cases(ctx, core.CaseQuery{Resident: "o1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 1 || mine[0].Number != numbers[0] || mine[0].SubmitKey != "intake-1" {
		t.Fatalf("resident's cases after racing retries: %+v", mine)
	}
	if evs, err := s.Events(ctx, numbers[0]); err != nil || len(evs) != 1 {
		t.Fatalf("events of %s: %v %v, want the one submission", numbers[0], evs, err)
	}
	c.Resident = "o2"
	if other, _, err := s.CreateCase(ctx, c, ev); err != nil || other.Number == numbers[0] {
		t.Fatalf("another resident's case with the same key: %s %v", other.Number, err)
	}
}

func testUpdateAppendsEvents(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	c := mustCreate(t, s, clock, "o1", "g1")
	clock.Advance(time.Minute)
	got, evs, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
		c.State, c.Assignee = core.StateAssigned, "s1"
		return []core.Event{
			{Kind: core.EventAssigned, Actor: core.ActorSystem, At: clock.Now()},
			{Kind: core.EventDelivered, Actor: core.ActorSystem, At: clock.Now()},
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != core.StateAssigned || got.Version != c.Version+1 || !got.UpdatedAt.Equal(clock.Now()) {
		t.Fatalf("updated case %+v", got)
	}
	if len(evs) != 2 || evs[0].Seq >= evs[1].Seq || evs[0].Case != c.Number {
		t.Fatalf("events %+v", evs)
	}
	log, err := s.Events(ctx, c.Number)
	if err != nil {
		t.Fatal(err)
	}
	kinds := fmt.Sprint(kindsOf(log))
	if kinds != "[submitted assigned delivered]" {
		t.Fatalf("log kinds %s", kinds)
	}
	for i := 1; i < len(log); i++ {
		if log[i].Seq <= log[i-1].Seq {
			t.Fatalf("log out of order: %+v", log)
		}
	}
}

func kindsOf(evs []core.Event) []core.EventKind {
	var out []core.EventKind
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func testUpdateErrorWritesNothing(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	c := mustCreate(t, s, clock, "o1", "g1")
	boom := errors.New("boom")
	_, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
		c.State = core.StateClosed
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	_, _, err = s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
		c.State = core.StateClosed
		return nil, core.ErrNoChange
	})
	if !errors.Is(err, core.ErrNoChange) {
		t.Fatalf("err = %v, want ErrNoChange", err)
	}
	got, _ := s.Case(ctx, c.Number)
	if got.State != core.StateSubmitted || got.Version != c.Version {
		t.Fatalf("case changed by failed update: %+v", got)
	}
	if log, _ := s.Events(ctx, c.Number); len(log) != 1 {
		t.Fatalf("log grew: %+v", log)
	}
}

func testConcurrentUpdates(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	c := mustCreate(t, s, clock, "o1", "g1")
	const writers = 20
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
				c.Rating++ // a counter: a lost update shows as a short count
				return []core.Event{{Kind: core.EventReplied, Actor: "s1", At: clock.Now()}}, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := s.Case(ctx, c.Number)
	if got.Rating != writers || got.Version != c.Version+writers {
		t.Fatalf("after %d updates rating=%d version=%d", writers, got.Rating, got.Version)
	}
	if log, _ := s.Events(ctx, c.Number); len(log) != writers+1 {
		t.Fatalf("log has %d events, want %d", len(log), writers+1)
	}
}

// Two cases written by UpdateCases (a merge: one closed, the other gaining
// its resident) are written together or not at all: a change that fails
// after editing the first, a second case that does not exist, or a bad
// list of numbers writes neither, so no crash or refusal can leave the
// first written without the second.
func testUpdateCasesAllOrNothing(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	a, b := mustCreate(t, s, clock, "o1", "g1"), mustCreate(t, s, clock, "o2", "g1")
	unchanged := func(when string) {
		t.Helper()
		for _, c := range []core.Case{a, b} {
			got, err := s.Case(ctx, c.Number)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != c.State || got.Version != c.Version || len(got.Joined) != 0 {
				t.Fatalf("%s: case %s written: %+v", when, c.Number, got)
			}
			if log, _ := s.Events(ctx, c.Number); len(log) != 1 {
				t.Fatalf("%s: log of %s grew: %+v", when, c.Number, log)
			}
		}
		if evs, _ := s.EventsSince(ctx, 0, 100); len(evs) != 2 {
			t.Fatalf("%s: %d events in the log, want the 2 filings", when, len(evs))
		}
	}
	merge := func(cs []*core.Case) [][]core.Event {
		cs[0].Joined = append(cs[0].Joined, cs[1].Resident)
		cs[1].State, cs[1].MergedInto = core.StateClosed, cs[0].Number
		return [][]core.Event{{{Kind: core.EventMergedIn, Actor: "s1", At: clock.Now()}},
			{{Kind: core.EventMerged, Actor: "s1", At: clock.Now()}}}
	}
	boom := errors.New("boom")
	if _, _, err := s.UpdateCases(ctx, []string{a.Number, b.Number}, func(cs []*core.Case) ([][]core.Event, error) {
		merge(cs)
		return nil, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	unchanged("a change that fails")
	if _, _, err := s.UpdateCases(ctx, []string{a.Number, b.Number}, func(cs []*core.Case) ([][]core.Event, error) {
		evs := merge(cs)
		evs[1] = nil // the second half has nothing to write
		return evs, nil
	}); !errors.Is(err, core.ErrNoChange) {
		t.Fatalf("err = %v, want ErrNoChange", err)
	}
	unchanged("a half with no events")
	if _, _, err := s.UpdateCases(ctx, []string{a.Number, "ST-none"}, func(cs []*core.Case) ([][]core.Event, error) {
		t.Error("change called for a case that does not exist")
		return merge(cs), nil
	}); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	unchanged("a second case not found")
	for _, numbers := range [][]string{nil, {a.Number, a.Number}, {a.Number, ""}} {
		if _, _, err := s.UpdateCases(ctx, numbers, func(cs []*core.Case) ([][]core.Event, error) {
			t.Errorf("change called for %q", numbers)
			return merge(cs), nil
		}); !errors.Is(err, core.ErrInvalid) {
			t.Fatalf("numbers %q: err = %v, want ErrInvalid", numbers, err)
		}
	}
	unchanged("bad numbers")

	clock.Advance(time.Minute)
	got, evs, err := s.UpdateCases(ctx, []string{a.Number, b.Number}, func(cs []*core.Case) ([][]core.Event, error) {
		return merge(cs), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Version != a.Version+1 || !slices.Equal(got[0].Joined, []string{"o2"}) ||
		got[1].State != core.StateClosed || got[1].MergedInto != a.Number {
		t.Fatalf("cases written %+v", got)
	}
	if len(evs) != 2 || len(evs[0]) != 1 || len(evs[1]) != 1 || evs[0][0].Case != a.Number || evs[1][0].Case != b.Number ||
		evs[1][0].Seq != evs[0][0].Seq+1 {
		t.Fatalf("events %+v", evs)
	}
	for i, c := range []core.Case{a, b} {
		stored, err := s.Case(ctx, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Version != got[i].Version || stored.State != got[i].State {
			t.Errorf("stored %s %+v, want %+v", c.Number, stored, got[i])
		}
	}
	if log, _ := s.EventsSince(ctx, 0, 100); fmt.Sprint(kindsOf(log)) != "[submitted submitted merged_in merged]" {
		t.Errorf("the log %v", kindsOf(log))
	}
	// The closed case leaves the live index and the figures' open cases.
	if open, _ := s.Cases(ctx, core.CaseQuery{States: []core.State{core.StateSubmitted}}); len(open) != 1 || open[0].Number != a.Number {
		t.Errorf("open cases %v", open)
	}
	fig, err := s.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fig.Live) != 1 || fig.Live[0].Number != a.Number {
		t.Errorf("live marks %+v", fig.Live)
	}
	counts, _ := s.CountCases(ctx)
	if counts[core.StateClosed] != 1 || counts[core.StateSubmitted] != 1 {
		t.Errorf("counts %v", counts)
	}
}

// Writes of two cases together, racing writes of one of them alone, lose
// nothing, and each pair's events are next to each other in the log: no
// write ever sees one half.
func testUpdateCasesConcurrent(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	a, b := mustCreate(t, s, clock, "o1", "g1"), mustCreate(t, s, clock, "o2", "g1")
	const writers = 10
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _, err := s.UpdateCases(ctx, []string{a.Number, b.Number}, func(cs []*core.Case) ([][]core.Event, error) {
				cs[0].Rating++
				cs[1].Rating++
				return [][]core.Event{{{Kind: core.EventReplied, Actor: "pair", At: clock.Now()}},
					{{Kind: core.EventReplied, Actor: "pair", At: clock.Now()}}}, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			_, _, err := s.UpdateCase(ctx, b.Number, func(c *core.Case) ([]core.Event, error) {
				c.Rating++
				return []core.Event{{Kind: core.EventReplied, Actor: "alone", At: clock.Now()}}, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ga, _ := s.Case(ctx, a.Number)
	gb, _ := s.Case(ctx, b.Number)
	if ga.Rating != writers || gb.Rating != 2*writers {
		t.Fatalf("ratings %d and %d, want %d and %d", ga.Rating, gb.Rating, writers, 2*writers)
	}
	log, err := s.EventsSince(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	pairs := 0
	for i, e := range log {
		if e.Actor != "pair" || e.Case != a.Number {
			continue
		}
		if i+1 >= len(log) || log[i+1].Case != b.Number || log[i+1].Actor != "pair" {
			t.Fatalf("the pair's event at %d is not followed by its other half: %+v", i, log)
		}
		pairs++
	}
	if pairs != writers {
		t.Fatalf("%d pairs in the log, want %d", pairs, writers)
	}
}

func testQuery(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	a := mustCreate(t, s, clock, "o1", "g1")
	b := mustCreate(t, s, clock, "o2", "g2")
	c := mustCreate(t, s, clock, "o1", "g2")
	if _, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
		c.State = core.StateResolved
		return []core.Event{{Kind: core.EventResolved, At: clock.Now()}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	numbers := func(cs []core.Case, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Number)
		}
		return fmt.Sprint(out)
	}
	for _, tt := range []struct {
		q    core.CaseQuery
		want []string
	}{
		{core.CaseQuery{}, []string{c.Number, b.Number, a.Number}},
		{core.CaseQuery{Limit: 2}, []string{c.Number, b.Number}},
		{core.CaseQuery{Resident: "o1"}, []string{c.Number, a.Number}},
		{core.CaseQuery{Resident: "o1", States: []core.State{core.StateSubmitted}}, []string{a.Number}},
		{core.CaseQuery{Grids: []string{"g2"}}, []string{c.Number, b.Number}},
		{core.CaseQuery{Resident: "nobody"}, nil},
	} {
		if got := numbers(s.Cases(ctx, tt.q)); got != fmt.Sprint(tt.want) {
			t.Errorf("Cases(%+v) = %s, want %v", tt.q, got, tt.want)
		}
	}
}

// set moves case number to state (and grid, when not empty) in one write.
func set(t *testing.T, s store.Store, clock *Clock, number string, state core.State, grid string) {
	t.Helper()
	_, _, err := s.UpdateCase(context.Background(), number, func(c *core.Case) ([]core.Event, error) {
		c.State = state
		if grid != "" {
			c.Grid = grid
		}
		return []core.Event{{Kind: core.EventKind(state), At: clock.Now()}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// numbersOf returns a function that lists the numbers of what Cases
// returned, failing t on an error.
func numbersOf(t *testing.T) func([]core.Case, error) string {
	return func(cs []core.Case, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, c := range cs {
			out = append(out, c.Number)
		}
		return fmt.Sprint(out)
	}
}

// The indexes (cases not closed, by grid) and the counts by state follow
// every write: a case closed leaves the open lists, a reopened one comes
// back, a case moved to another grid leaves the first grid's list.
func testIndexes(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	a := mustCreate(t, s, clock, "o1", "g1")
	b := mustCreate(t, s, clock, "o2", "g1")
	c := mustCreate(t, s, clock, "o3", "g2")
	d := mustCreate(t, s, clock, "o4", "g2")
	set(t, s, clock, a.Number, core.StateClosed, "")
	set(t, s, clock, b.Number, core.StateClosed, "")
	set(t, s, clock, b.Number, core.StateReopened, "")
	set(t, s, clock, c.Number, core.StateInProgress, "g1")
	set(t, s, clock, d.Number, core.StateResolved, "")
	open := []core.State{core.StateSubmitted, core.StateAssigned, core.StateInProgress, core.StateReopened}
	for _, tt := range []struct {
		q    core.CaseQuery
		want []string
	}{
		{core.CaseQuery{States: open}, []string{c.Number, b.Number}},
		{core.CaseQuery{States: core.SweptStates}, []string{d.Number, c.Number, b.Number}},
		{core.CaseQuery{States: []core.State{core.StateClosed}}, []string{a.Number}},
		{core.CaseQuery{States: open, Limit: 1}, []string{c.Number}},
		{core.CaseQuery{Grids: []string{"g1"}}, []string{c.Number, b.Number, a.Number}},
		{core.CaseQuery{Grids: []string{"g2"}}, []string{d.Number}},
		{core.CaseQuery{Grids: []string{"g1"}, States: open}, []string{c.Number, b.Number}},
		{core.CaseQuery{Grids: []string{"g1", "g2"}, States: []core.State{core.StateClosed}}, []string{a.Number}},
		{core.CaseQuery{Grids: []string{"nowhere"}}, []string{}},
	} {
		if got := numbersOf(t)(s.Cases(ctx, tt.q)); got != fmt.Sprint(tt.want) {
			t.Errorf("Cases(%+v) = %s, want %v", tt.q, got, tt.want)
		}
	}
	counts, err := s.CountCases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[core.State]int{core.StateSubmitted: 0, core.StateAssigned: 0, core.StateInProgress: 1,
		core.StateResolved: 1, core.StateClosed: 1, core.StateReopened: 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("CountCases = %v, want %v", counts, want)
	}
	// A case closed again leaves the live index a second time.
	set(t, s, clock, b.Number, core.StateClosed, "")
	if got := numbersOf(t)(s.Cases(ctx, core.CaseQuery{States: open})); got != fmt.Sprint([]string{c.Number}) {
		t.Errorf("open after closing %s again: %s", b.Number, got)
	}
}

// Keep filters as the store walks, so Limit counts only the cases kept:
// the page is full even when the kept cases are far down the index.
func testKeep(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	var kept []string
	for i := range 30 {
		c := mustCreate(t, s, clock, "o1", "g1")
		if i%10 == 0 {
			kept = append([]string{c.Number}, kept...)
		}
	}
	wanted := map[string]bool{kept[0]: true, kept[1]: true, kept[2]: true}
	keep := func(c *core.Case) bool { return wanted[c.Number] }
	for _, q := range []core.CaseQuery{
		{Keep: keep, Limit: 2},
		{Keep: keep, Limit: 2, Grids: []string{"g1"}},
		{Keep: keep, Limit: 2, States: []core.State{core.StateSubmitted}},
		{Keep: keep, Limit: 2, Resident: "o1"},
	} {
		if got := numbersOf(t)(s.Cases(ctx, q)); got != fmt.Sprint(kept[:2]) {
			t.Errorf("Cases(%+v) = %s, want %v", q, got, kept[:2])
		}
	}
}

func testNotFound(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	if _, err := s.Case(ctx, "ST000"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Case: %v", err)
	}
	if _, err := s.Events(ctx, "ST000"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Events: %v", err)
	}
	_, _, err := s.UpdateCase(ctx, "ST000", func(*core.Case) ([]core.Event, error) { return nil, nil })
	if !errors.Is(err, core.ErrNotFound) {
		t.Errorf("UpdateCase: %v", err)
	}
}

func testEphemeral(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	if _, ok, err := s.Get(ctx, "k"); ok || err != nil {
		t.Fatalf("Get missing = %v %v", ok, err)
	}
	if ok, err := s.SetNX(ctx, "k", []byte("1"), time.Minute); !ok || err != nil {
		t.Fatalf("first SetNX = %v %v", ok, err)
	}
	if ok, err := s.SetNX(ctx, "k", []byte("2"), time.Minute); ok || err != nil {
		t.Fatalf("second SetNX = %v %v", ok, err)
	}
	if v, ok, _ := s.Get(ctx, "k"); !ok || string(v) != "1" {
		t.Fatalf("Get = %q %v", v, ok)
	}
	// A short TTL, so a store that expires keys on its server's clock
	// shows it within waitExpired; the suite's clock moves for stores that
	// read it.
	if err := s.Set(ctx, "k", []byte("3"), 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := s.Get(ctx, "k"); string(v) != "3" {
		t.Fatalf("after Set: %q", v)
	}
	clock.Advance(time.Second)
	waitExpired(t, s, "k")
	if ok, _ := s.SetNX(ctx, "k", []byte("4"), time.Minute); !ok {
		t.Fatal("SetNX after expiry refused")
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get(ctx, "k"); ok {
		t.Fatal("deleted key still there")
	}
	if err := s.Delete(ctx, "never"); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
}

// testKeyBatch runs a message's batches as the callback sends them
// (core.BatchKeys: one round trip where the store is a core.KeyBatcher):
// each operation acts and answers as its own method would.
func testKeyBatch(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	if err := s.Set(ctx, "session", []byte("step 1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "gone", []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	ops := []core.KeyOp{
		{Kind: core.KeySetNX, Key: "mark", Value: []byte("p"), TTL: time.Minute},
		{Kind: core.KeySetNX, Key: "session", Value: []byte("no"), TTL: time.Minute},
		{Kind: core.KeyGet, Key: "session"},
		{Kind: core.KeyGet, Key: "missing"},
		{Kind: core.KeySet, Key: "window", Value: []byte{0, 0xff, '\n'}, TTL: time.Minute},
		{Kind: core.KeyDelete, Key: "gone"},
		{Kind: core.KeyDelete, Key: "never"},
	}
	core.BatchKeys(ctx, s, ops)
	for i, op := range ops {
		if op.Err != nil {
			t.Fatalf("op %d (%s): %v", i, op.Key, op.Err)
		}
	}
	if !ops[0].OK || ops[1].OK {
		t.Errorf("SetNX stored = %v on a new key, %v on an existing one", ops[0].OK, ops[1].OK)
	}
	if !ops[2].OK || string(ops[2].Got) != "step 1" {
		t.Errorf("Get session = %q %v", ops[2].Got, ops[2].OK)
	}
	if ops[3].OK || ops[3].Got != nil {
		t.Errorf("Get missing = %q %v", ops[3].Got, ops[3].OK)
	}
	if v, ok, _ := s.Get(ctx, "window"); !ok || string(v) != "\x00\xff\n" {
		t.Errorf("batched Set stored %q %v", v, ok)
	}
	if _, ok, _ := s.Get(ctx, "gone"); ok {
		t.Error("batched Delete left the key")
	}
	if v, _, _ := s.Get(ctx, "mark"); string(v) != "p" {
		t.Errorf("batched SetNX stored %q", v)
	}
	// A batched Set expires like any other.
	write := []core.KeyOp{{Kind: core.KeySet, Key: "short", Value: []byte("1"), TTL: 300 * time.Millisecond}}
	core.BatchKeys(ctx, s, write)
	if write[0].Err != nil {
		t.Fatal(write[0].Err)
	}
	clock.Advance(time.Second)
	waitExpired(t, s, "short")
}

// testCounter: a thousand concurrent counts on one key are each seen once
// (what a login limit needs), the window is set by the first count and not
// moved by later ones, and an expired count starts again at one.
func testCounter(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	const n = 1000
	seen := make([]bool, n+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c, err := s.Incr(ctx, "tries", time.Minute)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || c < 1 || c > n || seen[c] {
				t.Errorf("Incr = %d, %v (seen before: %v)", c, err, c >= 1 && c <= n && seen[c])
				return
			}
			seen[c] = true
		})
	}
	wg.Wait()
	if v, ok, _ := s.Get(ctx, "tries"); !ok || string(v) != "1000" {
		t.Fatalf("Get after %d counts = %q %v", n, v, ok)
	}
	// The window opens with the first count: counting again does not
	// keep the key alive.
	if c, err := s.Incr(ctx, "short", 600*time.Millisecond); c != 1 || err != nil {
		t.Fatalf("first Incr = %d %v", c, err)
	}
	clock.Advance(400 * time.Millisecond)
	if c, err := s.Incr(ctx, "short", 600*time.Millisecond); c != 2 || err != nil {
		t.Fatalf("second Incr = %d %v", c, err)
	}
	clock.Advance(400 * time.Millisecond)
	waitExpired(t, s, "short")
	if c, err := s.Incr(ctx, "short", time.Minute); c != 1 || err != nil {
		t.Fatalf("Incr after the window = %d %v, want a fresh count", c, err)
	}
	// A key Set as text is counted from its value.
	if err := s.Set(ctx, "set", []byte("41"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Incr(ctx, "set", time.Minute); c != 42 || err != nil {
		t.Fatalf("Incr over Set(41) = %d %v", c, err)
	}
}

// waitExpired allows a store that expires keys on the server's own clock a
// moment to notice; stores on the suite's clock see it at once.
func waitExpired(t *testing.T, s store.Store, key string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, ok, _ := s.Get(context.Background(), key); !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("key %q did not expire", key)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testEventsSince(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	a := mustCreate(t, s, clock, "o1", "g1")
	b := mustCreate(t, s, clock, "o2", "g1")
	if _, _, err := s.UpdateCase(ctx, a.Number, func(c *core.Case) ([]core.Event, error) {
		return []core.Event{{Kind: core.EventReplied, Text: "hi", At: clock.Now()}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	all, err := s.EventsSince(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(kindsOf(all))
	if got != "[submitted submitted replied]" || all[0].Case != a.Number || all[1].Case != b.Number || all[2].Text != "hi" {
		t.Fatalf("EventsSince(0) = %s %+v", got, all)
	}
	rest, err := s.EventsSince(ctx, all[0].Seq, 1)
	if err != nil || len(rest) != 1 || rest[0].Seq != all[1].Seq {
		t.Fatalf("EventsSince(first, 1) = %+v, %v", rest, err)
	}
	if none, err := s.EventsSince(ctx, all[2].Seq, 10); err != nil || len(none) != 0 {
		t.Fatalf("EventsSince(last) = %+v, %v", none, err)
	}
}

func testRecords(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	if _, ok, err := s.Record(ctx, "binding", "o1"); ok || err != nil {
		t.Fatalf("missing record: %v %v", ok, err)
	}
	if err := s.PutRecord(ctx, "binding", "o1", []byte("staff-1")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, "binding", "o2", []byte("staff-2")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, "away", "o1", []byte("yes")); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Record(ctx, "binding", "o1"); !ok || err != nil || string(v) != "staff-1" {
		t.Fatalf("record = %q %v %v", v, ok, err)
	}
	all, err := s.RecordsIn(ctx, "binding")
	if err != nil || len(all) != 2 || string(all["o2"]) != "staff-2" {
		t.Fatalf("RecordsIn = %v, %v", all, err)
	}
	if err := s.DeleteRecord(ctx, "binding", "o1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecord(ctx, "binding", "never"); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.RecordsIn(ctx, "binding"); len(all) != 1 {
		t.Fatalf("after delete: %v", all)
	}
	if empty, err := s.RecordsIn(ctx, "nothing-here"); err != nil || len(empty) != 0 {
		t.Fatalf("empty namespace: %v %v", empty, err)
	}
	// Records outlive any expiry.
	clock.Advance(365 * 24 * time.Hour)
	if _, ok, _ := s.Record(ctx, "away", "o1"); !ok {
		t.Fatal("a record expired")
	}
}

// The figures' counters the store keeps in each write are what the pure
// rule (core.FigureRule.Mark) says each write adds, summed; the marks it
// returns are those of the cases not closed. A reopened case and a case
// whistled to a department move their counts; a write refused counts
// nothing.
func testFigures(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	var rule core.FigureRule
	var want core.FigureTally
	marks := map[string]*core.FigureMarks{}
	mirror := func(c core.Case, evs []core.Event) {
		m, d := rule.Mark(marks[c.Number], &c, evs)
		marks[c.Number] = &m
		want.Add(d)
	}
	step := func(number string, change func(*core.Case) []core.Event) {
		t.Helper()
		c, evs, err := s.UpdateCase(ctx, number, func(c *core.Case) ([]core.Event, error) { return change(c), nil })
		if err != nil {
			t.Fatalf("UpdateCase %s: %v", number, err)
		}
		mirror(c, evs)
	}
	ev := func(kind core.EventKind, actor string, data map[string]string) core.Event {
		return core.Event{Kind: kind, Actor: actor, At: clock.Now(), Data: data}
	}
	var numbers []string
	for i, grid := range []string{"g1", "g1", "g2"} {
		c, first := newCase(clock, fmt.Sprintf("o%d", i), grid)
		got, gotEv, err := s.CreateCase(ctx, c, first)
		if err != nil {
			t.Fatal(err)
		}
		mirror(got, []core.Event{gotEv})
		numbers = append(numbers, got.Number)
	}
	for _, n := range numbers {
		clock.Advance(time.Minute)
		step(n, func(c *core.Case) []core.Event {
			c.State, c.Assignee = core.StateAssigned, "gl1"
			return []core.Event{ev(core.EventAssigned, core.ActorSystem, nil)}
		})
	}
	clock.Advance(20 * time.Minute)
	step(numbers[0], func(c *core.Case) []core.Event {
		c.State = core.StateInProgress
		return []core.Event{ev(core.EventAccepted, "gl1", nil)}
	})
	step(numbers[1], func(c *core.Case) []core.Event {
		c.Departments = []core.Assist{{Department: "d1", State: core.AssistCalled}}
		return []core.Event{ev(core.EventWhistled, "gl1", nil)}
	})
	clock.Advance(40 * 24 * time.Hour) // past the deadline, into the next month
	for _, n := range numbers[:2] {
		step(n, func(c *core.Case) []core.Event {
			c.State, c.ResolvedAt = core.StateResolved, clock.Now()
			return []core.Event{ev(core.EventResolved, "gl1", nil)}
		})
		clock.Advance(time.Hour)
		step(n, func(c *core.Case) []core.Event {
			c.State, c.Rating = core.StateClosed, 5
			return []core.Event{ev(core.EventRated, core.ActorResident, map[string]string{core.DataRating: "5"}),
				ev(core.EventClosed, core.ActorSystem, nil)}
		})
	}
	step(numbers[0], func(c *core.Case) []core.Event {
		c.State = core.StateReopened
		return []core.Event{ev(core.EventReopened, core.ActorResident, map[string]string{core.DataReason: core.ReasonNotDone})}
	})
	if _, _, err := s.UpdateCase(ctx, numbers[2], func(*core.Case) ([]core.Event, error) {
		return nil, errors.New("refused")
	}); err == nil {
		t.Fatal("a refused change wrote")
	}
	got, err := s.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Cells) == 0 || len(got.Cells) != len(want.Cells) {
		t.Fatalf("%d cells, want %d:\n got %v\nwant %v", len(got.Cells), len(want.Cells), got.Cells, want.Cells)
	}
	for cell, w := range want.Cells {
		if got.Cells[cell] != w {
			t.Errorf("cell %+v = %v, want %v", cell, got.Cells[cell], w)
		}
	}
	live := map[string]core.FigureMarks{}
	for _, m := range got.Live {
		live[m.Number] = m
	}
	if len(live) != 2 || live[numbers[0]].State != core.StateReopened || live[numbers[2]].State != core.StateAssigned {
		t.Fatalf("live marks %+v, want the reopened case and the assigned one", got.Live)
	}
	if m := live[numbers[0]]; m.Rated != 2 || m.Satisfied != 1 || len(m.Closes) != 1 || len(m.ReopensOfClosed) != 1 {
		t.Errorf("marks of the reopened case %+v", m)
	}
	rows := core.RatesOf(&core.Town{}, core.Rules{}, got, core.FigureScope{}, core.ByDepartment, clock.Now())
	if len(rows) != 2 || rows[0].Key != "d1" || rows[0].Cases != 1 || rows[1].Cases != 3 {
		t.Errorf("rates by department %+v: want d1 with one case, three in all", rows)
	}
}

// The figures count where each case came from (主动发现, 群众上报, 代录) in
// the month it was filed, in the same write as the case; a case written
// again is still counted once, and one filed in another month counts there.
func testFigureOrigins(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	file := func(origin string, channel core.Intake) string {
		t.Helper()
		c, first := newCase(clock, "o-"+origin+string(channel), "g1")
		c.Origin, c.Channel = origin, channel
		got, _, err := s.CreateCase(ctx, c, first)
		if err != nil {
			t.Fatal(err)
		}
		return got.Number
	}
	var numbers []string
	for range 3 {
		numbers = append(numbers, file("", ""))
	}
	numbers = append(numbers, file(core.OriginPatrol, ""), file(core.OriginPatrol, ""), file("", core.IntakePhone))
	for _, n := range numbers {
		if _, _, err := s.UpdateCase(ctx, n, func(c *core.Case) ([]core.Event, error) {
			c.State = core.StateAssigned
			return []core.Event{{Kind: core.EventAssigned, Actor: core.ActorSystem, At: clock.Now()}}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(40 * 24 * time.Hour)
	file("", core.IntakeWalkIn)
	got, err := s.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	town := &core.Town{}
	first, next := town.MonthKey(clock.Now().Add(-40*24*time.Hour)), town.MonthKey(clock.Now())
	want := []core.OriginRow{{Month: first, Resident: 3, Found: 2, Proxy: 1}, {Month: next, Proxy: 1}}
	if rows := core.OriginsByMonth(got, core.FigureScope{}); !slices.Equal(rows, want) {
		t.Errorf("origins by month %+v, want %+v", rows, want)
	}
	if rows := core.OriginsByMonth(got, core.FigureScope{Village: "v2"}); len(rows) != 0 {
		t.Errorf("another village sees origins %+v", rows)
	}
}

// The open cases of a category are found by place (core.PlacesOf): their
// grid, and the lattice cell of their location; a case closed, recategorised
// or moved is found where it is now and nowhere else.
func testNear(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	here := core.Point{Lat: 23.1291, Lng: 113.2644}
	far := core.Point{Lat: 23.2291, Lng: 113.3644}
	create := func(grid, category string, at *core.Point) string {
		c, ev := newCase(clock, "o1", grid)
		c.Category = category
		if at != nil {
			c.Location = &core.Location{Point: *at}
		}
		got, _, err := s.CreateCase(ctx, c, ev)
		if err != nil {
			t.Fatal(err)
		}
		return got.Number
	}
	near := create("g1", "env", &here)
	farAway := create("g2", "env", &far)
	otherKind := create("g1", "road", &here)
	unlocated := create("g1", "env", nil)
	open := []core.State{core.StateSubmitted, core.StateAssigned, core.StateInProgress, core.StateReopened}
	find := func(places ...string) []string {
		t.Helper()
		cs, err := s.Cases(ctx, core.CaseQuery{States: open, Category: "env", Places: places})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Number)
		}
		return out
	}
	around := core.CellsAround(here, 300)
	if got := find(around...); len(got) != 1 || got[0] != near {
		t.Fatalf("cells around: %v, want only %s (not %s, %s)", got, near, farAway, otherKind)
	}
	if got := find(append(around, core.GridPlace("g1"))...); len(got) != 2 || got[0] != unlocated || got[1] != near {
		t.Fatalf("cells and grid: %v, want %s and %s, newest first", got, unlocated, near)
	}
	if _, _, err := s.UpdateCase(ctx, near, func(c *core.Case) ([]core.Event, error) {
		c.State = core.StateClosed
		return []core.Event{{Kind: core.EventClosed, Actor: core.ActorSystem, At: clock.Now()}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateCase(ctx, farAway, func(c *core.Case) ([]core.Event, error) {
		c.Grid, c.Location = "g1", &core.Location{Point: here}
		return []core.Event{{Kind: core.EventTransferred, Actor: core.ActorSystem, At: clock.Now()}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := find(around...); len(got) != 1 || got[0] != farAway {
		t.Fatalf("after the close and the move: %v, want only %s", got, farAway)
	}
	if got := find(core.CellsAround(far, 300)...); len(got) != 0 {
		t.Fatalf("the moved case is still found where it was: %v", got)
	}
}

// A category's cases, open or closed, newest first; a case recategorised
// is found under its new category only.
func testCategory(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	var env []string
	for i, kind := range []string{"env", "road", "env", "env"} {
		c, ev := newCase(clock, fmt.Sprintf("o%d", i), "g1")
		c.Category = kind
		got, _, err := s.CreateCase(ctx, c, ev)
		if err != nil {
			t.Fatal(err)
		}
		if kind == "env" {
			env = append(env, got.Number)
		}
	}
	if _, _, err := s.UpdateCase(ctx, env[0], func(c *core.Case) ([]core.Event, error) {
		c.State = core.StateClosed
		return []core.Event{{Kind: core.EventClosed, Actor: core.ActorSystem, At: clock.Now()}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateCase(ctx, env[1], func(c *core.Case) ([]core.Event, error) {
		c.Category = "road"
		return []core.Event{{Kind: core.EventReplied, Actor: "gl1", At: clock.Now()}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Cases(ctx, core.CaseQuery{Category: "env"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Number != env[2] || got[1].Number != env[0] {
		t.Fatalf("category env: %+v, want %s then %s", got, env[2], env[0])
	}
	if got, _ := s.Cases(ctx, core.CaseQuery{Category: "road", Limit: 1}); len(got) != 1 || got[0].Number != env[1] {
		t.Fatalf("category road, one: %+v, want the recategorised %s", got, env[1])
	}
}
