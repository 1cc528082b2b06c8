package embedded

import (
	"bytes"
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
	"gridbot/sealing"
	"gridbot/store/valuecodec"
)

// toOldLayout rewrites a file into the layout written before caselogs: an
// event a key in "events" (number \x00 seq, its JSON), numbered by that
// bucket's sequence, the outbox holding a copy of each event's JSON, the
// events in order as "log" (seq → number, a key each), and cases and marks
// as plain JSON.
func toOldLayout(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		old, err := tx.CreateBucket(bucketOldEvents)
		if err != nil {
			return err
		}
		logs := tx.Bucket(bucketCaseLogs)
		events := map[uint64][]byte{}
		err = logs.ForEach(func(number, v []byte) error {
			return eachLogEntry(v, func(seq uint64, raw []byte) (bool, error) {
				var e core.Event
				if err := decodeEntry(number, seq, raw, &e); err != nil {
					return false, err
				}
				ev, err := json.Marshal(e)
				if err != nil {
					return false, err
				}
				events[seq] = ev
				k := binary.BigEndian.AppendUint64(append(append([]byte{}, number...), 0), seq)
				return true, old.Put(k, events[seq])
			})
		})
		if err != nil {
			return err
		}
		if err := old.SetSequence(logs.Sequence()); err != nil {
			return err
		}
		outbox := tx.Bucket(bucketOutbox)
		var seqs []uint64
		if err := outbox.ForEach(func(k, _ []byte) error {
			seqs = append(seqs, binary.BigEndian.Uint64(k))
			return nil
		}); err != nil {
			return err
		}
		for _, seq := range seqs {
			if err := outbox.Put(seqKey(seq), events[seq]); err != nil {
				return err
			}
		}
		for _, name := range [][]byte{bucketCases, bucketMarks} {
			b := tx.Bucket(name)
			plain := map[string][]byte{}
			if err := b.ForEach(func(k, v []byte) error {
				plain[string(k)] = bytes.Clone(valuecodec.Expand(v))
				return nil
			}); err != nil {
				return err
			}
			for k, v := range plain {
				if v[0] != '{' {
					return fmt.Errorf("%s %s not expanded", name, k)
				}
				if err := b.Put([]byte(k), v); err != nil {
					return err
				}
			}
		}
		log, err := tx.CreateBucket(bucketOldLog)
		if err != nil {
			return err
		}
		if err := eachSeq(tx.Bucket(bucketSeqs), 0, func(seq uint64, number []byte) (bool, error) {
			return true, log.Put(seqKey(seq), bytes.Clone(number))
		}); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketSeqs); err != nil {
			return err
		}
		return tx.DeleteBucket(bucketCaseLogs)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ledgerSeen is everything a reader gets of a ledger's events.
type ledgerSeen struct {
	logs    map[string][]core.Event
	since   []core.Event
	pending []core.Event
	cases   []core.Case
}

