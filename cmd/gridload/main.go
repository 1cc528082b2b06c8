// Command gridload is gridbot's load generator. It builds and starts gridbot
// processes on 127.0.0.1 (embedded; Valkey with two instances on a private
// redis-server), plays WeChat's servers at speed against them, connects staff
// consoles, and reports every figure beside a baseline bot written with the
// silenceper/wechat SDK alone, measured in the same run:
//
//	go run ./cmd/gridload                      # the benchmark, a few minutes
//	go run ./cmd/gridload -soak 2m             # the soak with faults injected
//	go run ./cmd/gridload -ledger 10000,100000 # a years-deep ledger, timed
//
// Every run stops by itself; see docs/benchmarks.md for the figures and the
// exact commands. The hidden subcommand `gridload baseline` is the baseline
// bot itself, started by gridload as its own process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gridbot/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "gridload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "baseline" {
		return runBaseline(ctx, args[1:], stderr)
	}
	fs := flag.NewFlagSet("gridload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repo := fs.String("repo", ".", "the gridbot repository (configs/ and the source to build)")
	bin := fs.String("gridbot", "", "a built gridbot binary (default: build one from -repo)")
	phase := fs.Duration("phase", 8*time.Second, "length of each throughput phase")
	workers := fs.Int("c", 32, "residents sending at once")
	rate := fs.Int("confirm-rate", 100, "new cases a second in the 确认 → console phase")
	confirmFor := fs.Duration("confirm-for", 5*time.Second, "length of the 确认 → console phase")
	consoles := fs.Int("consoles", 5000, "console websockets held open on one instance (0 skips)")
	fanoutCases := fs.Int("fanout-cases", 10, "cases filed while the consoles are open")
	modes := fs.String("modes", "embedded,valkey", "deployments to measure: embedded, valkey, or consoles (only the 5,000-console phase); with -ledger also valkey-cluster (three masters started here, the town under its own hash tag)")
	pprofDir := fs.String("pprof", "", "directory for CPU and heap profiles of the instances")
	soak := fs.Duration("soak", 0, "instead of the benchmark, a soak run with faults injected, this long (at most 10m)")
	level := fs.String("log-level", "info", "gridbot's log.level")
	ledger := fs.String("ledger", "", "instead of the benchmark, the years-deep ledger: fill each store with these many cases (e.g. 10000,100000) and time what people do")
	ledgerYears := fs.Int("ledger-years", 3, "the years a -ledger history spans")
	reps := fs.Int("reps", 5, "timings of each -ledger figure (the median is reported)")
	ledgerStaff := fs.Int("ledger-staff", 0, "with -ledger: this many staff browse queues and figures without pause while residents walk the intake (issue 21's public first)")
	ledgerResidents := fs.Int("ledger-residents", 8, "with -ledger-staff: residents walking the intake at once")
	ledgerStaffFor := fs.Duration("ledger-staff-for", 30*time.Second, "with -ledger-staff: how long")
	ledgerStaffSlots := fs.Int("ledger-staff-slots", 0, "with -ledger: gridbot's console.staff_slots, how many console requests run at once (0: one per CPU but one)")
	dataKeys := fs.Bool("data-keys", false, "run every gridbot with a key file: personal data sealed at rest with SM4 (issue 20)")
	keep := fs.String("dir", "", "the run's folder, kept after it (a temporary one otherwise): with -ledger, a store filled there by an earlier run is measured again without filling")
	selfProfile := fs.String("self-profile", "", "write the load generator's own CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *selfProfile != "" {
		f, err := os.Create(*selfProfile)
		if err != nil {
			return fmt.Errorf("gridload: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("gridload: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("gridload: %w", err)
	}
	setup := loadtest.SetupOptions{Repo: *repo, GridbotBin: *bin, BaselineCmd: []string{self, "baseline"},
		Log: stderr, LogLevel: *level, DataKeys: *dataKeys, Dir: *keep}
	if *ledger != "" {
		var sizes []int
		for _, f := range strings.Split(*ledger, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 || n > 10_000_000 {
				return fmt.Errorf("-ledger: %q is not a number of cases (1…10,000,000)", f)
			}
			sizes = append(sizes, n)
		}
		rep, err := loadtest.Ledger(ctx, loadtest.LedgerOptions{Setup: setup, Sizes: sizes, Years: *ledgerYears,
			Modes: strings.Split(*modes, ","), Reps: *reps, Staff: *ledgerStaff, Residents: *ledgerResidents, StaffFor: *ledgerStaffFor,
			StaffSlots: *ledgerStaffSlots, PprofDir: *pprofDir})
		if rep != nil {
			rep.Markdown(stdout)
		}
		return err
	}
	if *soak > 0 {
		if *soak > 10*time.Minute {
			return errors.New("-soak is bounded at 10m")
		}
		rep, err := loadtest.Soak(ctx, loadtest.SoakOptions{Setup: setup, Duration: *soak, Workers: *workers})
		if err != nil {
			return err
		}
		rep.Markdown(stdout)
		if rep.Lost > 0 || rep.Duplicated > 0 {
			return fmt.Errorf("soak: %d lost, %d duplicated", rep.Lost, rep.Duplicated)
		}
		return nil
	}
	rep, err := loadtest.Run(ctx, loadtest.Options{Setup: setup, Phase: *phase, Workers: *workers,
		ConfirmRate: *rate, ConfirmFor: *confirmFor, Consoles: *consoles, FanoutCases: *fanoutCases,
		Modes: strings.Split(*modes, ","), PprofDir: *pprofDir})
	if err != nil {
		return err
	}
	rep.Markdown(stdout)
	return nil
}

// runBaseline serves the baseline bot; gridload passes the secrets in the
// environment, not on the command line.
func runBaseline(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "loopback address to serve on")
	appID := fs.String("appid", "wxgridload", "the AppID")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return loadtest.ServeBaseline(ctx, *addr, loadtest.BaselineConfig{AppID: *appID,
		AppSecret: os.Getenv("GRIDLOAD_APP_SECRET"), Token: os.Getenv("GRIDLOAD_TOKEN"), AESKey: os.Getenv("GRIDLOAD_AES_KEY")})
}
