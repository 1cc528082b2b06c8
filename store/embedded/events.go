package embedded

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"gridbot/core"
	"gridbot/store/valuecodec"
)

// Each event is stored once, in its case's log:
//
//	caselogs  number → the case's events, oldest first (a log value, below)
//	seqs      every event in order: its case number (seqs.go)
//	outbox    seq → case number: the events not yet announced
//
// A log value is one key a case rather than one an event (bbolt spends 16
// bytes of header and the key on each), and the outbox names where the
// event is rather than holding a second copy, whose freed pages a fill
// left in the file (they were a quarter of it). A log value is a format
// byte, then for each event its sequence number and length (uvarints) and
// the event, so an append copies the bytes before it without reading them
// and a lookup by sequence number skips the others unparsed. The event is
// sealed as core.SealEvent seals it and written as the Valkey store writes
// its log entries (store/valuecodec: an array without field names after
// the sequence number, compressed with the events' dictionary); an entry
// that starts with "{" is the event's JSON object, as the first version of
// this layout wrote it, and still reads.
//
// A file written before (one key an event in the bucket "events", a copy
// in the outbox) is moved to this layout when opened (migrateEvents); an
// outbox entry that still holds the event's JSON reads as it is.
var (
	bucketCaseLogs  = []byte("caselogs")
	bucketOldEvents = []byte("events") // number \x00 seq → event JSON, before caselogs
)

// logFormat is the first byte of a log value: the layout above.
const logFormat = 1

// errLogFormat is a log value this store cannot read.
var errLogFormat = errors.New("case log written by a newer store: unknown format")

// appendLogEntry appends an event's entry to a log value (nil for a new
// log), returning a new slice: bbolt's values must not be written to.
func appendLogEntry(log []byte, seq uint64, event []byte) []byte {
	out := make([]byte, 0, max(len(log), 1)+2*binary.MaxVarintLen64+len(event))
	if len(log) == 0 {
		out = append(out, logFormat)
	} else {
		out = append(out, log...)
	}
	out = binary.AppendUvarint(out, seq)
	out = binary.AppendUvarint(out, uint64(len(event)))
	return append(out, event...)
}

// eachLogEntry calls fn with each entry of a log value, oldest first,
// until fn returns false or an error.
func eachLogEntry(log []byte, fn func(seq uint64, event []byte) (bool, error)) error {
	if len(log) == 0 {
		return nil
	}
	if log[0] != logFormat {
		return errLogFormat
	}
	for rest := log[1:]; len(rest) > 0; {
		seq, n := binary.Uvarint(rest)
		if n <= 0 {
			return fmt.Errorf("case log: bad entry")
		}
		rest = rest[n:]
		size, n := binary.Uvarint(rest)
		if n <= 0 || uint64(len(rest)-n) < size {
			return fmt.Errorf("case log: bad entry")
		}
		ev := rest[n : n+int(size)]
		rest = rest[n+int(size):]
		if more, err := fn(seq, ev); err != nil || !more {
			return err
		}
	}
	return nil
}

// logEntry returns the JSON of event seq in a log value, or nil.
func logEntry(log []byte, seq uint64) ([]byte, error) {
	var out []byte
	err := eachLogEntry(log, func(s uint64, ev []byte) (bool, error) {
		if s == seq {
			out = ev
			return false, nil
		}
		return s < seq, nil
	})
	return out, err
}

// appendEvents numbers evs, seals them and appends them to c's log, the
// sequence log and the outbox.
func (s *Store) appendEvents(tx *bolt.Tx, c *core.Case, evs []core.Event) error {
	logs, outbox, seqs := tx.Bucket(bucketCaseLogs), tx.Bucket(bucketOutbox), tx.Bucket(bucketSeqs)
	number := []byte(c.Number)
	value := logs.Get(number)
	for i := range evs {
		seq, err := logs.NextSequence()
		if err != nil {
			return err
		}
		evs[i].Seq, evs[i].Case = seq, c.Number
		v, err := s.encodeEntry(evs[i])
		if err != nil {
			return err
		}
		value = appendLogEntry(value, seq, v)
		if err := outbox.Put(seqKey(seq), number); err != nil {
			return err
		}
		if err := putSeq(seqs, seq, number); err != nil {
			return err
		}
		c.UpdatedAt = evs[i].At
	}
	return logs.Put(number, value)
}

// caseEvents reads the log of case number in tx, oldest first.
func (s *Store) caseEvents(tx *bolt.Tx, number []byte) ([]core.Event, error) {
	var out []core.Event
	err := eachLogEntry(tx.Bucket(bucketCaseLogs).Get(number), func(seq uint64, v []byte) (bool, error) {
		var e core.Event
		if err := s.openEntry(number, seq, v, &e); err != nil {
			return false, fmt.Errorf("event %d: %w", seq, err)
		}
		out = append(out, e)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", number, err)
	}
	return out, nil
}

// An eventReader reads events by case and sequence number, for the
// sequence log and the outbox; it keeps the log value it read last, so
// that the events of one case in a row read its log once.
type eventReader struct {
	logs   *bolt.Bucket
	number []byte
	value  []byte
}

// event returns the JSON of event seq of case number.
func (r *eventReader) event(number []byte, seq uint64) ([]byte, error) {
	if !bytes.Equal(number, r.number) {
		r.number, r.value = number, r.logs.Get(number)
	}
	v, err := logEntry(r.value, seq)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("event %d of %s: missing", seq, number)
	}
	return v, nil
}

