package deploy

import (
	"bufio"
	"debug/elf"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"gridbot/configs"
)

// composeFile is the part of a compose file these tests read.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       map[string]string `yaml:"build"`
		Command     []string          `yaml:"command"`
		Ports       []string          `yaml:"ports"`
		Expose      []string          `yaml:"expose"`
		Volumes     []string          `yaml:"volumes"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   any               `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("compose.yaml does not parse: %v", err)
	}
	return c
}

func TestComposeServices(t *testing.T) {
	c := readCompose(t)
	var names []string
	for name := range c.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"gridbot-1", "gridbot-2", "nginx", "valkey"}; !slices.Equal(names, want) {
		t.Fatalf("services = %v, want %v", names, want)
	}

	valkey := c.Services["valkey"]
	if valkey.Image != "valkey/valkey:8" {
		t.Errorf("valkey image = %q", valkey.Image)
	}
	cmd := strings.Join(valkey.Command, " ")
	for _, flag := range []string{"--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction"} {
		if !strings.Contains(cmd, flag) {
			t.Errorf("valkey command %q lacks %q", cmd, flag)
		}
	}
	if !slices.Contains(valkey.Volumes, "valkey-data:/data") || !hasKey(c.Volumes, "valkey-data") {
		t.Errorf("valkey volumes = %v, want a named volume on /data", valkey.Volumes)
	}
	if len(valkey.Ports) != 0 {
		t.Errorf("valkey publishes ports %v; it must stay on the compose network", valkey.Ports)
	}

	for _, name := range []string{"gridbot-1", "gridbot-2"} {
		t.Run(name, func(t *testing.T) {
			g := c.Services[name]
			if g.Image == "" || g.Build["dockerfile"] != "Dockerfile" || g.Build["context"] != ".." {
				t.Errorf("image %q build %v: want the repository's Dockerfile", g.Image, g.Build)
			}
			if len(g.Ports) != 0 {
				t.Errorf("publishes %v: only nginx faces the outside", g.Ports)
			}
			if !slices.Contains(g.Expose, "8080") {
				t.Errorf("expose = %v, want 8080", g.Expose)
			}
			for key, want := range map[string]string{
				"GRIDBOT_STORE_KIND":  "valkey",
				"GRIDBOT_VALKEY_ADDR": "valkey:6379",
			} {
				if g.Environment[key] != want {
					t.Errorf("%s = %q, want %q", key, g.Environment[key], want)
				}
			}
			// Secrets come from the environment of compose, never written in.
			for _, key := range []string{"GRIDBOT_WECHAT_APP_SECRET", "GRIDBOT_WECHAT_TOKEN", "GRIDBOT_WECHAT_AES_KEY", "GRIDBOT_VALKEY_PASSWORD"} {
				if v := g.Environment[key]; !strings.HasPrefix(v, "${"+key) {
					t.Errorf("%s = %q, want it taken from the environment (${%s…})", key, v, key)
				}
			}
		})
	}
	if !maps.Equal(c.Services["gridbot-1"].Environment, c.Services["gridbot-2"].Environment) {
		t.Errorf("the two instances' environments differ")
	}

	nginx := c.Services["nginx"]
	if !strings.HasPrefix(nginx.Image, "nginx") || !slices.Contains(nginx.Ports, "80:80") {
		t.Errorf("nginx image %q ports %v", nginx.Image, nginx.Ports)
	}
	if !slices.Contains(nginx.Volumes, "./nginx.conf:/etc/nginx/nginx.conf:ro") {
		t.Errorf("nginx volumes = %v, want deploy/nginx.conf mounted", nginx.Volumes)
	}
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

