package core_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/store/embedded"
	"gridbot/store/valkey"
)

// A guesser with fresh openids (issue 13, item 5: 588,643 guesses in 45 s
// found a code of six digits) meets the town-wide budget, on either store:
// of a thousand wrong codes sent at once, no more than the budget are looked
// up; then binding is locked, even with the right code; the town sees the
// wrong codes.
func TestBindGuessingIsHopeless(t *testing.T) {
	l, _, st := residentLedger(t)
	t.Run("embedded", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		r := &core.Roster{Town: l.Town, Records: st, Keys: &embedded.MemoryKeys{Now: clock}, BindAttempts: 10, BindLock: time.Hour}
		guessBurst(t, r)
		// The window ends: binding works again, typed any way.
		mu.Lock()
		now = now.Add(61 * time.Minute)
		mu.Unlock()
		ctx := context.Background()
		code, err := r.IssueBindCode(ctx, "gl-L10-a")
		if err != nil {
			t.Fatal(err)
		}
		typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
		leader := l.Town.Town().StaffMember("gl-L10-a").Address(core.ChannelWeChat) // the directory's own
		if s, err := r.Bind(ctx, leader, typed); err != nil || s.ID != "gl-L10-a" {
			t.Fatalf("after the window, %q: %v %v", typed, s, err)
		}
		if w, _ := r.WatchBinding(ctx); w.Locked || w.Wrong != 0 || w.Tries != 1 {
			t.Errorf("a new window: %+v", w)
		}
	})
	t.Run("valkey", func(t *testing.T) {
		vs, err := valkey.Open(context.Background(), valkey.Options{Addr: []string{valkeytest.Addr(t)},
			Prefix: valkeytest.Prefix(t), CasePrefix: "ST"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { vs.Close() })
		guessBurst(t, &core.Roster{Town: l.Town, Records: st, Keys: vs, BindAttempts: 10, BindLock: time.Hour})
	})
}

// guessBurst sends a thousand wrong codes at once from fresh openids to a
// roster with a budget of 10, then the right one.
func guessBurst(t *testing.T, r *core.Roster) {
	ctx := context.Background()
	code, err := r.IssueBindCode(ctx, "gl-L10-a")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$`).MatchString(code) {
		t.Fatalf("code %q: want two groups of five from the unambiguous alphabet", code)
	}
	var looked, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Go(func() {
			_, err := r.Bind(ctx, fmt.Sprint("o-guesser-", i), "ABCDEFGHJK")
			switch {
			case errors.Is(err, core.ErrInvalid):
				looked.Add(1)
			case errors.Is(err, core.ErrBindLimit):
				limited.Add(1)
			default:
				t.Errorf("guess %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if looked.Load() > 10 || limited.Load() < 990 {
		t.Fatalf("%d codes looked up, %d refused; want at most the budget of 10 looked up", looked.Load(), limited.Load())
	}
	if _, err := r.Bind(ctx, "o-leader", code); !errors.Is(err, core.ErrBindLimit) {
		t.Fatalf("the right code while locked: %v, want ErrBindLimit", err)
	}
	w, err := r.WatchBinding(ctx)
	if err != nil || !w.Locked || w.Wrong != looked.Load() || w.Budget != 10 {
		t.Fatalf("the town sees %+v (%v)", w, err)
	}
}

// One openid tries at most five codes an hour; a malformed code is not a
// try.
func TestBindTriesPerOpenID(t *testing.T) {
	ctx := context.Background()
	l, _, st := residentLedger(t)
	r := &core.Roster{Town: l.Town, Records: st, Keys: st}
	for i := range 5 {
		if _, err := r.Bind(ctx, "o-one", fmt.Sprintf("AAAAA%05d", i)[:5]+"BBBBB"); !errors.Is(err, core.ErrInvalid) {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	if _, err := r.Bind(ctx, "o-one", "CCCCCDDDDD"); !errors.Is(err, core.ErrBindLimit) {
		t.Fatalf("a sixth try: %v, want ErrBindLimit", err)
	}
	if _, err := r.Bind(ctx, "o-two", "000000"); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("a six-digit code: %v, want ErrInvalid", err)
	}
	if w, _ := r.WatchBinding(ctx); w.Tries != 5 {
		t.Errorf("tries %d, want 5 (the malformed one is not a try)", w.Tries)
	}
}
