package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"gridbot/sealing"
	"gridbot/wechatsim"
)

// SetupOptions configures a Setup.
type SetupOptions struct {
	// Repo is the gridbot repository (for configs/ and for building); "."
	// by default.
	Repo string
	// GridbotBin is a built gridbot binary; empty builds one from Repo.
	GridbotBin string
	// BaselineCmd starts the baseline bot; the setup appends -addr and the
	// credentials as flags. Empty disables the baseline.
	BaselineCmd []string
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// LogLevel of the gridbot instances; "" means info.
	LogLevel string
	// DataKeys runs every instance with one key file (crypto.key_file):
	// personal data sealed at rest, as a town's service runs.
	DataKeys bool
	// Dir, when set, is the run's directory, kept after it (a temporary
	// one otherwise, removed): a ledger filled there once is measured again
	// by later runs with newer code, as a million cases take hours to fill.
	Dir string
}

// Setup is a run's world: a directory, the simulated WeChat API the bots
// push to, the account, the town with a known console password, and the
// processes started, which Close stops.
type Setup struct {
	opt      SetupOptions
	Dir      string
	Account  WeChatAccount
	API      *wechatsim.Sim
	APIURL   string
	Password string // the console password of town-admin and the L10 leaders
	keyFile  string // the instances' data keys, with SetupOptions.DataKeys
	apiSrv   *http.Server
	town     string
	bin      string
	procs    []*Process
}

