package embedded_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
	"gridbot/store/embedded"
	"gridbot/store/storetest"
	"gridbot/store/valuecodec"
)

// A file whose figures were counted before the grid's own work was (marks
// of version 1, no such counters, no callbacks waiting kept) is brought up
// to date once when opened: the figures come out as if counted all along.
func TestMarksUpgradedOnOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gridbot.db")
	clock := &storetest.Clock{}
	s, err := embedded.Open(path, embedded.Options{CasePrefix: "ST", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	storetest.FillGridWork(t, s, clock)
	want, err := s.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	// As an older gridbot left the file.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := rewriteMarks(tx, func(m *core.FigureMarks) {
			m.Version, m.Origin, m.Supervised, m.Mediation, m.CallbacksDone, m.CallbacksOnTime = 0, "", false, "", 0, 0
			m.CallbackDue = time.Time{}
		}); err != nil {
			return err
		}
		figures := tx.Bucket([]byte("figures"))
		cells := map[string][]byte{}
		if err := figures.ForEach(func(k, v []byte) error {
			if _, ok := core.ParseFigureCell(string(k)); !ok {
				return nil
			}
			var out []byte
			for i := 0; len(v) > 0 && i < core.FigByResident; i++ {
				n, w := binary.Varint(v)
				out, v = binary.AppendVarint(out, n), v[w:]
			}
			cells[string(k)] = out
			return nil
		}); err != nil {
			return err
		}
		for k, v := range cells {
			if err := figures.Put([]byte(k), v); err != nil {
				return err
			}
		}
		if err := figures.Delete([]byte("marks-version")); err != nil {
			return err
		}
		return tx.DeleteBucket([]byte("figures.callbacks"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = embedded.Open(path, embedded.Options{CasePrefix: "ST", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Figures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Cells, want.Cells) {
		t.Errorf("cells after the upgrade\n got %v\nwant %v", got.Cells, want.Cells)
	}
	if len(got.Callbacks) != 1 || len(want.Callbacks) != 1 || got.Callbacks[0].Number != want.Callbacks[0].Number {
		t.Errorf("callbacks waiting %+v, want %+v", got.Callbacks, want.Callbacks)
	}
	rows := core.GridWorkOf(&core.Town{}, got, core.FigureScope{}, core.ByGrid, clock.Now())
	if tot := rows[len(rows)-1]; tot.Found != 1 || tot.Supervised != 1 || tot.Settled != 1 || tot.CallbacksDue != 2 || tot.CallbacksOnTime != 1 {
		t.Errorf("total after the upgrade %+v", tot)
	}
}

// The callbacks waiting a figures page reads follow every write that
// changes them — a callback made, a waiting case changed, a callback done —
// however often the list is read between.
func TestCallbacksWaitingFollowWrites(t *testing.T) {
	ctx := context.Background()
	clock := &storetest.Clock{}
	s, err := embedded.Open(filepath.Join(t.TempDir(), "gridbot.db"), embedded.Options{CasePrefix: "ST", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var numbers []string
	for i := range 3 {
		c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Resident: fmt.Sprintf("o%d", i),
			CreatedAt: clock.Now()}, core.Event{Kind: core.EventSubmitted, At: clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, c.Number)
	}
	step := func(number string, change func(*core.Case) []core.Event) {
		t.Helper()
		clock.Advance(time.Hour)
		if _, _, err := s.UpdateCase(ctx, number, func(c *core.Case) ([]core.Event, error) { return change(c), nil }); err != nil {
			t.Fatal(err)
		}
	}
	closeWithCallback := func(c *core.Case) []core.Event {
		due := clock.Now().Add(24 * time.Hour)
		c.State = core.StateClosed
		c.Callback = &core.Callback{Reason: core.ReasonUnrated, Due: due, At: clock.Now()}
		return []core.Event{{Kind: core.EventClosed, Actor: core.ActorSystem, At: clock.Now()},
			{Kind: core.EventCallbackDue, Actor: core.ActorSystem, At: clock.Now(), Data: map[string]string{core.DataDue: due.Format(time.RFC3339)}}}
	}
	note := func(c *core.Case) []core.Event {
		return []core.Event{{Kind: core.EventNoted, Actor: "c1", At: clock.Now(), Text: "跟进"}}
	}
	waiting := func(want ...string) []core.FigureMarks {
		t.Helper()
		for range 2 { // the second read from what the first kept
			f, err := s.Figures(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range f.Callbacks {
				got = append(got, m.Number)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("callbacks waiting %v, want %v", got, want)
			}
		}
		f, err := s.Figures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return f.Callbacks
	}
	waiting()
	step(numbers[0], closeWithCallback)
	before := waiting(numbers[0])
	step(numbers[1], note) // not waiting: the list is the same
	waiting(numbers[0])
	step(numbers[0], note) // waiting: its marks change
	if after := waiting(numbers[0]); !after[0].Changed.After(before[0].Changed) {
		t.Fatalf("the waiting case's marks were not read again: changed %v, then %v", before[0].Changed, after[0].Changed)
	}
	step(numbers[1], closeWithCallback)
	waiting(numbers[0], numbers[1])
	step(numbers[0], func(c *core.Case) []core.Event {
		c.Callback = nil
		return []core.Event{{Kind: core.EventCalledBack, Actor: "c1", At: clock.Now(),
			Data: map[string]string{core.DataReached: "true", core.DataOnTime: "true"}}}
	})
	waiting(numbers[1])
}

// A file whose marks are of the layout before the board's (version 2)
// has only its live marks brought up when opened: the board reads no
// closed case, and walking a ledger years deep at start would take
// minutes.
func TestBoardMarksUpgradedOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gridbot.db")
	clock := &storetest.Clock{}
	s, err := embedded.Open(path, embedded.Options{CasePrefix: "ST", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, closed := storetest.FillBoard(t, s, clock)
	s.Close()

	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	version := func(number string) (v int) {
		t.Helper()
		if err := db.View(func(tx *bolt.Tx) error {
			var m core.FigureMarks
			plain, err := valuecodec.Marks.Unpack(tx.Bucket([]byte("marks")).Get([]byte(number)))
			if err != nil {
				return err
			}
			err = json.Unmarshal(plain, &m)
			v = m.Version
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := rewriteMarks(tx, func(m *core.FigureMarks) {
			m.Version, m.Warning, m.Paused, m.Returned = core.MarksVersionBoard-1, "", false, nil
		}); err != nil {
			return err
		}
		return tx.Bucket([]byte("figures")).Put([]byte("marks-version"), fmt.Appendf(nil, "%d", core.MarksVersionBoard-1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = embedded.Open(path, embedded.Options{CasePrefix: "ST", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckBoard(t, s, clock)
	s.Close()
	if db, err = bolt.Open(path, 0o600, nil); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v := version(closed); v != core.MarksVersionBoard-1 {
		t.Errorf("the closed case's marks are of version %d: the upgrade walked more than the live cases", v)
	}
}

// rewriteMarks changes every case's marks as an older gridbot wrote them:
// plain JSON (stored packed now).
func rewriteMarks(tx *bolt.Tx, change func(*core.FigureMarks)) error {
	marks := tx.Bucket([]byte("marks"))
	old := map[string][]byte{}
	if err := marks.ForEach(func(k, v []byte) error {
		var m core.FigureMarks
		plain, err := valuecodec.Marks.Unpack(v)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(plain, &m); err != nil {
			return err
		}
		change(&m)
		v, err = json.Marshal(m)
		old[string(k)] = v
		return err
	}); err != nil {
		return err
	}
	for k, v := range old {
		if err := marks.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}
