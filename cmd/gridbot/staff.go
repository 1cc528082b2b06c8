package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/crypto/bcrypt"

	"gridbot/audit"
	"gridbot/console"
	"gridbot/core"
)

const staffUsage = `usage: gridbot staff COMMAND [-config FILE] ARGS

  hash-password                      read a password on stdin, print its bcrypt hash
                                     (for password_hash in the town directory)
  list                               list staff: the directory with the runtime changes
  add -id ID -name NAME -role ROLE [-village V] [-department D]
                                     add an account; the password is read on stdin
  disable ID | enable ID             stop or restore an account's login and duty
  reset-password ID                  set a new password, read on stdin
  set-post GRID A|B ID               put grid leader ID on post A or B of GRID
  bind-code ID                       print a code ID sends the account or the WeCom app (绑定 CODE)
                                     to link their WeChat

Flags come before the arguments. The commands open the store of -config (as
serve does) and change it: accounts made here and on the console live in the
store, laid over the town directory. The embedded store's file is locked
while gridbot serve runs, so stop it first (or use the console); with Valkey
the running instances pick the change up.
`

// runStaff administers staff accounts.
func runStaff(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, staffUsage)
		return errors.New("staff: want a command")
	}
	cmd, args := args[0], args[1:]
	if cmd == "hash-password" {
		password, err := readPassword(env.Stdin)
		if err != nil {
			return fmt.Errorf("staff hash-password: %w", err)
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
		if err != nil {
			return fmt.Errorf("staff hash-password: %w", err)
		}
		fmt.Fprintln(env.Stdout, string(hash))
		return nil
	}
	fs := flag.NewFlagSet("staff "+cmd, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	configPath := fs.String("config", "", "YAML configuration file")
	townKey := townFlag(fs)
	id := fs.String("id", "", "add: the login")
	name := fs.String("name", "", "add: the person's name")
	role := fs.String("role", "", "add: town, village, department or grid; or sysadmin, auditor, security (三权分立)")
	village := fs.String("village", "", "add: the village ID (village and grid roles)")
	department := fs.String("department", "", "add: the department ID (department role)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	want := map[string]int{"list": 0, "add": 0, "disable": 1, "enable": 1, "reset-password": 1, "set-post": 3, "bind-code": 1}
	n, known := want[cmd]
	if !known {
		fmt.Fprint(env.Stderr, staffUsage)
		return fmt.Errorf("staff: unknown command %q", cmd)
	}
	if fs.NArg() != n {
		fmt.Fprint(env.Stderr, staffUsage)
		return fmt.Errorf("staff %s: want %d argument(s) after the flags", cmd, n)
	}
	a := fs.Args()

	var plain, password string
	if cmd == "add" || cmd == "reset-password" {
		p, err := readPassword(env.Stdin)
		if err != nil {
			return fmt.Errorf("staff %s: %w", cmd, err)
		}
		plain = p
	}

	b, town, cfg, err := openConfiguredTown(ctx, *configPath, *townKey, env, "gridbot-staff")
	if err != nil {
		return fmt.Errorf("staff %s: %w (is gridbot serve running on the embedded store?)", cmd, err)
	}
	defer b.close()
	book, err := core.NewStaffBook(ctx, town, b.store)
	if err != nil {
		return fmt.Errorf("staff %s: %w", cmd, err)
	}
	const actor = "cli"
	policy := cfg.Security.PasswordPolicy()
	if plain != "" {
		if password, err = newPasswordHash(policy, book.Town().StaffMember(strings.Join(a, "")), plain); err != nil {
			return fmt.Errorf("staff %s: %w", cmd, err)
		}
	}
	now := time.Now()
	switch cmd {
	case "list":
		return listStaff(env.Stdout, book.Town())
	case "add":
		err = book.AddStaff(ctx, actor, core.StaffAccount{ID: *id, Name: *name, Role: core.Role(*role),
			Village: *village, Department: *department, PasswordHash: password, PasswordSetAt: now})
	case "disable", "enable":
		err = book.UpdateStaff(ctx, actor, a[0], cmd, func(s *core.StaffAccount) { s.Disabled = cmd == "disable" })
	case "reset-password":
		err = book.UpdateStaff(ctx, actor, a[0], "password", func(s *core.StaffAccount) { s.SetPassword(policy, password, now) })
	case "set-post":
		err = book.SetPost(ctx, actor, a[0], core.Post(strings.ToUpper(a[1])), a[2])
	case "bind-code":
		roster := &core.Roster{Town: book, Records: b.store, Keys: b.store, CodeTTL: cfg.Staff.BindCodeTTL}
		code, err := roster.IssueBindCode(ctx, a[0])
		rec := core.AuditRecord{Actor: core.AuditCLI + cliUser(env.Environ), Action: core.AuditAdmin, Object: a[0],
			Detail: "gridbot staff bind-code"}
		if err != nil {
			rec.Outcome = core.AuditRefused
		}
		if aerr := (&audit.Trail{Store: b.store}).Record(ctx, rec); err == nil {
			err = aerr
		}
		if err != nil {
			return fmt.Errorf("staff bind-code: %w", err)
		}
		ttl := cfg.Staff.BindCodeTTL
		if ttl <= 0 {
			ttl = core.DefaultBindCodeTTL
		}
		fmt.Fprintf(env.Stdout, "%s\n(valid %s: the staff member sends 绑定 %s to the official account, or in the WeCom app)\n", code, ttl, code)
		return nil
	}
	if err == nil && (cmd == "disable" || cmd == "enable" || cmd == "reset-password") {
		// Their console sessions end, on every instance sharing the store.
		err = console.EndSessions(ctx, b.store, nil, a[0])
	}
	// Every change made here is on the audit trail, refused or done.
	rec := core.AuditRecord{Actor: core.AuditCLI + cliUser(env.Environ), Action: core.AuditAdmin,
		Detail: "gridbot staff " + cmd + " " + strings.Join(a, " ")}
	if cmd == "add" {
		rec.Object, rec.Detail = *id, rec.Detail+"（角色 "+*role+"）"
	} else if len(a) > 0 {
		rec.Object = a[0]
	}
	if err != nil {
		rec.Outcome = core.AuditRefused
	}
	if aerr := (&audit.Trail{Store: b.store}).Record(ctx, rec); err == nil && aerr != nil {
		err = aerr
	}
	if err != nil {
		return fmt.Errorf("staff %s: %w", cmd, err)
	}
	fmt.Fprintf(env.Stdout, "staff %s: done\n", cmd)
	return nil
}

// newPasswordHash checks plain against the policy (and target's last
// passwords, for a reset) and hashes it.
func newPasswordHash(policy core.PasswordPolicy, target *core.Staff, plain string) (string, error) {
	if err := policy.Check(plain); err != nil {
		return "", fmt.Errorf("the password does not fit the policy (%s): %w", policy.Rule(), err)
	}
	if target != nil {
		for _, h := range target.PasswordHashes(policy) {
			if bcrypt.CompareHashAndPassword([]byte(h), []byte(plain)) == nil {
				return "", fmt.Errorf("the password is one of the last %d: %w", max(policy.History, 1), core.ErrInvalid)
			}
		}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(plain), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	return string(hash), nil
}

func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if len(password) < 8 || len(password) > 72 {
		return "", errors.New("use 8 to 72 bytes for the password")
	}
	return password, nil
}

func listStaff(w io.Writer, town *core.Town) error {
	posts := map[string][]string{}
	for _, g := range town.Grids {
		posts[g.LeaderA] = append(posts[g.LeaderA], g.ID+":A")
		posts[g.LeaderB] = append(posts[g.LeaderB], g.ID+":B")
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tVILLAGE/DEPT\tPOSTS\tLOGIN")
	for _, s := range town.Staff {
		login := "no password"
		switch {
		case s.Disabled:
			login = "disabled"
		case s.PasswordHash != "":
			login = "yes"
		}
		unit := s.Village
		if s.Department != "" {
			unit = s.Department
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Name, s.Role, unit, strings.Join(posts[s.ID], " "), login)
	}
	return tw.Flush()
}
