package core

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// A per-resident filing limit: one resident (one openid) files at most
// Recent cases in Window and holds at most Open cases not yet settled, so a
// script behind one WeChat account cannot flood the ledger and the grid
// leaders' phones. A refused filing is ErrTooMany, which the dialog answers
// politely; nothing is written.

// Defaults of SubmitLimits.
const (
	DefaultSubmitRecent = 5
	DefaultSubmitWindow = 10 * time.Minute
	DefaultSubmitOpen   = 20
)

// SubmitLimits bounds how much one resident files. Zero fields take their
// defaults.
type SubmitLimits struct {
	// Recent is how many cases a resident may file within Window.
	Recent int
	Window time.Duration
	// Open is how many of a resident's cases may be open (not resolved or
	// closed) at once.
	Open int
	// ExemptPrefixes name residents the limit does not apply to: channels
	// that file for many people under one name and answer for it
	// themselves (Open311's "open311:" + channel, behind an API key).
	ExemptPrefixes []string
}

func (s SubmitLimits) withDefaults() SubmitLimits {
	if s.Recent <= 0 {
		s.Recent = DefaultSubmitRecent
	}
	if s.Window <= 0 {
		s.Window = DefaultSubmitWindow
	}
	if s.Open <= 0 {
		s.Open = DefaultSubmitOpen
	}
	return s
}

// openStates are the states that count against SubmitLimits.Open.
var openStates = [...]State{StateSubmitted, StateAssigned, StateInProgress, StateReopened}

// checkSubmitLimit refuses (ErrTooMany) a filing by resident past the
// ledger's limits. A draft filed already with the same key passes, so a
// retry gets its case back. It reads the resident's own index, newest
// first and bounded, never the whole ledger.
func (l *Ledger) checkSubmitLimit(ctx context.Context, resident, key string) error {
	lim := l.Limits.withDefaults()
	for _, p := range lim.ExemptPrefixes {
		if p != "" && strings.HasPrefix(resident, p) {
			return nil
		}
	}
	recent, err := l.Store.Cases(ctx, CaseQuery{Resident: resident, Limit: lim.Recent})
	if err != nil {
		return fmt.Errorf("submit limit: %w", err)
	}
	since := l.now().Add(-lim.Window)
	n := 0
	for _, c := range recent {
		if key != "" && c.SubmitKey == key {
			return nil
		}
		if c.CreatedAt.After(since) {
			n++
		}
	}
	if n >= lim.Recent {
		return fmt.Errorf("submit: %d cases in %s: %w", n, lim.Window, ErrTooMany)
	}
	open, err := l.Store.Cases(ctx, CaseQuery{Resident: resident, States: openStates[:], Limit: lim.Open})
	if err != nil {
		return fmt.Errorf("submit limit: %w", err)
	}
	if len(open) >= lim.Open {
		return fmt.Errorf("submit: %d open cases: %w", len(open), ErrTooMany)
	}
	return nil
}
