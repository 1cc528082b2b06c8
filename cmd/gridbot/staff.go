package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// runStaff administers staff accounts. Accounts live in the town directory,
// so for now this prints what to put there.
func runStaff(_ context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "hash-password" {
		fmt.Fprint(env.Stderr, usage)
		return errors.New("staff: want hash-password")
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("staff hash-password: read the password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if len(password) < 8 {
		return errors.New("staff hash-password: use at least 8 characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("staff hash-password: %w", err)
	}
	fmt.Fprintln(env.Stdout, string(hash))
	return nil
}
