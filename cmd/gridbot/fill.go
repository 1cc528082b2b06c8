package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/ledgerfill"
	"gridbot/script"
	"gridbot/store/embedded"
)

// runFill writes a synthetic history into the configured store (an empty
// one): for the benchmarks of a years-deep ledger and for a demo that
// starts with a town's past. The history is written through the ledger and
// then marked handled, so serve announces none of it.
func runFill(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("fill", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	configPath := fs.String("config", "", "YAML configuration file")
	cases := fs.Int("cases", 1000, "cases to write")
	years := fs.Int("years", 3, "years the cases are spread over, up to now")
	seed := fs.Uint64("seed", 1, "the same seed writes the same history")
	workers := fs.Int("workers", 16, "cases written at once")
	from := fs.Int("from", 0, "go on with a fill of the same -cases, -years and -seed that stopped: it said where")
	townKey := townFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cases <= 0 || *cases > 10_000_000 || *years <= 0 || *years > 20 || *from < 0 || *from >= *cases {
		return errors.New("fill: -cases must be 1…10,000,000, -years 1…20 and -from below -cases")
	}
	cfg, err := configs.Load(*configPath, env.Environ)
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	if cfg, err = townConfig(cfg, *townKey); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	town, err := configs.LoadTown(cfg.Town.Directory, cfg.Town.Categories)
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	b, err := openFillBackend(ctx, cfg, town, env)
	if err != nil {
		return fmt.Errorf("fill: open the store: %w (stop serve first when the store is embedded)", err)
	}
	defer b.close()
	if some, err := b.store.Cases(ctx, core.CaseQuery{Limit: 1}); err != nil {
		return fmt.Errorf("fill: %w", err)
	} else if len(some) > 0 && *from == 0 {
		return errors.New("fill: the ledger already has cases; fill writes a history only into an empty one (or goes on with -from)")
	} else if len(some) == 0 && *from > 0 {
		return errors.New("fill: -from goes on with a fill, but the ledger has no cases")
	}
	ledger := &core.Ledger{Store: b.store, Town: town, Rules: cfg.Rules()}
	began := time.Now()
	st, err := ledgerfill.Fill(ctx, ledger, ledgerfill.Options{Cases: *cases, Years: *years, Seed: *seed,
		Workers: *workers, From: *from, Progress: func(done int) {
			if done%10_000 == 0 {
				fmt.Fprintf(env.Stderr, "fill: %d cases, %s\n", *from+done, time.Since(began).Round(time.Second))
			}
		}})
	if err != nil {
		if st.Next < *cases {
			// Announced or not, what was written is kept; the next run
			// settles it with the rest.
			fmt.Fprintf(env.Stderr, "fill: stopped after %d cases; go on with -from %d\n", st.Cases, st.Next)
		}
		return err
	}
	if err := settleAnnouncements(ctx, b); err != nil {
		return err
	}
	from0 := ""
	if *from > 0 {
		from0 = fmt.Sprintf(" (%d of them before this run)", *from)
	}
	fmt.Fprintf(env.Stdout, "fill: %d cases%s (%d open) with %d events over %d years in %s\n",
		*from+st.Cases, from0, st.Open, st.Events, *years, time.Since(began).Round(time.Millisecond))
	return nil
}

// openFillBackend opens the configured store; the embedded one without an
// fsync per commit (a bulk load into an empty file, synced on close).
func openFillBackend(ctx context.Context, cfg *configs.Config, town *core.Town, env Env) (*backend, error) {
	if cfg.Store.Kind == "valkey" {
		return openBackend(ctx, cfg, town, "gridbot-fill", newLogger(env.Stderr, "text", "warn"))
	}
	conv, err := script.New()
	if err != nil {
		return nil, err
	}
	keys, err := loadDataKeys(cfg)
	if err != nil {
		return nil, err
	}
	search := searchRule(conv)
	search.Blind = keys.termBlinder()
	st, err := embedded.Open(cfg.Store.Path, embedded.Options{CasePrefix: town.CasePrefix, NoSync: true,
		Figures: core.FigureRule{Town: town, Rules: cfg.Rules()}, Search: search, Sealer: keys.sealer()})
	if err != nil {
		return nil, err
	}
	return &backend{store: st, close: st.Close, keys: keys}, nil
}

// settleAnnouncements marks everything the fill wrote as announced: the
// embedded outbox emptied, the Valkey stream trimmed past every group.
func settleAnnouncements(ctx context.Context, b *backend) error {
	switch st := b.store.(type) {
	case core.Outbox:
		for {
			evs, err := st.PendingEvents(ctx, 5000)
			if err != nil {
				return fmt.Errorf("fill: %w", err)
			}
			if len(evs) == 0 {
				return nil
			}
			seqs := make([]uint64, len(evs))
			for i, e := range evs {
				seqs[i] = e.Seq
			}
			if err := st.AckEvents(ctx, seqs...); err != nil {
				return fmt.Errorf("fill: %w", err)
			}
		}
	case interface{ SettleStream(context.Context) error }:
		return st.SettleStream(ctx)
	}
	return fmt.Errorf("fill: the store %T has no outbox to settle", b.store)
}