// TestComposeEnvironmentLoads feeds the instances' environment, with the
// secrets filled in, to the real configuration loader: every GRIDBOT_
// variable must be a key gridbot knows, with a valid value.
func TestComposeEnvironmentLoads(t *testing.T) {
	c := readCompose(t)
	substitution := regexp.MustCompile(`^\$\{([A-Z0-9_]+)(?::?[-?].*)?\}$`)
	filled := map[string]string{
		"GRIDBOT_WECHAT_APP_ID":     "wx0123456789abcdef",
		"GRIDBOT_WECHAT_APP_SECRET": "secret",
		"GRIDBOT_WECHAT_TOKEN":      "token",
	}
	for k, v := range templateIDs {
		filled[k] = v
	}
	filled["GRIDBOT_WECHAT_PUBLIC_BASE"] = "https://grid.example.org"
	var environ []string
	for key, value := range c.Services["gridbot-1"].Environment {
		if m := substitution.FindStringSubmatch(value); m != nil {
			value = filled[m[1]] // unset variables default to empty
		}
		environ = append(environ, key+"="+value)
	}
	cfg, err := configs.Load("gridbot.example.yaml", environ)
	if err != nil {
		t.Fatalf("the compose environment does not load: %v", err)
	}
	if err := cfg.RequireWeChat(); err != nil {
		t.Error(err)
	}
	if cfg.Store.Kind != "valkey" || !slices.Equal(cfg.Valkey.Addr, []string{"valkey:6379"}) {
		t.Errorf("store %q valkey %v", cfg.Store.Kind, cfg.Valkey.Addr)
	}
	if !slices.Equal(cfg.HTTP.TrustedProxies, []string{"172.28.0.10/32"}) {
		t.Errorf("trusted proxies %q, want nginx's fixed address only", cfg.HTTP.TrustedProxies)
	}
	if cfg.WeChat.Templates["staff_case"].ID != "T-STAFF" || cfg.WeChat.Subscribe["resident_progress"].ID != "S-PROGRESS" ||
		cfg.WeChat.PublicBase != "https://grid.example.org" {
		t.Errorf("templates and public base from the compose environment: %+v", cfg.WeChat)
	}
	// Without the template ids the example does not start, and says which.
	for k, v := range c.Services["gridbot-1"].Environment {
		if strings.Contains(k, "_TEMPLATES_") && !strings.Contains(v, ":?set ") {
			t.Errorf("%s is not required by compose: %s", k, v)
		}
	}
}

// templateIDs are an account's template ids, as gridbot.env or deploy/.env
// hold them.
var templateIDs = map[string]string{
	"GRIDBOT_WECHAT_TEMPLATES_STAFF_CASE_ID":        "T-STAFF",
	"GRIDBOT_WECHAT_TEMPLATES_RESIDENT_PROGRESS_ID": "T-PROGRESS",
	"GRIDBOT_WECHAT_TEMPLATES_RATING_ID":            "T-RATING",
	"GRIDBOT_WECHAT_TEMPLATES_WARNING_ID":           "T-WARNING",
	"GRIDBOT_WECHAT_SUBSCRIBE_RESIDENT_PROGRESS_ID": "S-PROGRESS",
}

func templateEnviron() []string {
	var out []string
	for k, v := range templateIDs {
		out = append(out, k+"="+v)
	}
	return out
}