// encodeEntry is the stored entry of ev (its Seq set) in its case's log.
func (s *Store) encodeEntry(ev core.Event) ([]byte, error) {
	sealed, err := core.SealEvent(s.sealer, ev)
	if err != nil {
		return nil, err
	}
	tail, err := valuecodec.EventTail(sealed)
	if err != nil {
		return nil, err
	}
	return valuecodec.Event.Pack([]byte(tail))
}

// decodeEntry reads entry seq of case number's log, its personal part
// still sealed.
func decodeEntry(number []byte, seq uint64, v []byte, e *core.Event) error {
	if len(v) > 0 && v[0] == '{' {
		*e = core.Event{}
		return json.Unmarshal(v, e)
	}
	raw := make([]byte, 0, 24+len(v))
	raw = strconv.AppendUint(append(raw, '['), seq, 10)
	ev, err := valuecodec.DecodeEntry(string(number), string(append(raw, v...)))
	if err != nil {
		return err
	}
	*e = ev
	return nil
}

// openEntry reads entry seq of case number's log with its personal part
// opened: what callers see.
func (s *Store) openEntry(number []byte, seq uint64, v []byte, e *core.Event) error {
	if err := decodeEntry(number, seq, v, e); err != nil {
		return err
	}
	return core.OpenEvent(s.sealer, e)
}

// pointsToLog reports whether an outbox value names a case (this layout)
// rather than holding the event's JSON (before it).
func pointsToLog(v []byte) bool { return len(v) > 0 && v[0] != '{' }

// migrateBatch bounds the cases one transaction of the move moves.
const migrateBatch = 2000

// migrateEvents moves the events of a file written before caselogs into
// it, batch cases a transaction so that a large file's move holds no more
// in memory than that; each case moves whole in one transaction, so a move
// cut short goes on at the next open.
func migrateEvents(db *bolt.DB, batch int) error {
	for {
		done := false
		err := db.Update(func(tx *bolt.Tx) error {
			setFill(tx)
			done = tx.Bucket(bucketOldEvents) == nil
			if done {
				return pointOutbox(tx)
			}
			_, err := moveEvents(tx, batch)
			return err
		})
		if err != nil {
			return fmt.Errorf("move events to caselogs: %w", err)
		}
		if done {
			return nil
		}
	}
}

// moveEvents moves the events of up to batch cases from the old bucket to
// their logs, and drops the old bucket once it is empty. It returns how
// many cases it moved.
func moveEvents(tx *bolt.Tx, batch int) (int, error) {
	old, logs := tx.Bucket(bucketOldEvents), tx.Bucket(bucketCaseLogs)
	var (
		moving []byte // the case being moved
		value  []byte
		keys   [][]byte
		cases  int
	)
	flush := func() error {
		if moving == nil {
			return nil
		}
		cases++
		return logs.Put(moving, value)
	}
	cur := old.Cursor()
	k, v := cur.First()
	for ; k != nil; k, v = cur.Next() {
		if len(k) < 9 || k[len(k)-9] != 0 {
			return cases, fmt.Errorf("bad key %x", k)
		}
		number, seq := k[:len(k)-9], binary.BigEndian.Uint64(k[len(k)-8:])
		if !bytes.Equal(number, moving) {
			if err := flush(); err != nil {
				return cases, err
			}
			if cases >= batch {
				break
			}
			moving, value = append([]byte{}, number...), nil
		}
		value = appendLogEntry(value, seq, v)
		keys = append(keys, append([]byte{}, k...))
	}
	if k == nil {
		if err := flush(); err != nil {
			return cases, err
		}
		// Every case moved: events number on from the old bucket's
		// sequence, and the bucket goes.
		if err := logs.SetSequence(max(logs.Sequence(), old.Sequence())); err != nil {
			return cases, err
		}
		return cases, tx.DeleteBucket(bucketOldEvents)
	}
	for _, k := range keys {
		if err := old.Delete(k); err != nil {
			return cases, err
		}
	}
	return cases, nil
}

// pointOutbox replaces the events an older version copied into the outbox
// with the number of their case, once their logs are in caselogs.
func pointOutbox(tx *bolt.Tx) error {
	outbox := tx.Bucket(bucketOutbox)
	type put struct{ k, v []byte }
	var puts []put
	err := outbox.ForEach(func(k, v []byte) error {
		if pointsToLog(v) {
			return nil
		}
		var e struct {
			Case string `json:"case"`
		}
		if err := json.Unmarshal(v, &e); err != nil || e.Case == "" {
			return fmt.Errorf("outbox %x: not an event", k)
		}
		puts = append(puts, put{append([]byte{}, k...), []byte(e.Case)})
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range puts {
		if err := outbox.Put(p.k, p.v); err != nil {
			return err
		}
	}
	return nil
}
