package embedded_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
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
		marks := tx.Bucket([]byte("marks"))
		old := map[string][]byte{}
		if err := marks.ForEach(func(k, v []byte) error {
			var m core.FigureMarks
			plain, err := valuecodec.Marks.Unpack(v) // stored packed now, plain JSON then
			if err != nil {
				return err
			}
			if err := json.Unmarshal(plain, &m); err != nil {
				return err
			}
			m.Version, m.Origin, m.Supervised, m.Mediation, m.CallbacksDone, m.CallbacksOnTime = 0, "", false, "", 0, 0
			m.CallbackDue = time.Time{}
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