// TestExampleConfig loads the example as gridbot would and checks that it
// spells out the keys a production setup decides on.
func TestExampleConfig(t *testing.T) {
	// The template ids are the account's: without them the example says so.
	if _, err := configs.Load("gridbot.example.yaml", nil); err == nil ||
		!strings.Contains(err.Error(), "GRIDBOT_WECHAT_TEMPLATES_RATING_ID") {
		t.Fatalf("the example without template ids: %v", err)
	}
	cfg, err := configs.Load("gridbot.example.yaml", templateEnviron())
	if err != nil {
		t.Fatalf("gridbot.example.yaml does not load: %v", err)
	}
	for kind, want := range map[string]string{"staff_case": "T-STAFF", "resident_progress": "T-PROGRESS", "rating": "T-RATING", "warning": "T-WARNING"} {
		if tpl := cfg.WeChat.Templates[kind]; tpl.ID != want || len(tpl.Fields) < 4 {
			t.Errorf("template %s: %+v", kind, tpl)
		}
	}
	if cfg.WeChat.Subscribe["resident_progress"].ID != "S-PROGRESS" || cfg.WeChat.OAuthBase != "https://open.weixin.qq.com" ||
		cfg.WeChat.PublicBase != "https://grid.example.org" || cfg.ASR.Provider != "" || cfg.ASR.Engine != "16k_yue" {
		t.Errorf("wechat %+v asr %+v", cfg.WeChat, cfg.ASR)
	}
	if cfg.Store.Kind != "embedded" || !strings.HasPrefix(cfg.Store.Path, "/var/lib/gridbot/") {
		t.Errorf("store %q at %q, want embedded under /var/lib/gridbot", cfg.Store.Kind, cfg.Store.Path)
	}
	if cfg.WeChat.AppSecret != "" || cfg.WeChat.Token != "" || cfg.WeChat.AESKey != "" || cfg.Valkey.Password != "" {
		t.Error("the example holds a secret; secrets belong in the environment")
	}
	data, err := os.ReadFile("gridbot.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for section, v := range tree {
		for key := range v.(map[string]any) {
			got[section+"."+key] = true
		}
	}
	for _, key := range []string{"http.addr", "http.trusted_proxies",
		"wechat.app_id", "wechat.app_secret", "wechat.token", "wechat.aes_key", "wechat.prev_aes_key",
		"wechat.api_base", "wechat.public_base", "wechat.oauth_base", "wechat.templates", "wechat.subscribe",
		"asr.provider", "asr.secret_id", "asr.secret_key", "asr.region", "asr.engine", "asr.endpoint",
		"store.kind", "store.path",
		"valkey.addr", "valkey.password", "valkey.db", "valkey.prefix", "valkey.claim_idle", "valkey.workers",
		"town.directory", "town.categories", "dialog.idle_timeout", "console.allowed_origins",
		"log.format", "log.level"} {
		if !got[key] {
			t.Errorf("the example does not show %s", key)
		}
	}
	for key := range configs.Defaults() {
		if !got[key] {
			t.Logf("the example leaves %s at its default", key)
		}
	}
}

func TestNginx(t *testing.T) {
	data, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(data)
	upstream := block(t, conf, "upstream gridbot")
	for _, server := range []string{"server gridbot-1:8080", "server gridbot-2:8080"} {
		if !strings.Contains(upstream, server) {
			t.Errorf("upstream lacks %q", server)
		}
	}
	ws := block(t, conf, "location = /api/ws")
	for _, line := range []string{"proxy_pass http://gridbot;", "proxy_http_version 1.1;",
		"proxy_set_header Upgrade", "$http_upgrade;", "proxy_set_header Connection", "$connection_upgrade;",
		"proxy_set_header Host", "proxy_read_timeout"} {
		if !strings.Contains(ws, line) && !strings.Contains(block(t, conf, "server"), line) {
			t.Errorf("location /api/ws lacks %q", line)
		}
	}
	for _, loc := range []string{"location /wechat", "location /api/", "location /open311/", "location /"} {
		if !strings.Contains(block(t, conf, loc), "proxy_pass http://gridbot;") {
			t.Errorf("%s does not pass to the upstream", loc)
		}
	}
	if strings.Contains(conf, "$request ") || strings.Contains(conf, "$request_uri") || strings.Contains(conf, "$args") {
		t.Error("the access log would carry query strings (WeChat puts the openid there)")
	}
	// With nginx installed, let it check the syntax too.
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Log("nginx not installed: syntax not checked by nginx")
		return
	}
	dir := t.TempDir()
	local := strings.NewReplacer("gridbot-1:8080", "127.0.0.1:18080", "gridbot-2:8080", "127.0.0.1:18081").Replace(conf)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.CommandContext(t.Context(), bin, "-t", "-p", dir, "-c", path, "-g", "pid "+filepath.Join(dir, "pid")+";").CombinedOutput()
	if !strings.Contains(string(out), "syntax is ok") {
		t.Errorf("nginx -t:\n%s", out)
	}
}

// block returns the text between the { after head and its matching }.
func block(t *testing.T, conf, head string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(head) + `\s*\{`)
	loc := re.FindStringIndex(conf)
	if loc == nil {
		t.Fatalf("nginx.conf has no %q block", head)
	}
	depth := 0
	for i := loc[1] - 1; i < len(conf); i++ {
		switch conf[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return conf[loc[1]:i]
			}
		}
	}
	t.Fatalf("nginx.conf: %q block is not closed", head)
	return ""
}

