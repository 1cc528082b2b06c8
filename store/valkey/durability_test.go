package valkey

import (
	"strings"
	"testing"
	"time"
)

func TestDurabilityWarnings(t *testing.T) {
	for _, tt := range []struct {
		cfg  map[string]string
		want []string // a word each warning must contain, in order
	}{
		{map[string]string{"appendonly": "yes", "appendfsync": "everysec", "maxmemory-policy": "noeviction"}, nil},
		{map[string]string{"appendonly": "yes", "appendfsync": "always", "maxmemory-policy": "noeviction"}, nil},
		{map[string]string{"appendonly": "no", "appendfsync": "everysec", "maxmemory-policy": "noeviction"}, []string{"appendonly"}},
		{map[string]string{"appendonly": "yes", "appendfsync": "no", "maxmemory-policy": "noeviction"}, []string{"appendfsync"}},
		{map[string]string{"appendonly": "no", "appendfsync": "no", "maxmemory-policy": "allkeys-lru"}, []string{"appendonly", "appendfsync", "maxmemory-policy"}},
		{map[string]string{"appendonly": "yes", "appendfsync": "everysec"}, []string{"could not read maxmemory-policy"}},
	} {
		got := durabilityWarnings(tt.cfg)
		if len(got) != len(tt.want) {
			t.Errorf("%v: warnings %q, want %d", tt.cfg, got, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%v: warning %q does not mention %s", tt.cfg, got[i], w)
			}
		}
	}
}

func TestTTLMillis(t *testing.T) {
	for ttl, want := range map[time.Duration]int64{
		-time.Second:            1,
		0:                       1,
		time.Microsecond:        1,
		time.Millisecond:        1,
		1500 * time.Microsecond: 2,
		time.Minute:             60000,
	} {
		if got := ttlMillis(ttl); got != want {
			t.Errorf("ttlMillis(%v) = %d, want %d", ttl, got, want)
		}
	}
}
