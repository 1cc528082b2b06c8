package embedded

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Every event in order, for EventsSince (the console's resume, exports):
//
//	seqs  seq / 32 → for each of those 32 sequence numbers taken, its
//	                 remainder (a byte), the case number's length (a
//	                 uvarint) and the case number
//
// about 17 bytes an event, where a key an event cost 38 (bbolt's 16-byte
// header, the 8-byte sequence number, the case number). A chunk of 32 is
// about 500 bytes, so pages hold several (chunks of 128, 2 KB, left pages
// half empty: a page holds one). Entries of a chunk
// are in sequence order, as the store's writes number them. A file
// written before has the bucket "log" (seq → number), moved into chunks
// when opened.
var (
	bucketSeqs   = []byte("seqs")
	bucketOldLog = []byte("log") // seq → case number, before seqs
)

// seqChunk is how many sequence numbers one key of seqs covers.
const seqChunk = 32

func chunkKey(seq uint64) []byte { return seqKey(seq / seqChunk) }

// appendSeq appends seq's entry (its case number) to chunk, returning a
// new slice: bbolt's values must not be written to.
func appendSeq(chunk []byte, seq uint64, number []byte) []byte {
	out := make([]byte, 0, len(chunk)+2+len(number))
	out = append(append(out, chunk...), byte(seq%seqChunk))
	out = binary.AppendUvarint(out, uint64(len(number)))
	return append(out, number...)
}

// putSeq records that event seq belongs to case number.
func putSeq(seqs *bolt.Bucket, seq uint64, number []byte) error {
	k := chunkKey(seq)
	return seqs.Put(k, appendSeq(seqs.Get(k), seq, number))
}

// eachSeq calls fn with each event after seq and its case number, in
// order, until fn returns false or an error.
func eachSeq(seqs *bolt.Bucket, after uint64, fn func(seq uint64, number []byte) (bool, error)) error {
	cur := seqs.Cursor()
	for k, v := cur.Seek(chunkKey(after + 1)); k != nil; k, v = cur.Next() {
		base := binary.BigEndian.Uint64(k) * seqChunk
		for rest := v; len(rest) > 0; {
			seq := base + uint64(rest[0])
			size, n := binary.Uvarint(rest[1:])
			if n <= 0 || uint64(len(rest)-1-n) < size {
				return fmt.Errorf("sequence chunk %x: bad entry", k)
			}
			number := rest[1+n : 1+n+int(size)]
			rest = rest[1+n+int(size):]
			if seq <= after {
				continue
			}
			if more, err := fn(seq, number); err != nil || !more {
				return err
			}
		}
	}
	return nil
}

// moveLogBatch bounds the events one transaction of the move moves.
const moveLogBatch = 50_000

// migrateSeqs moves the bucket "log" of a file written before seqs into
// chunks, batch events a transaction, oldest first; a move cut short goes
// on at the next open.
func migrateSeqs(db *bolt.DB, batch int) error {
	for {
		done := false
		err := db.Update(func(tx *bolt.Tx) error {
			setFill(tx)
			old := tx.Bucket(bucketOldLog)
			if done = old == nil; done {
				return nil
			}
			seqs := tx.Bucket(bucketSeqs)
			chunks := map[string][]byte{}
			var keys [][]byte
			cur := old.Cursor()
			k, number := cur.First()
			for ; k != nil && len(keys) < batch; k, number = cur.Next() {
				seq := binary.BigEndian.Uint64(k)
				ck := string(chunkKey(seq))
				chunk, ok := chunks[ck]
				if !ok {
					chunk = seqs.Get([]byte(ck))
				}
				chunks[ck] = appendSeq(chunk, seq, number)
				keys = append(keys, append([]byte{}, k...))
			}
			for ck, chunk := range chunks {
				if err := seqs.Put([]byte(ck), chunk); err != nil {
					return err
				}
			}
			if k == nil {
				done = true
				return tx.DeleteBucket(bucketOldLog)
			}
			for _, k := range keys {
				if err := old.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("move the event log to seqs: %w", err)
		}
		if done {
			return nil
		}
	}
}
