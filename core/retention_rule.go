package core

import (
	"context"
	"time"
)

// RetentionClock says whether the retention policy will erase case c and
// from when its time counts: a closed case that still holds the resident's
// personal data (its openid, which EraseExpired clears last of all), from
// its last change. Stores keep the cases it holds in an index ordered by
// this time, moved in the same write as the case (RetentionIndex), so that
// a retention run reads the cases it erases and not the ledger: a case
// reopened leaves the index, closed again it re-enters with a new time,
// and the write that erases it takes it out.
func RetentionClock(c *Case) (time.Time, bool) {
	if c.State != StateClosed || c.Resident == "" {
		return time.Time{}, false
	}
	return c.UpdatedAt, true
}

// RetentionIndex is the index of the cases RetentionClock holds, kept by
// every CaseStore in the write that changes the case.
type RetentionIndex interface {
	// RetentionDue lists, oldest first, at most limit numbers of the
	// cases RetentionClock holds whose time is before cutoff. Stores keep
	// the time to the microsecond (RetentionMicros, below RetentionEnd):
	// for a cutoff within a microsecond a case of that microsecond may be
	// listed, and the caller checks each case again in the write that
	// erases it.
	RetentionDue(ctx context.Context, cutoff time.Time, limit int) ([]string, error)
}

// RetentionEnd is where a store's listing for cutoff ends (exclusive), in
// RetentionMicros: every time before cutoff is below it.
func RetentionEnd(cutoff time.Time) int64 {
	end := RetentionMicros(cutoff)
	if cutoff.After(time.UnixMicro(end)) {
		end++
	}
	return end
}

// RetentionMicros is the time stores order the retention index by: t in
// microseconds since 1970 (0 before), exact in a float64 score.
func RetentionMicros(t time.Time) int64 {
	return max(t.UnixMicro(), 0)
}
