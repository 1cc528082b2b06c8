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
type Sweeper struct {
	Ledger *core.Ledger
	// Every is the time between sweeps; zero means DefaultSweepEvery.
	Every time.Duration
	Log   *slog.Logger
}

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
	changed := 0
	for _, c := range cases {
		if ctx.Err() != nil {
			return changed, nil
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
