package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"gridbot/audit"
	"gridbot/core"
)

const auditUsage = `usage: gridbot audit COMMAND [-config FILE] [flags]

  verify                 walk the audit trail's hash chain: every record's SM3
                         hash, each record's link to the one before, and gaps in
                         the numbers. Exit status 1, naming each record at fault,
                         when a record was edited or deleted.
  export [-since DAY] [-until DAY] [-actor ID] [-action KIND] [-o FILE]
                         the records as CSV (UTF-8), newest first

With the embedded store, serve holds the file: take a backup (gridbot backup
-o FILE) and point GRIDBOT_STORE_PATH at it, or stop serve. With Valkey the
commands run beside the instances.
`

// runAudit checks and exports the audit trail.
func runAudit(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, auditUsage)
		return errors.New("audit: want a command")
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("audit "+cmd, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	configPath := fs.String("config", "", "YAML configuration file")
	townKey := townFlag(fs)
	sinceText := fs.String("since", "", "export: first day (in the town's time zone) or RFC 3339 time")
	untilText := fs.String("until", "", "export: end, exclusive")
	actor := fs.String("actor", "", "export: only this actor")
	action := fs.String("action", "", "export: only this kind of event (login, view_case, export, admin, …)")
	out := fs.String("o", "", "export: output file (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cmd != "verify" && cmd != "export" {
		fmt.Fprint(env.Stderr, auditUsage)
		return fmt.Errorf("audit: unknown command %q", cmd)
	}
	b, town, _, err := openConfiguredTown(ctx, *configPath, *townKey, env, "gridbot-audit")
	if err != nil {
		return fmt.Errorf("audit %s: %w (with the embedded store, run it on a backup while serve runs)", cmd, err)
	}
	defer b.close()
	trail := &audit.Trail{Store: b.store}
	if cmd == "verify" {
		rep, err := trail.Verify(ctx)
		if err != nil {
			return fmt.Errorf("audit verify: %w", err)
		}
		for _, br := range rep.Breaks {
			fmt.Fprintf(env.Stdout, "record %d: %s\n", br.Seq, br.Reason)
		}
		fmt.Fprintf(env.Stdout, "%d records checked (%d to %d); last hash %s\n", rep.Records, rep.First, rep.Last, rep.Head)
		if !rep.OK() {
			return fmt.Errorf("audit verify: the trail was altered: %d break(s)", len(rep.Breaks))
		}
		fmt.Fprintln(env.Stdout, "the chain is whole")
		return nil
	}
	q := core.AuditQuery{Actor: *actor, Action: core.AuditAction(*action)}
	if *sinceText != "" {
		if q.From, err = parseWhen(*sinceText, town.Zone()); err != nil {
			return fmt.Errorf("audit export -since: %w", err)
		}
	}
	if *untilText != "" {
		if q.To, err = parseWhen(*untilText, town.Zone()); err != nil {
			return fmt.Errorf("audit export -until: %w", err)
		}
	}
	recs, _, err := trail.Search(ctx, q, 1<<30)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	w := env.Stdout
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		defer f.Close()
		w = f
	}
	if err := audit.WriteCSV(w, recs, town.Zone()); err != nil {
		return err
	}
	// Reading the trail is itself audited.
	return trail.Record(ctx, core.AuditRecord{Actor: core.AuditCLI + cliUser(env.Environ), Action: core.AuditReadAudit,
		Object: "gridbot audit export", Detail: fmt.Sprintf("%d records", len(recs)), At: time.Now()})
}

// cliUser names who runs a command on the server, for the audit trail.
func cliUser(environ []string) string {
	for _, k := range []string{"SUDO_USER=", "USER=", "LOGNAME="} {
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, k); ok && v != "" {
				return v
			}
		}
	}
	return fmt.Sprint(os.Getuid())
}

// warnAdministration logs each of the three administrators (三权分立) the
// town has no account for: a town's directory from before them keeps
// working, its town role doing case work only, until one is added (in the
// directory file, or gridbot staff add -role sysadmin|auditor|security).
func warnAdministration(town *core.Town, log interface {
	Warn(msg string, args ...any)
}) {
	for _, role := range []core.Role{core.RoleSysAdmin, core.RoleAuditAdmin, core.RoleSecAdmin} {
		found := false
		for _, s := range town.Staff {
			found = found || (s.Role == role && !s.Disabled)
		}
		if !found {
			log.Warn("no account holds an administrator's role: add one to the town directory or with gridbot staff add",
				"role", string(role))
		}
	}
}
