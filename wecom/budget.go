package wecom

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gridbot/core"
)

// Counts is where sends are counted, shared by every instance: the store's
// atomic counter and its reads.
type Counts interface {
	core.Counter
	Get(ctx context.Context, key string) ([]byte, bool, error)
}

// slot is the grain of a budget: the counts of the last seven slots cover
// a little more than any minute, so a bound kept over them holds for every
// minute, however WeCom reckons its minutes (it drops what is over without
// a word, so the bound must hold).
const slot = 10 * time.Second

// spend takes one of limit sends a minute under key at now, and reports
// false when the minute's sends are spent; a refused send is not counted.
func spend(ctx context.Context, c Counts, key string, limit int64, now time.Time) (bool, error) {
	cur := now.Unix() / int64(slot/time.Second)
	var before int64
	for i := int64(1); i <= 6; i++ {
		v, ok, err := c.Get(ctx, key+":"+strconv.FormatInt(cur-i, 10))
		if err != nil {
			return false, fmt.Errorf("reading sends: %w", err)
		}
		if ok {
			n, _ := strconv.ParseInt(string(v), 10, 64)
			before += n
		}
	}
	mine := key + ":" + strconv.FormatInt(cur, 10)
	v, ok, err := c.Get(ctx, mine)
	if err != nil {
		return false, fmt.Errorf("reading sends: %w", err)
	}
	if ok {
		n, _ := strconv.ParseInt(string(v), 10, 64)
		if before+n >= limit {
			return false, nil
		}
	} else if before >= limit {
		return false, nil
	}
	// Sends at once can pass the look above together: the count after the
	// increment is exact, and decides.
	n, err := c.Incr(ctx, mine, 8*slot)
	if err != nil {
		return false, fmt.Errorf("counting sends: %w", err)
	}
	return before+n <= limit, nil
}
