package core

import (
	"context"
	"time"
)

// Counter counts in the short-lived keys, atomically: what a limit needs
// when a hundred requests arrive at once, where reading a count and writing
// it back would let them all through. Both stores implement it beside
// Ephemeral, on the same keys.
type Counter interface {
	// Incr adds one to the count under key and returns the new count. A
	// missing or expired key starts at 1 and expires ttl later; later
	// counts do not move the expiry, so a window opens with its first
	// count and closes ttl after it.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
}
