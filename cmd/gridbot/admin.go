package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gridbot/audit"
	"gridbot/configs"
	"gridbot/core"
	"gridbot/export"
	"gridbot/store/embedded"
)

// adminHandler serves the administrative endpoints on the loopback-only
// admin listener: an online, consistent backup of the embedded store, and
// the Go profiler (net/http/pprof under /debug/pprof/), so a running
// instance can be profiled under load without a rebuild. Every request
// needs the admin token (adminGuard).
func (a *app) adminHandler() http.Handler {
	return adminGuard(a.adminToken, adminMux(a.serveBackup))
}

// listenAdmin opens the admin listener, when admin.addr names one, and
// loads its token (made, in a file, on first start); nil without one.
func listenAdmin(cfg *configs.Config) (net.Listener, string, error) {
	if cfg.Admin.Addr == "" {
		return nil, "", nil
	}
	ln, err := net.Listen("tcp", cfg.Admin.Addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen on admin.addr %s: %w", cfg.Admin.Addr, err)
	}
	token, err := loadAdminToken(cfg)
	if err != nil {
		ln.Close()
		return nil, "", err
	}
	return ln, token, nil
}

// serveAdmin serves h on the admin listener ln, if any, until the returned
// stop is called.
func serveAdmin(ln net.Listener, h http.Handler) (stop func()) {
	if ln == nil {
		return func() {}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }
}

// adminMux is the admin endpoints, a town's or a city's: the profiler and
// GET /backup.
func adminMux(backup http.HandlerFunc) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /backup", backup)
	return mux
}