// NewSetup builds what is needed and starts the simulated API.
func NewSetup(ctx context.Context, opt SetupOptions) (*Setup, error) {
	if opt.Repo == "" {
		opt.Repo = "."
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	dir := opt.Dir
	var err error
	if dir == "" {
		dir, err = os.MkdirTemp("", "gridload-")
	} else {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	s := &Setup{opt: opt, Dir: dir, bin: opt.GridbotBin}
	s.Account = WeChatAccount{AppID: "wxgridload", AppSecret: randomHex(12), Token: randomHex(8),
		AESKey: base64.StdEncoding.EncodeToString(randomBytes(32))[:43]}
	s.Password = randomHex(8)
	if opt.DataKeys {
		s.keyFile = filepath.Join(dir, "data-keys")
		if _, err := os.Stat(s.keyFile); err == nil && opt.Dir != "" {
			// A kept ledger was sealed with these keys.
		} else if err := os.WriteFile(s.keyFile, []byte(sealing.NewFile()), 0o600); err != nil {
			s.Close()
			return nil, fmt.Errorf("setup: %w", err)
		}
	}
	if err := s.writeTown(); err != nil {
		s.Close()
		return nil, err
	}
	if s.bin == "" {
		s.bin = filepath.Join(dir, "gridbot")
		fmt.Fprintln(opt.Log, "building gridbot …")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", s.bin, "./cmd/gridbot")
		cmd.Dir = opt.Repo
		if out, err := cmd.CombinedOutput(); err != nil {
			s.Close()
			return nil, fmt.Errorf("go build ./cmd/gridbot: %w: %s", err, out)
		}
	}
	// WeChat's API as the bots see it: tokens, customer-service and
	// template sends, with today's quota and template rules.
	s.API = wechatsim.New(wechatsim.Config{Token: s.Account.Token, AppID: s.Account.AppID,
		AppSecret: s.Account.AppSecret, Templates: wechatsim.Library()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("setup: %w", err)
	}
	s.APIURL = "http://" + ln.Addr().String()
	s.apiSrv = &http.Server{Handler: s.API.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go s.apiSrv.Serve(ln)
	return s, nil
}

// writeTown copies the sample town with password hashes for the console
// logins the run uses.
func (s *Setup) writeTown() error {
	raw, err := os.ReadFile(filepath.Join(s.opt.Repo, "configs", "town.yaml"))
	if err != nil {
		return fmt.Errorf("setup: the sample town: %w", err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(s.Password), bcrypt.MinCost)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	text := string(raw)
	for _, id := range []string{"town-admin", "gl-L10-a", "gl-L10-b"} {
		re := regexp.MustCompile(`(\{id: ` + id + `, [^}]*)\}`)
		if !re.MatchString(text) {
			return fmt.Errorf("setup: staff %s not found in the sample town", id)
		}
		text = re.ReplaceAllString(text, "${1}, password_hash: \""+strings.ReplaceAll(string(hash), "$", "$$")+"\"}")
	}
	s.town = filepath.Join(s.Dir, "town.yaml")
	return os.WriteFile(s.town, []byte(text), 0o600)
}

// Bin is the gridbot binary the setup runs.
func (s *Setup) Bin() string { return s.bin }

// InstanceOptions configures one gridbot instance.
type InstanceOptions struct {
	Safe bool
	// Valkey, when set, runs on the Valkey store at this address (or
	// these, comma-separated: a cluster's), with Prefix and Tag
	// (valkey.tag; "" keeps the default).
	Valkey, Prefix, Tag string
	// ClaimIdle is valkey.claim_idle ("" keeps the default).
	ClaimIdle string
	// Extra is appended to the configuration file.
	Extra string
	// JoinRadiusM is dialog.join_radius_m (0: 附议 off).
	JoinRadiusM int
}

// Instance is a gridbot serve process.
type Instance struct {
	*Process
	Base  string // http://host:port of the console and callback
	Admin string // host:port of the admin listener (pprof)
	// AdminToken is the admin listener's bearer token.
	AdminToken string
	// Config is the instance's configuration file.
	Config string
	// Open311Key is the instance's Open311 API key (channel gridload),
	// which its reads need.
	Open311Key string
	argv       []string
	env        []string
	setup      *Setup
}

// Gridbot writes a configuration and starts `gridbot serve` with it.
func (s *Setup) Gridbot(ctx context.Context, name string, o InstanceOptions) (*Instance, error) {
	in, err := s.GridbotConfig(name, o)
	if err != nil {
		return nil, err
	}
	if err := in.Start(ctx, name); err != nil {
		return nil, err
	}
	fmt.Fprintf(s.opt.Log, "gridbot %s: pid %d, %s, admin and pprof on %s, ready in %s\n", name, in.Pid(), in.Base, in.Admin, in.Ready.Round(time.Millisecond))
	return in, nil
}

// GridbotConfig writes an instance's configuration and returns the
// instance, not started: what runs on its store before serve (gridbot
// fill) runs with Command.
func (s *Setup) GridbotConfig(name string, o InstanceOptions) (*Instance, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	admin, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	adminToken := hex.EncodeToString(token)
	dir := filepath.Join(s.Dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("instance %s: %w", name, err)
	}
	aes := ""
	if o.Safe {
		aes = s.Account.AESKey
	}
	storeCfg := "store:\n  path: " + filepath.Join(dir, "gridbot.db") + "\n"
	if o.Valkey != "" {
		storeCfg = fmt.Sprintf("store:\n  kind: valkey\nvalkey:\n  addr: [%s]\n  prefix: %q\n", o.Valkey, o.Prefix)
		if o.ClaimIdle != "" {
			storeCfg += "  claim_idle: " + o.ClaimIdle + "\n"
		}
		if o.Tag != "" {
			storeCfg += fmt.Sprintf("  tag: %q\n", o.Tag)
		}
	}
	level := s.opt.LogLevel
	if level == "" {
		level = "info"
	}
	if s.keyFile != "" {
		storeCfg += "crypto:\n  key_file: " + s.keyFile + "\n"
	}
	cfg := fmt.Sprintf(`http:
  addr: %s
wechat:
  app_id: %s
  token: %s
  aes_key: %q
  api_base: %s
  templates:
    staff_case: {id: tpl-staff-case, fields: {thing1: category, character_string2: number, thing3: place, time4: deadline}}
    resident_progress: {id: tpl-progress, fields: {character_string1: number, thing2: category, phrase3: state, thing4: handler, time5: time}}
    rating: {id: tpl-resolved, fields: {character_string1: number, thing2: result, phrase3: state, time4: time}}
%stown:
  directory: %s
  categories: %s
log:
  level: %s
admin:
  addr: %s
  token: %s
dialog:
  join_radius_m: %d
%s`, addr, s.Account.AppID, s.Account.Token, aes, s.APIURL, storeCfg, s.town,
		filepath.Join(s.opt.Repo, "configs", "categories.yaml"), level, admin, adminToken, o.JoinRadiusM, o.Extra)
	cfgPath := filepath.Join(dir, "gridbot.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("instance %s: %w", name, err)
	}
	open311Key := randomHex(16)
	return &Instance{Base: "http://" + addr, Admin: admin, AdminToken: adminToken, Config: cfgPath, setup: s,
		Open311Key: open311Key, argv: []string{s.bin, "serve", "-config", cfgPath},
		// The fan-out opens thousands of consoles as one person from one
		// address: what the websocket limits exist to refuse.
		env: []string{"GRIDBOT_WECHAT_APP_SECRET=" + s.Account.AppSecret,
			"GRIDBOT_CONSOLE_WEBSOCKETS_PER_PERSON=1000000", "GRIDBOT_CONSOLE_WEBSOCKETS_PER_ADDR=1000000",
			// The load logs one person in from many clients with a password;
			// the second factor is tested in console and cmd/gridbot.
			"GRIDBOT_SECURITY_SECOND_FACTOR=off", "GRIDBOT_SECURITY_CONCURRENT_SESSIONS=allow",
			// Open311's reads need a key (open311.public_read is off).
			"GRIDBOT_OPEN311_API_KEYS=gridload:" + open311Key}}, nil
}

// Command runs `gridbot ARGS… -config <the instance's>` to its end and
// returns what it printed, which goes to the run's log as well (a fill's
// progress).
func (in *Instance) Command(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, in.setup.bin, append(args, "-config", in.Config)...)
	cmd.Env = append(os.Environ(), in.env...)
	var out bytes.Buffer
	// One writer for both, so exec copies them in one goroutine.
	both := io.MultiWriter(&out, in.setup.opt.Log)
	cmd.Stdout, cmd.Stderr = both, both
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("gridbot %s: %w: %s", strings.Join(args, " "), err, out.Bytes())
	}
	return out.String(), nil
}

// Start (re)starts the instance's process with its configuration and waits
// until /readyz answers.
func (in *Instance) Start(ctx context.Context, name string) error {
	host := strings.TrimPrefix(in.Base, "http://")
	p, err := StartProcess(ctx, name, in.argv, in.env, host, "/readyz", 20*time.Second)
	if err != nil {
		return err
	}
	in.Process = p
	in.setup.procs = append(in.setup.procs, p)
	return nil
}

// Callback is the instance's WeChat callback URL.
func (in *Instance) Callback() string { return in.Base + "/wechat" }

// Baseline starts the baseline bot as its own process.
func (s *Setup) Baseline(ctx context.Context) (*Process, error) {
	if len(s.opt.BaselineCmd) == 0 {
		return nil, errors.New("no baseline command")
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	argv := append(append([]string(nil), s.opt.BaselineCmd...), "-addr", addr, "-appid", s.Account.AppID)
	env := []string{"GRIDLOAD_TOKEN=" + s.Account.Token, "GRIDLOAD_AES_KEY=" + s.Account.AESKey,
		"GRIDLOAD_APP_SECRET=" + s.Account.AppSecret}
	p, err := StartProcess(ctx, "baseline", argv, env, addr, "/healthz", 20*time.Second)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, p)
	return p, nil
}

// Demo starts `gridbot demo` on fresh data, for the memory at rest and the
// start-up time.
func (s *Setup) Demo(ctx context.Context) (*Process, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	argv := []string{s.bin, "demo", "-data", filepath.Join(s.Dir, "demo"), "-addr", addr, "-sim-addr", "127.0.0.1:0"}
	p, err := StartProcess(ctx, "demo", argv, nil, addr, "/healthz", 20*time.Second)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, p)
	return p, nil
}

// Valkey is a redis-server (Valkey's protocol) gridload started.
type Valkey struct {
	*Process
	name  string
	argv  []string
	setup *Setup
}

// Valkey starts a private redis-server (or valkey-server) on a free loopback
// port with the durability settings the README asks for.
func (s *Setup) Valkey(ctx context.Context) (*Valkey, error) {
	return s.startValkey(ctx, "valkey")
}

// startValkey starts a server named name (its folder and log) with extra
// arguments.
func (s *Setup) startValkey(ctx context.Context, name string, extra ...string) (*Valkey, error) {
	bin := ""
	for _, name := range []string{"valkey-server", "redis-server"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		return nil, errors.New("neither valkey-server nor redis-server is on PATH")
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	dir := filepath.Join(s.Dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	v := &Valkey{name: name, setup: s, argv: append([]string{bin, "--port", port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction",
		"--dir", dir, "--daemonize", "no"}, extra...)}
	v.Process = &Process{Addr: addr}
	if err := v.Restart(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// Restart stops the server (it writes its AOF) and starts it again on the
// same port and data, waiting until it answers PING.
func (v *Valkey) Restart(ctx context.Context) error {
	if v.cmd != nil {
		if err := v.Stop(10 * time.Second); err != nil {
			return err
		}
	}
	p, err := StartProcess(ctx, v.name, v.argv, nil, v.Addr, "", 0)
	if err != nil {
		return err
	}
	v.Process = p
	v.setup.procs = append(v.setup.procs, p)
	// A kept ledger of a million cases takes minutes to load; the server
	// answers -LOADING until it has.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		switch answer := pingAnswer(v.Addr); {
		case strings.HasPrefix(answer, "+PONG"):
			p.Ready = time.Since(p.started)
			return nil
		case strings.HasPrefix(answer, "-LOADING"):
			deadline = time.Now().Add(5 * time.Second)
		}
		if p.Exited() {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer on %s:\n%s", v.name, v.Addr, p.Log())
}

// Ping reports whether a Valkey-protocol server answers PING at addr.
func Ping(addr string) bool { return strings.HasPrefix(pingAnswer(addr), "+PONG") }

// pingAnswer is the line a server at addr answers PING with ("" when none).
func pingAnswer(addr string) string {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return ""
	}
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return line
}

// ServerCounts are a Valkey server's running totals from INFO stats: how
// many commands it ran, and how many reads and writes on client sockets
// that took (one read per flush a client sent, one write per answer batch).
type ServerCounts struct {
	Commands, Reads, Writes int64
}

// Counts reads the server's INFO stats.
func (v *Valkey) Counts() (ServerCounts, error) {
	var c ServerCounts
	conn, err := net.DialTimeout("tcp", v.Addr, time.Second)
	if err != nil {
		return c, fmt.Errorf("valkey counts: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("INFO stats\r\n")); err != nil {
		return c, fmt.Errorf("valkey counts: %w", err)
	}
	r := bufio.NewReader(conn)
	head, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(head, "$") {
		return c, fmt.Errorf("valkey counts: unexpected answer %q", head)
	}
	var n int
	if _, err := fmt.Sscanf(head, "$%d", &n); err != nil {
		return c, fmt.Errorf("valkey counts: %w", err)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return c, fmt.Errorf("valkey counts: %w", err)
	}
	for line := range strings.Lines(string(body)) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch name {
		case "total_commands_processed":
			fmt.Sscan(value, &c.Commands)
		case "total_reads_processed":
			fmt.Sscan(value, &c.Reads)
		case "total_writes_processed":
			fmt.Sscan(value, &c.Writes)
		}
	}
	return c, nil
}

// Close stops every process the setup started and removes its directory,
// unless it was given (SetupOptions.Dir).
func (s *Setup) Close() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		if err := s.procs[i].Stop(10 * time.Second); err != nil {
			fmt.Fprintln(s.opt.Log, "stopping:", err)
		}
	}
	if s.apiSrv != nil {
		s.apiSrv.Close()
	}
	if s.opt.Dir == "" {
		os.RemoveAll(s.Dir)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }
