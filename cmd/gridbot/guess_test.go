package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gridbot/core"
)

// TestGuessCommands: figures show the month's share of right guesses and
// the corrections learnt; reset forgets the corrections.
func TestGuessCommands(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "gridbot.yaml")
	cfg := "store:\n  path: " + filepath.Join(dir, "gridbot.db") + "\ntown:\n  directory: ../../configs/town.yaml\n  categories: ../../configs/categories.yaml\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, _, _, err := openConfigured(ctx, cfgPath, Env{Stderr: &bytes.Buffer{}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	book := &core.GuessBook{Records: b.store}
	for i, n := range []string{"ST1", "ST2", "ST3", "ST4"} {
		if err := book.NoteGuessed(ctx, n, "env", "2026-11"); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := book.NoteCorrected(ctx, n); err != nil {
				t.Fatal(err)
			}
			if err := book.AddExample(ctx, core.Example{Key: "1", Grams: core.GuessGrams("猪栏好臭"), Category: "farm", Case: n}); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.close()
	run := func(args ...string) string {
		t.Helper()
		var out, errs bytes.Buffer
		if err := Run(ctx, append([]string{"guess"}, args...), Env{Stdout: &out, Stderr: &errs}); err != nil {
			t.Fatalf("guess %v: %v %s", args, err, errs.String())
		}
		return out.String()
	}
	if out := run("figures", "-config", cfgPath); !strings.Contains(out, "2026-11        4          1  75.0%") || !strings.Contains(out, "learnt from: 1") {
		t.Errorf("figures:\n%s", out)
	}
	if out := run("reset", "-config", cfgPath); !strings.Contains(out, "forgot 1") {
		t.Errorf("reset: %s", out)
	}
	if out := run("figures", "-config", cfgPath); !strings.Contains(out, "learnt from: 0") {
		t.Errorf("figures after reset:\n%s", out)
	}
	if err := Run(ctx, []string{"guess", "forget"}, Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}); err == nil {
		t.Error("an unknown guess command was accepted")
	}
}
