// Command gridbot is the one binary: `serve` runs the service, `demo` runs
// the whole product on one machine with the WeChat simulator, and `staff`
// helps administer accounts. Run wires the concrete parts together; it is the
// only place that does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	// The zone database inside the binary, so a town's time_zone resolves
	// on a server (or container) without /usr/share/zoneinfo.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()})
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "gridbot:", err)
		os.Exit(1)
	}
}

// Env is the outside world Run talks to, so tests can run it in-process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Environ        []string
	// Ready, when set, is called once the servers listen, with their URLs.
	Ready func(URLs)
}

// URLs are where a running gridbot can be reached.
type URLs struct {
	Console string // the staff console (and /api/)
	WeChat  string // the callback URL to give WeChat
	Phone   string // demo only: the simulator's phone page
	SimAPI  string // demo only: the simulator's API base
	WeCom   string // demo only: the WeCom simulator's page
	Admin   string // the admin listener, when there is one
}

const usage = `gridbot: a WeChat bot for a town's grid governance

usage:
  gridbot serve [-config FILE]     run the service
  gridbot demo  [-city] [-data DIR] [-addr HOST:PORT] [-sim-addr HOST:PORT]
                                   the whole product with the WeChat simulator
  gridbot staff COMMAND ...        administer staff (run gridbot staff for the list)
  gridbot backup  [-config FILE] -o FILE
                                   copy the embedded store (online, through admin.addr,
                                   when serve runs; else from the file)
  gridbot restore [-config FILE] -i FILE
                                   put a backup in place of the store (serve stopped)
  gridbot compact [-config FILE]
                                   rewrite the embedded store's file with its pages packed
                                   full (serve stopped): a years-deep ledger shrinks by a third
  gridbot export  [-config FILE] -since DAY [-until DAY] [-o FILE]
                                   cases and their events as JSON for other platforms
  gridbot fill    [-config FILE] -cases N [-years Y]
                                   write a synthetic history of N cases over Y years into an
                                   empty store (benchmarks; a demo with a past); serve stopped
  gridbot migrate [-config FILE]
                                   move what an older version kept in the store: photos and
                                   voice notes to media.store, records to one key each (serve
                                   does it at start too)
  gridbot guess figures|reset [-config FILE]
                                   the category guess: right guesses by month, or forget
                                   what it learnt from staff corrections
  gridbot templates check [-config FILE]
                                   compare the notice templates' mappings with the templates
                                   the account picked (WeChat's lists of them)
  gridbot audit verify|export [-config FILE]
                                   check the audit trail's hash chain, or export it as CSV
  gridbot keys new|rotate -file FILE | reseal [-config FILE]
                                   the data keys that seal personal data at rest (SM4): a new
                                   key file, a new key on top, old data sealed with the newest

A configuration with towns: (a city) serves them all with serve; export, staff, backup, restore,
compact, fill, audit, guess and migrate then take -town KEY.
`

// Run runs the subcommand in args until ctx is cancelled.
func Run(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], env)
	case "demo":
		return runDemo(ctx, args[1:], env)
	case "staff":
		return runStaff(ctx, args[1:], env)
	case "backup":
		return runBackup(ctx, args[1:], env)
	case "restore":
		return runRestore(ctx, args[1:], env)
	case "compact":
		return runCompact(ctx, args[1:], env)
	case "export":
		return runExport(ctx, args[1:], env)
	case "fill":
		return runFill(ctx, args[1:], env)
	case "guess":
		return runGuess(ctx, args[1:], env)
	case "templates":
		return runTemplates(ctx, args[1:], env)
	case "migrate":
		return runMigrate(ctx, args[1:], env)
	case "audit":
		return runAudit(ctx, args[1:], env)
	case "keys":
		return runKeys(ctx, args[1:], env)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(env.Stdout, usage)
		return nil
	}
	fmt.Fprint(env.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
