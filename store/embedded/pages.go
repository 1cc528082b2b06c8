package embedded

import bolt "go.etcd.io/bbolt"

// How full bbolt leaves the pages it splits. Its default, half, suits keys
// inserted in random order; most of the store's keys are written in order
// (case numbers sort by day and count, sequence numbers and months grow),
// so a page split at half is never filled again and the file was half
// empty space (docs/benchmarks.md). These buckets split near full; a
// bucket whose keys arrive in random order keeps the default, and so does
// marks: its values are rewritten larger with nearly every write, and a
// page split full has no room for that (42 % used at 0.95, 64 % at half).
var fillPercents = map[string]float64{
	string(bucketCases):    0.95, // number → case: new numbers at the end
	string(bucketCaseLogs): 0.95, // number → log: the newest cases' logs grow
	string(bucketSeqs):     1,    // seq / 32 → numbers: appended
	string(bucketOutbox):   1,    // seq → number: appended, removed from the front
	string(bucketCounters): 0.95, // day → count: new days at the end
	string(bucketLive):     0.95, // number: the newest cases
	string(bucketGrids):    0.9,  // grid \x00 number: each grid's at its end
	string(bucketKinds):    0.9,  // category \x00 number: likewise
	string(bucketDepts):    0.9,  // department \x00 number: likewise
}

// setFill sets the fill of the store's buckets for a write transaction; a
// transaction hands out the same *bolt.Bucket for a name each time, so it
// holds for the transaction.
func setFill(tx *bolt.Tx) {
	for name, fill := range fillPercents {
		if b := tx.Bucket([]byte(name)); b != nil {
			b.FillPercent = fill
		}
	}
}
