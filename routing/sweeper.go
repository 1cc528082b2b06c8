package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gridbot/core"
)

// DefaultSweepEvery is how often a Sweeper looks at the ledger when Every
// is zero.
const DefaultSweepEvery = time.Minute

// sweepLimit bounds the cases one sweep reads.
const sweepLimit = 100000

// Sweeper applies the clock to the ledger (立账督办): post A's accept time,
// deadline warnings, escalation, unrated closes. Every instance runs one;
// nothing lives in its memory between sweeps. Each step is a conditional
// write through core.Ledger.Supervise, so a step already recorded by another
// instance (or before a restart) is a no-op, and each fires once.
//
// The sweep also routes a case left submitted longer than RouteAfter: the
// router assigns a case within moments of its filing, so one still
// submitted lost its event (a store from before the outbox waited for the
// handlers, or a transport that dropped it), and the resident was told
// it was filed. Assigning is conditional too, so the router and the sweep
// never assign twice.
type Sweeper struct {
	Ledger *core.Ledger
	// Every is the time between sweeps; zero means DefaultSweepEvery.
	Every time.Duration
	// RouteAfter is how long a case may stay submitted before the sweep
	// assigns it; zero means DefaultRouteAfter.
	RouteAfter time.Duration
	Log        *slog.Logger
}

// DefaultRouteAfter is how long a case may stay submitted before the sweep
// assigns it, when Sweeper.RouteAfter is zero.
const DefaultRouteAfter = time.Minute

// Run sweeps until ctx is done.
func (s *Sweeper) Run(ctx context.Context) error {
	every := s.Every
	if every <= 0 {
		every = DefaultSweepEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Sweep looks at every case on the ledger once and reports how many it
// changed. A case that fails is logged and the sweep goes on.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	cases, err := s.Ledger.CasesToSweep(ctx, sweepLimit)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	routeAfter := s.RouteAfter
	if routeAfter <= 0 {
		routeAfter = DefaultRouteAfter
	}
	now := time.Now()
	if s.Ledger.Now != nil {
		now = s.Ledger.Now()
	}
	changed := 0
	for _, c := range cases {
		if ctx.Err() != nil {
			return changed, nil
		}
		if c.State == core.StateSubmitted && now.Sub(c.CreatedAt) >= routeAfter {
			_, _, err := s.Ledger.Assign(ctx, c.Number)
			switch {
			case errors.Is(err, core.ErrNoChange):
			case err != nil:
				s.Log.Error("route a case left submitted", "case", c.Number, "err", err)
			default:
				changed++
				s.Log.Warn("routed a case left submitted", "case", c.Number, "since", c.CreatedAt)
			}
		}
		_, evs, err := s.Ledger.Supervise(ctx, c.Number)
		switch {
		case errors.Is(err, core.ErrNoChange):
		case err != nil:
			s.Log.Error("supervise", "case", c.Number, "err", err)
		default:
			changed++
			s.Log.Info("supervised", "case", c.Number, "events", len(evs))
		}
	}
	return changed, nil
}
