package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"gridbot/core"
)

const guessUsage = `usage:
  gridbot guess figures [-config FILE]   the category guess month by month: cases filed on a
                                         guess, how many staff corrected, the share right;
                                         and how many corrections it learnt from
  gridbot guess reset   [-config FILE]   forget every correction learnt: the guess starts
                                         again from the configured cues (each running
                                         instance follows within its refresh, 30s)
`

// runGuess administers the category guess that learns from staff
// corrections (issue 16).
func runGuess(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "figures" && args[0] != "reset" {
		fmt.Fprint(env.Stderr, guessUsage)
		return errors.New("guess: want figures or reset")
	}
	cmd := args[0]
	fs := flag.NewFlagSet("guess "+cmd, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	configPath := fs.String("config", "", "YAML configuration file")
	townKey := townFlag(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	b, _, _, err := openConfiguredTown(ctx, *configPath, *townKey, env, "gridbot-guess")
	if err != nil {
		return fmt.Errorf("guess %s: %w (is gridbot serve running on the embedded store?)", cmd, err)
	}
	defer b.close()
	book := &core.GuessBook{Records: b.store}
	if cmd == "reset" {
		n, err := book.ResetExamples(ctx)
		if err != nil {
			return fmt.Errorf("guess reset: %w", err)
		}
		fmt.Fprintf(env.Stdout, "forgot %d corrections; the guess uses the configured cues alone until staff correct again\n", n)
		return nil
	}
	months, err := book.GuessMonths(ctx)
	if err != nil {
		return fmt.Errorf("guess figures: %w", err)
	}
	examples, err := book.Examples(ctx)
	if err != nil {
		return fmt.Errorf("guess figures: %w", err)
	}
	fmt.Fprintln(env.Stdout, "month    guessed  corrected  right")
	for _, m := range months {
		fmt.Fprintf(env.Stdout, "%s  %7d  %9d  %4.1f%%\n", m.Month, m.Guessed, m.Corrected, 100*float64(m.Right())/float64(max(m.Guessed, 1)))
	}
	fmt.Fprintf(env.Stdout, "corrections learnt from: %d\n", len(examples))
	return nil
}
