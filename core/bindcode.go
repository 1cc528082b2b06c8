package core

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Binding codes that cannot be guessed. A code is ten characters from an
// alphabet of 31 that cannot be misread (no 0/O, 1/I/L): 31^10 ≈ 8×10^14
// values, shown as two groups of five (K7MQ2-X9PAT) and read back in any
// case, with or without the dash or spaces. Every try is counted before the
// code is looked up: five per openid an hour, and BindAttempts (100) for
// the whole town in BindLock (an hour), after which binding is locked until
// the window ends, whoever asks. With even a hundred codes live at once, a
// guesser has one chance in 8×10^10 per window, under one in 10^7 a year.
// The town sees the wrong codes: a log line each (without who sent it) and
// BindWatch on the console.

// bindAlphabet is the characters of a code.
const bindAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// bindCodeLen is the characters in a code.
const bindCodeLen = 10

// Defaults of the town-wide budget.
const (
	DefaultBindAttempts = 100
	DefaultBindLock     = time.Hour
)

// newBindCode draws a code uniformly from the alphabet.
func newBindCode() (string, error) {
	const n = len(bindAlphabet)
	b := make([]byte, 0, bindCodeLen)
	buf := make([]byte, 32)
	for len(b) < bindCodeLen {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, x := range buf {
			// Reject the top of the byte range, so each character is
			// equally likely.
			if int(x) < 256-256%n && len(b) < bindCodeLen {
				b = append(b, bindAlphabet[int(x)%n])
			}
		}
	}
	return string(b), nil
}

// formatBindCode groups a code for people: K7MQ2-X9PAT.
func formatBindCode(code string) string { return code[:5] + "-" + code[5:] }

// normalBindCode reads a code as people type it: any case, full-width or
// not, with dashes and spaces anywhere. It reports whether what is left has
// the shape of a code.
func normalBindCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		switch {
		case r == '-' || r == ' ' || r == '\u3000':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if !strings.ContainsRune(bindAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	return b.String(), b.Len() == bindCodeLen
}

func (r *Roster) bindBudget() (int64, time.Duration) {
	n, lock := int64(r.BindAttempts), r.BindLock
	if n <= 0 {
		n = DefaultBindAttempts
	}
	if lock <= 0 {
		lock = DefaultBindLock
	}
	return n, lock
}

func (r *Roster) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// counter is the store's atomic count.
func (r *Roster) counter() (Counter, error) {
	c, ok := r.Keys.(Counter)
	if !ok {
		return nil, fmt.Errorf("roster: the store cannot count bind tries")
	}
	return c, nil
}

// chargeBindTry counts one try of openid and of the town, before the code
// is looked up; ErrBindLimit when either is spent.
func (r *Roster) chargeBindTry(ctx context.Context, openid string) error {
	c, err := r.counter()
	if err != nil {
		return err
	}
	mine, err := c.Incr(ctx, keyBindTries+openid, bindTriesWindow)
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if mine > maxBindTries {
		return ErrBindLimit
	}
	budget, lock := r.bindBudget()
	all, err := c.Incr(ctx, keyBindAll, lock)
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if all == budget+1 {
		r.log().WarnContext(ctx, "staff binding locked town-wide: too many binding codes tried",
			"tries", budget, "window", lock.String())
	}
	if all > budget {
		return ErrBindLimit
	}
	return nil
}

// noteWrongCode counts a wrong code for the town to see, and logs it
// without who sent it or what.
func (r *Roster) noteWrongCode(ctx context.Context) {
	_, lock := r.bindBudget()
	c, err := r.counter()
	if err != nil {
		return
	}
	n, err := c.Incr(ctx, keyBindFails, lock)
	if err != nil {
		r.log().ErrorContext(ctx, "roster: count a wrong binding code", "err", err)
		return
	}
	r.log().WarnContext(ctx, "wrong staff binding code", "wrong_codes_in_window", n)
}

// BindWatch is what the town sees of binding: the codes tried and the
// wrong ones in the current window, and whether binding is locked.
type BindWatch struct {
	Tries  int64 `json:"tries"`
	Wrong  int64 `json:"wrong"`
	Budget int64 `json:"budget"`
	Locked bool  `json:"locked"`
	// Window is the length of the window, in minutes.
	Window int `json:"window_minutes"`
}

// WatchBinding reads the town-wide binding counts.
func (r *Roster) WatchBinding(ctx context.Context) (BindWatch, error) {
	budget, lock := r.bindBudget()
	w := BindWatch{Budget: budget, Window: int(lock / time.Minute)}
	for _, k := range []struct {
		key string
		to  *int64
	}{{keyBindAll, &w.Tries}, {keyBindFails, &w.Wrong}} {
		v, ok, err := r.Keys.Get(ctx, k.key)
		if err != nil {
			return w, fmt.Errorf("roster: binding counts: %w", err)
		}
		if ok {
			*k.to, _ = strconv.ParseInt(string(v), 10, 64)
		}
	}
	w.Locked = w.Tries >= budget
	return w, nil
}
