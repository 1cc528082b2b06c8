package bot

import (
	"strconv"
	"time"
)

// DefaultMaxClockSkew is how far a callback's signed timestamp may be from
// our clock by default: WeChat sends at once and retries within seconds,
// so five minutes leaves room for clocks that drift and nothing more.
const DefaultMaxClockSkew = 5 * time.Minute

// Freshness refuses callbacks that are not from now. A WeChat signature
// covers the timestamp and nonce (and in safe mode the ciphertext) but not
// the moment it is used, so without this a signed URL or an encrypted
// message captured once could be sent again years later. The official
// account's callback uses it, and the WeCom callback, which signs the same
// way, is meant to.
type Freshness struct {
	// MaxSkew is how far from Now a timestamp may be, either way; zero
	// means DefaultMaxClockSkew.
	MaxSkew time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (f Freshness) skew() time.Duration {
	if f.MaxSkew > 0 {
		return f.MaxSkew
	}
	return DefaultMaxClockSkew
}

func (f Freshness) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Check reads a callback's timestamp (Unix seconds, as WeChat writes it) and
// reports whether it lies within MaxSkew of the clock; it returns the time
// read, for MarkTTL.
func (f Freshness) Check(timestamp string) (time.Time, bool) {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || sec < 0 || sec > 1<<40 {
		return time.Time{}, false
	}
	t := time.Unix(sec, 0)
	d := f.now().Sub(t)
	return t, d <= f.skew() && d >= -f.skew()
}

// MarkTTL is how long a dedupe mark of a message stamped at must live so
// that the message is refused as stale before its mark expires: until at +
// MaxSkew, and never less than least. A replay inside the window then
// always meets the mark.
func (f Freshness) MarkTTL(at time.Time, least time.Duration) time.Duration {
	ttl := at.Add(f.skew()).Sub(f.now()) + time.Second
	return max(ttl, least)
}