// unit is a systemd unit file: section → key → values in order.
type unit map[string]map[string][]string

func readUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, n, line)
			}
			u[section][key] = append(u[section][key], value)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSystemdUnit(t *testing.T) {
	u := readUnit(t, "gridbot.service")
	for _, s := range []string{"Unit", "Service", "Install"} {
		if u[s] == nil {
			t.Fatalf("no [%s] section", s)
		}
	}
	svc := u["Service"]
	tests := []struct {
		section, key, want string
	}{
		{"Unit", "After", "network-online.target"},
		{"Service", "ExecStart", "/usr/local/bin/gridbot serve -config /etc/gridbot/gridbot.yaml"},
		{"Service", "DynamicUser", "yes"},
		{"Service", "StateDirectory", "gridbot"},
		{"Service", "Environment", "GRIDBOT_STORE_PATH=/var/lib/gridbot/gridbot.db"},
		{"Service", "Environment", "GRIDBOT_STORE_KIND=embedded"},
		{"Service", "EnvironmentFile", "/etc/gridbot/gridbot.env"},
		{"Service", "Restart", "on-failure"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "ProtectHome", "yes"},
		{"Service", "PrivateTmp", "yes"},
		{"Service", "PrivateDevices", "yes"},
		{"Service", "RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"Service", "CapabilityBoundingSet", ""},
		{"Install", "WantedBy", "multi-user.target"},
	}
	for _, tt := range tests {
		if !slices.Contains(u[tt.section][tt.key], tt.want) {
			t.Errorf("[%s] %s = %q, want %q among them", tt.section, tt.key, u[tt.section][tt.key], tt.want)
		}
	}
	if _, ok := svc["User"]; ok {
		t.Error("User= with DynamicUser=yes: pick one")
	}
	// With systemd's tools installed, let systemd check the unit too.
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: unit not checked by systemd")
		return
	}
	data, err := os.ReadFile("gridbot.service")
	if err != nil {
		t.Fatal(err)
	}
	true_, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to stand in for the binary")
	}
	path := filepath.Join(t.TempDir(), "gridbot.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(data), "/usr/local/bin/gridbot", true_)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), bin, "verify", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms, users, copies []string
	var body strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		body.WriteString(line + "\n")
		instr, args, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			froms = append(froms, args)
		case "USER":
			users = append(users, args)
		case "COPY":
			copies = append(copies, args)
		}
	}
	text := body.String()
	if len(froms) < 2 {
		t.Fatalf("FROM %v: want a multi-stage build", froms)
	}
	final := froms[len(froms)-1]
	if final != "gcr.io/distroless/static-debian12:nonroot" && final != "scratch" {
		t.Errorf("final stage %q: want distroless static nonroot or scratch", final)
	}
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1], "root") || strings.HasPrefix(users[len(users)-1], "0") {
		t.Errorf("USER %v: want a non-root user last", users)
	}
	for _, want := range []string{"CGO_ENABLED=0", "go build -trimpath -ldflags \"-s -w\" -o /gridbot ./cmd/gridbot",
		"EXPOSE 8080", `ENTRYPOINT ["/gridbot", "serve", "-config", "/etc/gridbot/gridbot.yaml"]`} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// Every file copied from the build context exists.
	for _, c := range copies {
		fields := strings.Fields(c)
		if strings.HasPrefix(fields[0], "--") {
			continue // from another stage
		}
		for _, src := range fields[:len(fields)-1] {
			if strings.Contains(src, "*") || src == "." {
				continue
			}
			if _, err := os.Stat(filepath.Join("..", src)); err != nil {
				t.Errorf("COPY %s: %v", src, err)
			}
		}
	}
}

// TestStaticBinary builds ./cmd/gridbot as the Dockerfile does and checks the
// result needs no dynamic loader, so it runs on distroless static or scratch.
func TestStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out := filepath.Join(t.TempDir(), "gridbot")
	cmd := exec.CommandContext(t.Context(), gobin, "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/gridbot")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %s program header: it is dynamically linked", p.Type)
		}
	}
	if s := f.Section(".dynamic"); s != nil {
		t.Error("the binary has a .dynamic section")
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary imports %v", libs)
	}
}
