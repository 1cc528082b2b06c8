package loadtest

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Latencies collects durations from many goroutines.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one duration.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Count is the number recorded.
func (l *Latencies) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

// Summary is a latency distribution.
type Summary struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// Summary sorts what was recorded and returns its percentiles.
func (l *Latencies) Summary() Summary {
	l.mu.Lock()
	d := slices.Clone(l.d)
	l.mu.Unlock()
	if len(d) == 0 {
		return Summary{}
	}
	slices.Sort(d)
	at := func(p float64) time.Duration {
		i := int(float64(len(d))*p+0.5) - 1
		return d[max(0, min(i, len(d)-1))]
	}
	return Summary{N: len(d), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: d[len(d)-1]}
}

func (s Summary) String() string {
	return fmt.Sprintf("n=%d p50=%s p90=%s p99=%s max=%s", s.N, ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// Errors counts failures by kind and keeps the first sample of each.
type Errors struct {
	mu     sync.Mutex
	count  map[string]int
	sample map[string]string
}

// Add counts one failure of kind with a sample text (kept for the first).
func (e *Errors) Add(kind, sample string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.count == nil {
		e.count, e.sample = map[string]int{}, map[string]string{}
	}
	e.count[kind]++
	if _, ok := e.sample[kind]; !ok {
		if len(sample) > 200 {
			sample = sample[:200] + "…"
		}
		e.sample[kind] = sample
	}
}

// Total is the number of failures.
func (e *Errors) Total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.count {
		n += c
	}
	return n
}

// String lists the kinds with counts and samples.
func (e *Errors) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.count) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(e.count))
	for k := range e.count {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += "; "
		}
		out += fmt.Sprintf("%s ×%d (%q)", k, e.count[k], e.sample[k])
	}
	return out
}