func seeLedger(t *testing.T, s *Store) ledgerSeen {
	t.Helper()
	ctx := context.Background()
	var seen ledgerSeen
	var err error
	if seen.cases, err = s.Cases(ctx, core.CaseQuery{}); err != nil {
		t.Fatal(err)
	}
	seen.logs = map[string][]core.Event{}
	for _, c := range seen.cases {
		if seen.logs[c.Number], err = s.Events(ctx, c.Number); err != nil {
			t.Fatal(err)
		}
	}
	if seen.since, err = s.EventsSince(ctx, 0, 1000); err != nil {
		t.Fatal(err)
	}
	if seen.pending, err = s.PendingEvents(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	return seen
}

// A file written with an event a key, a copy in the outbox and a key an
// event in the sequence log is moved to one log a case and chunks of the
// sequence log when opened, a few cases a transaction (a move cut short
// goes on at the next open), and reads as it did: every case's events, the
// events in order, the outbox; new events number on from the old ones.
func TestEventsMovedToCaseLogs(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		t.Run(fmt.Sprintf("sealed=%v", sealed), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "gridbot.db")
			opt := Options{CasePrefix: "ST"}
			if sealed {
				keys, err := sealing.Parse(sealing.NewFile())
				if err != nil {
					t.Fatal(err)
				}
				opt.Sealer = keys
			}
			s, err := Open(path, opt)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
			for i := range 7 {
				c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Resident: "o1",
					Text: "路灯不亮", Phone: "13800138000", CreatedAt: now},
					core.Event{Kind: core.EventSubmitted, At: now, Text: "路灯不亮"})
				if err != nil {
					t.Fatal(err)
				}
				for j := range i {
					_, _, err := s.UpdateCase(ctx, c.Number, func(c *core.Case) ([]core.Event, error) {
						return []core.Event{{Kind: core.EventNoted, At: now.Add(time.Duration(j) * time.Minute), Text: "跟进"}}, nil
					})
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			// Half the events announced.
			pending, err := s.PendingEvents(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range pending[:len(pending)/2] {
				if err := s.AckEvents(ctx, e.Seq); err != nil {
					t.Fatal(err)
				}
			}
			want := seeLedger(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			toOldLayout(t, path)

			// A move cut short after two transactions of two cases.
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			moved := 0
			for range 2 {
				err := db.Update(func(tx *bolt.Tx) error {
					for _, b := range [][]byte{bucketCaseLogs, bucketSeqs} { // as Open makes them
						if _, err := tx.CreateBucketIfNotExists(b); err != nil {
							return err
						}
					}
					n, err := moveEvents(tx, 2)
					moved += n
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			// The sequence log moved three events a transaction (a chunk
			// filled across transactions).
			if err := migrateSeqs(db, 3); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if moved != 4 {
				t.Fatalf("moved %d cases in two batches of two", moved)
			}

			if s, err = Open(path, opt); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got := seeLedger(t, s)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("after the move:\n got %+v\nwant %+v", got, want)
			}
			err = s.db.View(func(tx *bolt.Tx) error {
				if tx.Bucket(bucketOldEvents) != nil || tx.Bucket(bucketOldLog) != nil {
					return fmt.Errorf("an old bucket is still there")
				}
				return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
					if !pointsToLog(v) {
						return fmt.Errorf("outbox %x still holds the event", k)
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			_, evs, err := s.UpdateCase(ctx, want.cases[0].Number, func(c *core.Case) ([]core.Event, error) {
				return []core.Event{{Kind: core.EventNoted, At: now}}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if last := want.since[len(want.since)-1].Seq; evs[0].Seq != last+1 {
				t.Fatalf("new event numbered %d after %d", evs[0].Seq, last)
			}
			// A log of moved entries and one written since reads whole.
			log, err := s.Events(ctx, want.cases[0].Number)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(want.logs[want.cases[0].Number]); len(log) != n+1 || !reflect.DeepEqual(log[:n], want.logs[want.cases[0].Number]) ||
				log[n].Seq != evs[0].Seq || log[n].Kind != core.EventNoted {
				t.Fatalf("log after a write: %+v", log)
			}
		})
	}
}

// EventsSince reads the sequence log across its chunks of 32 from any
// point, within any limit.
func TestEventsSinceAcrossChunks(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "gridbot.db"), Options{CasePrefix: "ST", NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	var numbers []string
	for range 3 {
		c, _, err := s.CreateCase(ctx, core.Case{State: core.StateSubmitted, Grid: "g1", Resident: "o1", CreatedAt: now},
			core.Event{Kind: core.EventSubmitted, At: now})
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, c.Number)
	}
	for i := range 297 {
		_, _, err := s.UpdateCase(ctx, numbers[i%3], func(c *core.Case) ([]core.Event, error) {
			return []core.Event{{Kind: core.EventNoted, At: now}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, after := range []uint64{0, 1, 30, 31, 32, 33, 63, 64, 127, 128, 129, 299, 300} {
		for _, limit := range []int{1, 5, 1000} {
			got, err := s.EventsSince(ctx, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			want := min(limit, int(300-after))
			if len(got) != want {
				t.Fatalf("after %d, limit %d: %d events, want %d", after, limit, len(got), want)
			}
			for i, e := range got {
				if e.Seq != after+1+uint64(i) || e.Case != numbers[(e.Seq-1)%3] {
					t.Fatalf("after %d: event %d is %d of %s", after, i, e.Seq, e.Case)
				}
			}
		}
	}
}