// serveBackup writes a consistent copy of the app's embedded store.
func (a *app) serveBackup(w http.ResponseWriter, r *http.Request) {
	st, ok := a.backend.store.(*embedded.Store)
	if !ok {
		http.Error(w, "the Valkey store is backed up on the server: see the README (BGSAVE or the AOF)", http.StatusNotImplemented)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	rec := core.AuditRecord{Actor: "admin-token", Addr: r.RemoteAddr, Action: core.AuditBackup, Object: "GET /backup"}
	// Recorded before the copy is taken, so the copy holds its own record.
	rec.Detail = "在线备份（管理端口）"
	if err := a.trail.Record(r.Context(), rec); err != nil {
		http.Error(w, "the audit trail cannot be written", http.StatusInternalServerError)
		return
	}
	if n, err := st.WriteBackup(w); err != nil {
		a.log.Error("backup failed", "written", n, "err", err)
		return
	}
	a.log.Info("backup written")
}

// adminGuard lets a request through only with the bearer token and a
// loopback Host. The listener is on loopback, but any web page the
// operator's browser opens can make requests there, and a name the
// attacker controls can resolve to 127.0.0.1 (DNS rebinding): the Host
// check refuses those names, the token everything else.
func adminGuard(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			http.Error(w, "the admin endpoints answer only to a loopback Host", http.StatusMisdirectedRequest)
			return
		}
		got := []byte(r.Header.Get("Authorization"))
		if token == "" || subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gridbot admin"`)
			http.Error(w, "the admin token is required (Authorization: Bearer, see admin.token_file)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names this machine's loopback:
// localhost or a loopback address, with or without a port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// adminTokenBytes is the size of a generated admin token, before encoding.
const adminTokenBytes = 32

// loadAdminToken returns admin.token, or the token in the token file,
// creating the file with a random token (mode 0600) when it is missing.
func loadAdminToken(cfg *configs.Config) (string, error) {
	if cfg.Admin.Token != "" {
		return cfg.Admin.Token, nil
	}
	path := cfg.AdminTokenFile()
	if token, err := readAdminToken(cfg); err == nil {
		return token, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, adminTokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	token := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return readAdminToken(cfg) // another process made it first
	}
	if err != nil {
		return "", fmt.Errorf("admin token file: %w (set admin.token or admin.token_file)", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("admin token file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("admin token file: %w", err)
	}
	return token, nil
}

// readAdminToken returns admin.token, or the token in the token file.
func readAdminToken(cfg *configs.Config) (string, error) {
	if cfg.Admin.Token != "" {
		return cfg.Admin.Token, nil
	}
	data, err := os.ReadFile(cfg.AdminTokenFile())
	if err != nil {
		return "", fmt.Errorf("admin token file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if len(token) < 16 {
		return "", fmt.Errorf("admin token file %s: the token is shorter than 16 characters", cfg.AdminTokenFile())
	}
	return token, nil
}

// embeddedConfig loads the configuration of the commands that work on the
// embedded store's file (a city's town by townKey), and refuses a Valkey
// store with onValkey, which says where that is done instead.
func embeddedConfig(configPath, townKey string, env Env, onValkey string) (*configs.Config, error) {
	cfg, err := configs.Load(configPath, env.Environ)
	if err != nil {
		return nil, err
	}
	if cfg, err = townConfig(cfg, townKey); err != nil {
		return nil, err
	}
	if cfg.Store.Kind != "embedded" {
		return nil, errors.New(onValkey)
	}
	return cfg, nil
}

// runBackup copies the embedded store to a file: from the running instance
// through its admin endpoint when it is up (the file is locked while it
// runs), else straight from the file.
func runBackup(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	configPath := fs.String("config", "", "YAML configuration file")
	out := fs.String("o", "", "the backup file to write")
	townKey := townFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: -o FILE is required")
	}
	cfg, err := embeddedConfig(*configPath, *townKey, env,
		"backup: the Valkey store is backed up on the server (BGSAVE, or copy the AOF): see the README")
	if err != nil {
		return err
	}
	tmp := *out + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp)
	from, err := backupOnline(ctx, cfg, *townKey, f)
	if err != nil {
		if _, serr := f.Seek(0, io.SeekStart); serr != nil {
			return serr
		}
		f.Truncate(0)
		from, err = backupOffline(cfg.Store.Path, cliUser(env.Environ), f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	check, err := embedded.Open(tmp, embedded.Options{CasePrefix: "CHECK", Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("backup: the copy does not open: %w", err)
	}
	if err := check.Close(); err != nil {
		return fmt.Errorf("backup: the copy: %w", err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(env.Stdout, "backup of %s written to %s\n", from, *out)
	return nil
}

// backupOnline asks the running instance's admin listener for the copy:
// of the town named (a city's listener serves each town's), or of the one
// town without towns.
func backupOnline(ctx context.Context, cfg *configs.Config, townKey string, w io.Writer) (string, error) {
	addr := cfg.Admin.Addr
	if addr == "" {
		return "", errors.New("no admin.addr")
	}
	token, err := readAdminToken(cfg)
	if err != nil {
		return "", err
	}
	target := "http://" + addr + "/backup"
	if townKey != "" {
		target += "?town=" + url.QueryEscape(townKey)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("admin endpoint: %s", resp.Status)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return "", err
	}
	return "the running instance", nil
}

func backupOffline(path, user string, w io.Writer) (string, error) {
	st, err := embedded.Open(path, embedded.Options{CasePrefix: "BACKUP", Timeout: time.Second})
	if err != nil {
		return "", err
	}
	defer st.Close()
	// Recorded before the copy is taken, so the copy holds its own record.
	if err := (&audit.Trail{Store: st}).Record(context.Background(), core.AuditRecord{Actor: core.AuditCLI + user,
		Action: core.AuditBackup, Object: "gridbot backup", Detail: "离线备份（服务未运行）"}); err != nil {
		return "", err
	}
	_, err = st.WriteBackup(w)
	return path, err
}

// runRestore puts a backup in place of the store file. The instance must be
// stopped: the file is locked while it runs.
func runRestore(_ context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	configPath := fs.String("config", "", "YAML configuration file")
	in := fs.String("i", "", "the backup file to restore")
	townKey := townFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("restore: -i FILE is required")
	}
	cfg, err := embeddedConfig(*configPath, *townKey, env,
		"restore: the Valkey store is restored on the server (its RDB or AOF): see the README")
	if err != nil {
		return err
	}
	src, err := os.Open(*in)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer src.Close()
	tmp := filepath.Join(filepath.Dir(cfg.Store.Path), "."+filepath.Base(cfg.Store.Path)+".restore")
	dst, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(tmp)
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("restore: %w", err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fmt.Errorf("restore: %w", err)
	}
	dst.Close()
	check, err := embedded.Open(tmp, embedded.Options{CasePrefix: "CHECK", Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("restore: %s is not a gridbot store: %w", *in, err)
	}
	check.Close()
	// Refuse to pull the file from under a running instance.
	if live, err := embedded.Open(cfg.Store.Path, embedded.Options{CasePrefix: "CHECK", Timeout: time.Second}); err != nil && !errors.Is(err, os.ErrNotExist) {
		if strings.Contains(err.Error(), "timeout") {
			return fmt.Errorf("restore: %s is in use: stop gridbot first", cfg.Store.Path)
		}
	} else if err == nil {
		live.Close()
	}
	if err := os.Rename(tmp, cfg.Store.Path); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(env.Stdout, "restored %s from %s\n", cfg.Store.Path, *in)
	return nil
}

// runCompact rewrites the embedded store's file with its pages packed full.
// The instance must be stopped: the file is locked while it runs.
func runCompact(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("compact", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	configPath := fs.String("config", "", "YAML configuration file")
	townKey := townFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := embeddedConfig(*configPath, *townKey, env,
		"compact: only the embedded store's file is compacted; Valkey keeps its memory itself")
	if err != nil {
		return err
	}
	done, err := embedded.CompactFile(ctx, cfg.Store.Path)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "compacted %s: %.1f MiB → %.1f MiB in %s\n", cfg.Store.Path,
		float64(done.Before)/(1<<20), float64(done.After)/(1<<20), done.Took.Round(time.Millisecond))
	return nil
}

// runExport writes cases and their events for a time range as JSON.
func runExport(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	configPath := fs.String("config", "", "YAML configuration file")
	townKey := townFlag(fs)
	sinceText := fs.String("since", "", "first day (2026-11-01, in the town's time zone) or RFC 3339 time")
	untilText := fs.String("until", "", "end, exclusive (default: now)")
	out := fs.String("o", "", "output file (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, town, _, err := openConfiguredTown(ctx, *configPath, *townKey, env, "gridbot-export")
	if err != nil {
		return fmt.Errorf("export: %w (with the embedded store, export from a backup while serve runs)", err)
	}
	defer b.close()
	since, err := parseWhen(*sinceText, town.Zone())
	if err != nil {
		return fmt.Errorf("export -since: %w", err)
	}
	until := time.Now()
	if *untilText != "" {
		if until, err = parseWhen(*untilText, town.Zone()); err != nil {
			return fmt.Errorf("export -until: %w", err)
		}
	}
	w := env.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer f.Close()
		w = f
	}
	err = export.Write(ctx, w, b.store, town, since, until)
	rec := core.AuditRecord{Actor: core.AuditCLI + cliUser(env.Environ), Action: core.AuditExport, Object: "gridbot export",
		Detail: "导出 " + since.Format(time.RFC3339) + " 至 " + until.Format(time.RFC3339)}
	if err != nil {
		rec.Outcome = core.AuditFailed
	}
	if aerr := (&audit.Trail{Store: b.store}).Record(ctx, rec); err == nil {
		err = aerr
	}
	return err
}

// parseWhen reads a day (in the town's zone) or an RFC 3339 time.
func parseWhen(s string, zone *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("required")
	}
	if t, err := time.ParseInLocation("2006-01-02", s, zone); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}
