// Package configs loads gridbot's configuration and holds the sample town.
//
// Settings are layered with koanf: built-in defaults, then a YAML file, then
// GRIDBOT_-prefixed environment variables (GRIDBOT_WECHAT_APP_SECRET sets
// wechat.app_secret). The town directory and the category list are YAML files
// of their own, loaded into a core.Town. This is the only package that
// imports koanf.
package configs

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"gridbot/core"
	"gridbot/internal/clientaddr"
)

// Config is gridbot's process configuration. The koanf tags are the key
// names people write in YAML and, upper-cased with _ for ., in GRIDBOT_ env.
type Config struct {
	HTTP struct {
		Addr string `koanf:"addr"`
		// TrustedProxies are the reverse proxies (CIDRs or addresses)
		// whose X-Forwarded-For, X-Real-IP and X-Forwarded-Proto are
		// believed; nobody's when empty.
		TrustedProxies []string `koanf:"trusted_proxies"`
		// MaxConns bounds the connections open at once (0: 10,000, or
		// three quarters of the file descriptor limit if lower); at the
		// bound the longest-idle connection makes room for a new one.
		MaxConns int `koanf:"max_conns"`
		// MaxConnsPerAddr bounds the connections one client address may
		// hold open (a reverse proxy's own address is exempt).
		MaxConnsPerAddr int `koanf:"max_conns_per_addr"`
		// TLSCertFile and TLSKeyFile, both set, make gridbot serve HTTPS
		// itself (PEM files; a renewed pair is read within a minute), for
		// deployments without a TLS proxy; answers then carry HSTS.
		TLSCertFile string `koanf:"tls_cert_file"`
		TLSKeyFile  string `koanf:"tls_key_file"`
	} `koanf:"http"`
	WeChat struct {
		AppID      string `koanf:"app_id"`
		AppSecret  string `koanf:"app_secret"`
		Token      string `koanf:"token"`
		AESKey     string `koanf:"aes_key"`
		PrevAESKey string `koanf:"prev_aes_key"`
		APIBase    string `koanf:"api_base"`
		// TemplateID was the 2022 notice template (first, keyword1,
		// keyword2, remark), which WeChat no longer offers; set, it is
		// refused with a pointer to Templates.
		TemplateID string `koanf:"template_id"`
		// PublicBase is where the pages inside WeChat are reached; notices
		// link to PublicBase/wx/cases/{number}.
		PublicBase string `koanf:"public_base"`
		// OAuthBase is the web-authorisation host (the simulator in the
		// demo and the tests).
		OAuthBase string `koanf:"oauth_base"`
		// Templates are the message templates per kind of notice
		// (core.NoticeKinds), picked from WeChat's category library; a
		// kind without one goes by customer-service message only.
		Templates map[string]NoticeTemplate `koanf:"templates"`
		// Subscribe are the 订阅通知 templates per kind (resident_progress,
		// rating), sent while a resident holds a grant.
		Subscribe map[string]NoticeTemplate `koanf:"subscribe"`
		// MaxClockSkew is how far a callback's signed timestamp may be
		// from the clock before it is refused as a replay.
		MaxClockSkew time.Duration `koanf:"max_clock_skew"`
	} `koanf:"wechat"`
	// WeCom is the town's WeCom (企业微信) self-built app, which reaches
	// staff without WeChat's 48-hour window; nothing of it runs while
	// CorpID is empty.
	WeCom struct {
		CorpID  string `koanf:"corp_id"`
		AgentID string `koanf:"agent_id"`
		Secret  string `koanf:"secret"`
		Token   string `koanf:"token"`
		AESKey  string `koanf:"aes_key"`
		APIBase string `koanf:"api_base"`
	} `koanf:"wecom"`
	// ASR hears voice notes (WeChat no longer recognises them): Tencent
	// Cloud's 一句话识别. Without a provider, a voice note is kept and the
	// resident asked to write.
	ASR struct {
		Provider  string `koanf:"provider"` // "" (off) or tencent
		SecretID  string `koanf:"secret_id"`
		SecretKey string `koanf:"secret_key"`
		Region    string `koanf:"region"`
		Engine    string `koanf:"engine"` // 16k_zh, or 16k_yue for Cantonese
		// Endpoint is the API host, or a URL (the simulator); empty means
		// Tencent's.
		Endpoint string `koanf:"endpoint"`
	} `koanf:"asr"`
	Store struct {
		Kind string `koanf:"kind"`
		Path string `koanf:"path"`
	} `koanf:"store"`
	Valkey struct {
		Addr     []string `koanf:"addr"`
		Password string   `koanf:"password"`
		DB       int      `koanf:"db"`
		Prefix   string   `koanf:"prefix"`
		// Tag is the hash tag of the ledger's keys and streams
		// (P{<tag>}:…): one slot, so one master of a cluster, per tag. A
		// town of a city takes its own (gb:<town key>); "gb" is the layout
		// of before.
		Tag string `koanf:"tag"`
		// ClaimIdle is how long an entry may sit unacked with a consumer
		// before another instance takes it over (the consumer is presumed
		// dead); it must exceed a handler's longest run with its retries.
		ClaimIdle time.Duration `koanf:"claim_idle"`
		// Workers is how many events each instance handles at once per
		// handler (assignment, pushes, media); one keeps them in order.
		Workers int `koanf:"workers"`
		// TrimEvery is how often each instance trims the streams to what
		// the consumer groups have not yet acknowledged.
		TrimEvery time.Duration `koanf:"trim_every"`
	} `koanf:"valkey"`
	Town struct {
		Directory  string `koanf:"directory"`
		Categories string `koanf:"categories"`
		// Lexicon is the colloquial lexicon (written Cantonese → Mandarin)
		// read before residents' words; "" means the sample shipped in
		// the binary (configs/cantonese.yaml).
		Lexicon string `koanf:"lexicon"`
		// WatchEvery is how often the files are checked for edits.
		WatchEvery time.Duration `koanf:"watch_every"`
	} `koanf:"town"`
	Dialog struct {
		IdleTimeout time.Duration `koanf:"idle_timeout"`
		// JoinRadiusM is how near (metres) an open case of the same
		// category must be for a new report to be offered to join it
		// (附议); where either has no location, the same grid counts.
		JoinRadiusM float64 `koanf:"join_radius_m"`
	} `koanf:"dialog"`
	Console struct {
		AllowedOrigins []string `koanf:"allowed_origins"`
		// SecureCookies marks the login cookie Secure and sends HSTS on
		// every console answer: for a TLS proxy that does not send
		// X-Forwarded-Proto (one listed in http.trusted_proxies that does
		// is believed without it).
		SecureCookies bool `koanf:"secure_cookies"`
		// WebsocketsPerPerson and WebsocketsPerAddr bound the live
		// feeds one staff member, and one client address, hold open on
		// each instance.
		WebsocketsPerPerson int `koanf:"websockets_per_person"`
		WebsocketsPerAddr   int `koanf:"websockets_per_addr"`
		// TiandituKey is a 天地图 browser key; when set the console's map
		// draws the grids over 天地图's tiles (the map works without it).
		TiandituKey string `koanf:"tianditu_key"`
		// HouseholdRadiusM is how near (metres) another case of the
		// grid is listed in a case's household file (一户一档) as 附近.
		HouseholdRadiusM float64 `koanf:"household_radius_m"`
		// StaffSlots is how many console requests run at once; 0 is one
		// per CPU but one (console.Server.StaffSlots).
		StaffSlots int `koanf:"staff_slots"`
	} `koanf:"console"`
	// Supervision times the ledger's sweeps (立账督办); see core.Rules.
	Supervision struct {
		SweepEvery    time.Duration `koanf:"sweep_every"`
		WarnAt        float64       `koanf:"warn_at"`
		EscalateEvery time.Duration `koanf:"escalate_every"`
		AcceptWithin  time.Duration `koanf:"accept_within"`
		RatingWait    time.Duration `koanf:"rating_wait"`
	} `koanf:"supervision"`
	Staff struct {
		BindCodeTTL time.Duration `koanf:"bind_code_ttl"`
		// BindAttempts is how many binding codes the whole town may try
		// in BindLock; past it binding is locked until the window ends.
		BindAttempts int           `koanf:"bind_attempts"`
		BindLock     time.Duration `koanf:"bind_lock"`
	} `koanf:"staff"`
	// Filing bounds how much one resident files (core.SubmitLimits).
	Filing struct {
		MaxRecent    int           `koanf:"max_recent"`
		RecentWindow time.Duration `koanf:"recent_window"`
		MaxOpen      int           `koanf:"max_open"`
	} `koanf:"filing"`
	Open311 struct {
		// APIKeys are "channel:key" pairs: who may file cases through
		// Open311 (a hotline, the city platform) and with which key.
		APIKeys []string `koanf:"api_keys"`
		// PublicRead opens the read endpoints to anyone; otherwise they
		// need an API key too.
		PublicRead bool `koanf:"public_read"`
	} `koanf:"open311"`
	// Media says where photos and voice notes are kept: files in a
	// folder, or an S3-compatible bucket; never in the store.
	Media struct {
		// Store is files (the default) or s3.
		Store string `koanf:"store"`
		// Dir is the folder of the files store; empty means media/
		// beside store.path.
		Dir string `koanf:"dir"`
		S3  struct {
			Endpoint  string `koanf:"endpoint"` // host:port, no scheme
			Bucket    string `koanf:"bucket"`
			AccessKey string `koanf:"access_key"`
			SecretKey string `koanf:"secret_key"`
			Region    string `koanf:"region"`
			Secure    bool   `koanf:"secure"` // HTTPS
		} `koanf:"s3"`
	} `koanf:"media"`
	Retention struct {
		// PersonalDataAfter erases the personal data of cases closed this
		// long ago (the case figures stay); 0 keeps it.
		PersonalDataAfter time.Duration `koanf:"personal_data_after"`
	} `koanf:"retention"`
	// Audit keeps the audit trail (security.go).
	Audit AuditSettings `koanf:"audit"`
	// Security is the console's logins and sessions (security.go).
	Security SecuritySettings `koanf:"security"`
	// Crypto is the data keys (security.go).
	Crypto CryptoSettings `koanf:"crypto"`
	Admin  struct {
		// Addr is where the administrative endpoints (online backup)
		// listen; keep it on loopback. Empty turns them off.
		Addr string `koanf:"addr"`
		// Token is the bearer token the endpoints require; when empty it is
		// read from TokenFile, which serve creates (random, mode 0600) if
		// it is missing.
		Token string `koanf:"token"`
		// TokenFile holds the token; empty means admin-token beside
		// store.path.
		TokenFile string `koanf:"token_file"`
	} `koanf:"admin"`
	Log struct {
		Format string `koanf:"format"`
		Level  string `koanf:"level"`
	} `koanf:"log"`
	// Towns, when listed, make a city deployment: each town served apart
	// in one process (city.go); empty is the one town of town:.
	Towns []TownEntry `koanf:"towns"`
	// City names the city of a deployment with towns.
	City struct {
		Name string `koanf:"name"`
		// Staff are the city's own (市级): every town's figures rolled
		// up, read only (core.RoleCity).
		Staff []CityStaffEntry `koanf:"staff"`
	} `koanf:"city"`
}

// NoticeTemplate is a template and what gridbot puts in each of its
// fields: key (thing1, character_string2 …) → value name (core.NoticeValues).
type NoticeTemplate struct {
	ID     string            `koanf:"id"`
	Fields map[string]string `koanf:"fields"`
}

// openKeys are the settings whose keys people choose (a kind of notice,
// a template's field): every key under them is known, and Validate checks
// what they hold.
var openKeys = []string{"wechat.templates.", "wechat.subscribe."}

// Defaults are the built-in values, the first layer. Every key gridbot knows
// is here, which is how unknown keys are told apart.
func Defaults() map[string]any {
	return map[string]any{
		"http.addr":                     ":8080",
		"http.trusted_proxies":          []string{},
		"http.max_conns":                0,
		"http.max_conns_per_addr":       512,
		"http.tls_cert_file":            "",
		"http.tls_key_file":             "",
		"wechat.app_id":                 "",
		"wechat.app_secret":             "",
		"wechat.token":                  "",
		"wechat.aes_key":                "",
		"wechat.prev_aes_key":           "",
		"wechat.api_base":               "https://api.weixin.qq.com",
		"wechat.template_id":            "",
		"wechat.public_base":            "",
		"wechat.oauth_base":             "https://open.weixin.qq.com",
		"asr.provider":                  "",
		"asr.secret_id":                 "",
		"asr.secret_key":                "",
		"asr.region":                    "ap-guangzhou",
		"asr.engine":                    "16k_zh",
		"asr.endpoint":                  "",
		"wechat.max_clock_skew":         "5m",
		"wecom.corp_id":                 "",
		"wecom.agent_id":                "",
		"wecom.secret":                  "",
		"wecom.token":                   "",
		"wecom.aes_key":                 "",
		"wecom.api_base":                "https://qyapi.weixin.qq.com",
		"store.kind":                    "embedded",
		"store.path":                    "gridbot.db",
		"valkey.addr":                   []string{"127.0.0.1:6379"},
		"valkey.password":               "",
		"valkey.db":                     0,
		"valkey.prefix":                 "gridbot:",
		"valkey.tag":                    "gb",
		"valkey.claim_idle":             "60s",
		"valkey.workers":                4,
		"valkey.trim_every":             "5s",
		"town.directory":                "configs/town.yaml",
		"town.categories":               "configs/categories.yaml",
		"town.lexicon":                  "",
		"town.watch_every":              "2s",
		"dialog.idle_timeout":           "30m",
		"dialog.join_radius_m":          200,
		"console.allowed_origins":       []string{},
		"console.tianditu_key":          "",
		"console.household_radius_m":    100,
		"supervision.sweep_every":       "1m",
		"supervision.warn_at":           0.75,
		"supervision.escalate_every":    "24h",
		"supervision.accept_within":     "2h",
		"supervision.rating_wait":       "72h",
		"staff.bind_code_ttl":           "10m",
		"staff.bind_attempts":           100,
		"staff.bind_lock":               "1h",
		"filing.max_recent":             5,
		"filing.recent_window":          "10m",
		"filing.max_open":               20,
		"open311.api_keys":              []string{},
		"open311.public_read":           false,
		"admin.addr":                    "127.0.0.1:8079",
		"admin.token":                   "",
		"admin.token_file":              "",
		"console.secure_cookies":        false,
		"console.websockets_per_person": 10,
		"console.staff_slots":           0,
		"console.websockets_per_addr":   300,
		"retention.personal_data_after": "26280h",
		"media.store":                   "files",
		"media.dir":                     "",
		"media.s3.endpoint":             "",
		"media.s3.bucket":               "",
		"media.s3.access_key":           "",
		"media.s3.secret_key":           "",
		"media.s3.region":               "",
		"media.s3.secure":               true,
		"audit.keep":                    "4320h",
		"security.second_factor":        "required",
		"security.idle_timeout":         "30m",
		"security.session_lifetime":     "12h",
		"security.concurrent_sessions":  "end_older",
		"security.password_min_length":  8,
		"security.password_classes":     3,
		"security.password_max_age":     "2160h",
		"security.password_history":     5,
		"crypto.key_file":               "",
		"crypto.keys":                   "",
		"log.format":                    "json",
		"log.level":                     "info",
		"towns":                         []any{},
		"city.name":                     "",
		"city.staff":                    []any{},
	}
}

// EnvPrefix starts every environment variable gridbot reads.
const EnvPrefix = "GRIDBOT_"

// Load layers defaults, the YAML file at path (skipped when path is empty)
// and the GRIDBOT_ variables in environ, then checks the result. Errors name
// the offending key.
func Load(path string, environ []string) (*Config, error) {
	k := koanf.New(".")
	defaults := Defaults()
	if err := k.Load(confmap.Provider(defaults, "."), nil); err != nil {
		return nil, fmt.Errorf("config defaults: %w", err)
	}
	known := make(map[string]bool, len(defaults))
	for key := range defaults {
		known[key] = true
	}
	if path != "" {
		fileK := koanf.New(".")
		if err := fileK.Load(file.Provider(path), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
		if unknown := unknownKeys(fileK.Keys(), known); len(unknown) > 0 {
			return nil, fmt.Errorf("config file %s: unknown key %s", path, strings.Join(unknown, ", "))
		}
		if err := checkListEntries("city.staff", fileK.Get("city.staff"), cityStaffKeys); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
		if err := checkTownEntries(fileK.Get("towns")); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
		if err := k.Merge(fileK); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	var badEnv []string
	envK := koanf.New(".")
	err := envK.Load(env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, value string) (string, any) {
			if key, v, ok := envTemplate(name, value); ok {
				if key == "" {
					badEnv = append(badEnv, name)
					return "", nil
				}
				return key, v
			}
			key := envKey(name, known)
			if key == "" {
				badEnv = append(badEnv, name)
				return "", nil
			}
			if key == "console.allowed_origins" || key == "valkey.addr" || key == "open311.api_keys" ||
				key == "http.trusted_proxies" {
				return key, strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' })
			}
			return key, value
		},
	}), nil)
	if err != nil {
		return nil, fmt.Errorf("config environment: %w", err)
	}
	if len(badEnv) > 0 {
		sort.Strings(badEnv)
		return nil, fmt.Errorf("config environment: unknown variable %s", strings.Join(badEnv, ", "))
	}
	if err := k.Merge(envK); err != nil {
		return nil, fmt.Errorf("config environment: %w", err)
	}
	var c Config
	if err := k.UnmarshalWithConf("", &c, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// envKey maps GRIDBOT_WECHAT_APP_SECRET to wechat.app_secret by matching the
// known keys, since _ is both the level separator and part of key names.
func envKey(name string, known map[string]bool) string {
	want := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
	for key := range known {
		if strings.ReplaceAll(key, ".", "_") == want {
			return key
		}
	}
	return ""
}

// envTemplate maps a template's variables: GRIDBOT_WECHAT_TEMPLATES_<KIND>_ID
// (the template ID) and GRIDBOT_WECHAT_TEMPLATES_<KIND>_FIELDS
// ("thing1=category,character_string2=number", key=value pairs separated by
// commas or spaces; ':' works for '=' too), the same under
// GRIDBOT_WECHAT_SUBSCRIBE_. The kinds are known (core.NoticeKinds), so the
// underscores in a kind's name are not mistaken for levels. ok is false for
// other variables; a key of "" is a variable under those prefixes that
// names no kind or part, or fields that do not read.
func envTemplate(name, value string) (key string, v any, ok bool) {
	rest := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
	var set string
	switch {
	case strings.HasPrefix(rest, "wechat_templates_"):
		set, rest = "wechat.templates", strings.TrimPrefix(rest, "wechat_templates_")
	case strings.HasPrefix(rest, "wechat_subscribe_"):
		set, rest = "wechat.subscribe", strings.TrimPrefix(rest, "wechat_subscribe_")
	default:
		return "", nil, false
	}
	for _, kind := range core.NoticeKinds() {
		part, found := strings.CutPrefix(rest, string(kind)+"_")
		if !found {
			continue
		}
		switch part {
		case "id":
			return set + "." + string(kind) + ".id", strings.TrimSpace(value), true
		case "fields":
			fields := map[string]any{}
			for _, pair := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
				k, val, found := strings.Cut(pair, "=")
				if !found {
					k, val, found = strings.Cut(pair, ":")
				}
				if !found || k == "" || val == "" {
					return "", nil, true
				}
				fields[k] = val
			}
			if len(fields) == 0 {
				return "", nil, true
			}
			return set + "." + string(kind) + ".fields", fields, true
		}
	}
	return "", nil, true
}

func unknownKeys(keys []string, known map[string]bool) []string {
	var out []string
	for _, key := range keys {
		if !known[key] && !slices.ContainsFunc(openKeys, func(p string) bool { return strings.HasPrefix(key, p) }) {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// Validate checks each value and names the key of the first bad one.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		return fmt.Errorf("config http.addr %q: want host:port", c.HTTP.Addr)
	}
	if _, err := clientaddr.Parse(c.HTTP.TrustedProxies); err != nil {
		return fmt.Errorf("config http.trusted_proxies: %w", err)
	}
	if c.HTTP.MaxConns < 0 || c.HTTP.MaxConnsPerAddr < 1 {
		return fmt.Errorf("config http.max_conns %d, http.max_conns_per_addr %d: want 0 or more, and 1 or more",
			c.HTTP.MaxConns, c.HTTP.MaxConnsPerAddr)
	}
	for _, kv := range []struct{ key, value string }{{"wechat.aes_key", c.WeChat.AESKey}, {"wechat.prev_aes_key", c.WeChat.PrevAESKey}} {
		if kv.value == "" {
			continue
		}
		if key, err := base64.StdEncoding.DecodeString(kv.value + "="); len(kv.value) != 43 || err != nil || len(key) != 32 {
			return fmt.Errorf("config %s: an EncodingAESKey is 43 characters of base64", kv.key)
		}
	}
	if u, err := url.Parse(c.WeChat.APIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("config wechat.api_base %q: want an http(s) URL", c.WeChat.APIBase)
	}
	if err := c.validateWeCom(); err != nil {
		return err
	}
	if err := c.validateNotices(); err != nil {
		return err
	}
	if err := c.validateASR(); err != nil {
		return err
	}
	if !slices.Contains([]string{"embedded", "valkey"}, c.Store.Kind) {
		return fmt.Errorf("config store.kind %q: want embedded or valkey", c.Store.Kind)
	}
	if c.Store.Kind == "valkey" {
		if len(c.Valkey.Addr) == 0 {
			return fmt.Errorf("config valkey.addr: at least one host:port")
		}
		for _, a := range c.Valkey.Addr {
			if _, _, err := net.SplitHostPort(a); err != nil {
				return fmt.Errorf("config valkey.addr %q: want host:port", a)
			}
		}
		if err := checkValkeyTag(c.Valkey.Tag); err != nil {
			return err
		}
		if c.Valkey.DB < 0 || c.Valkey.DB > 15 {
			return fmt.Errorf("config valkey.db %d: want 0-15", c.Valkey.DB)
		}
		if c.Valkey.Workers < 1 || c.Valkey.Workers > 64 {
			return fmt.Errorf("config valkey.workers %d: from 1 to 64", c.Valkey.Workers)
		}
		if c.Valkey.TrimEvery < 100*time.Millisecond || c.Valkey.TrimEvery > time.Hour {
			return fmt.Errorf("config valkey.trim_every %s: from 100ms to 1h", c.Valkey.TrimEvery)
		}
		if c.Valkey.ClaimIdle < time.Second {
			return fmt.Errorf("config valkey.claim_idle %s: at least 1s", c.Valkey.ClaimIdle)
		}
	}
	if c.Store.Path == "" {
		return fmt.Errorf("config store.path: empty")
	}
	if c.Town.Directory == "" || c.Town.Categories == "" {
		return fmt.Errorf("config town.directory and town.categories: both are required")
	}
	if _, err := c.Open311Keys(); err != nil {
		return err
	}
	if c.Admin.Addr != "" {
		host, _, err := net.SplitHostPort(c.Admin.Addr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return fmt.Errorf("config admin.addr %q: want a loopback host:port", c.Admin.Addr)
		}
	}
	if c.Console.WebsocketsPerPerson < 1 || c.Console.WebsocketsPerAddr < 1 {
		return fmt.Errorf("config console.websockets_per_person and websockets_per_addr: at least 1")
	}
	if c.Admin.Token != "" && len(c.Admin.Token) < 16 {
		return fmt.Errorf("config admin.token: at least 16 characters")
	}
	switch c.Media.Store {
	case "files":
	case "s3":
		if c.Media.S3.Endpoint == "" || c.Media.S3.Bucket == "" {
			return fmt.Errorf("config media.s3.endpoint and media.s3.bucket: required with media.store s3")
		}
		if strings.Contains(c.Media.S3.Endpoint, "://") {
			return fmt.Errorf("config media.s3.endpoint %q: host:port without a scheme (media.s3.secure chooses HTTPS)", c.Media.S3.Endpoint)
		}
	default:
		return fmt.Errorf("config media.store %q: files or s3", c.Media.Store)
	}
	if err := c.validateSecurity(); err != nil {
		return err
	}
	if c.Retention.PersonalDataAfter != 0 && c.Retention.PersonalDataAfter < 24*time.Hour {
		return fmt.Errorf("config retention.personal_data_after %s: 0 (keep) or at least 24h", c.Retention.PersonalDataAfter)
	}
	if c.Town.WatchEvery < 10*time.Millisecond {
		return fmt.Errorf("config town.watch_every %s: at least 10ms", c.Town.WatchEvery)
	}
	if c.Dialog.IdleTimeout < time.Minute {
		return fmt.Errorf("config dialog.idle_timeout %s: at least 1m", c.Dialog.IdleTimeout)
	}
	if c.Console.HouseholdRadiusM < 0 || c.Console.HouseholdRadiusM > 2000 {
		return fmt.Errorf("config console.household_radius_m %g: want 0-2000 metres (0 lists no nearby cases)", c.Console.HouseholdRadiusM)
	}
	if c.Console.StaffSlots < 0 || c.Console.StaffSlots > 64 {
		return fmt.Errorf("config console.staff_slots %d: want 0 (one per CPU but one) to 64", c.Console.StaffSlots)
	}
	if c.Dialog.JoinRadiusM < 0 || c.Dialog.JoinRadiusM > 5000 {
		return fmt.Errorf("config dialog.join_radius_m %g: want 0-5000 metres (0 turns 附议 off)", c.Dialog.JoinRadiusM)
	}
	sv := c.Supervision
	switch {
	case sv.SweepEvery < time.Second:
		return fmt.Errorf("config supervision.sweep_every %s: at least 1s", sv.SweepEvery)
	case sv.WarnAt <= 0 || sv.WarnAt >= 1:
		return fmt.Errorf("config supervision.warn_at %g: want a share between 0 and 1, e.g. 0.75", sv.WarnAt)
	case sv.EscalateEvery < time.Minute:
		return fmt.Errorf("config supervision.escalate_every %s: at least 1m", sv.EscalateEvery)
	case sv.AcceptWithin < time.Minute:
		return fmt.Errorf("config supervision.accept_within %s: at least 1m", sv.AcceptWithin)
	case sv.RatingWait < time.Minute:
		return fmt.Errorf("config supervision.rating_wait %s: at least 1m", sv.RatingWait)
	case c.Staff.BindCodeTTL < time.Minute || c.Staff.BindCodeTTL > 24*time.Hour:
		return fmt.Errorf("config staff.bind_code_ttl %s: between 1m and 24h", c.Staff.BindCodeTTL)
	}
	if err := c.validateGuards(); err != nil {
		return err
	}
	if err := c.validateTowns(); err != nil {
		return err
	}
	if !slices.Contains([]string{"json", "text"}, c.Log.Format) {
		return fmt.Errorf("config log.format %q: want json or text", c.Log.Format)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		return fmt.Errorf("config log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	return nil
}

// AdminTokenFile is where the admin endpoints' token is kept: admin.token_file,
// or admin-token beside the store file.
func (c *Config) AdminTokenFile() string {
	if c.Admin.TokenFile != "" {
		return c.Admin.TokenFile
	}
	return filepath.Join(filepath.Dir(c.Store.Path), "admin-token")
}

// Open311Keys maps each Open311 API key to its channel name.
func (c *Config) Open311Keys() (map[string]string, error) {
	return open311Keys(c.Open311.APIKeys, "open311.api_keys")
}

// open311Keys reads "channel:key" pairs; name is their setting.
func open311Keys(pairs []string, name string) (map[string]string, error) {
	keys := make(map[string]string, len(pairs))
	for i, pair := range pairs {
		channel, key, ok := strings.Cut(pair, ":")
		if !ok || !validChannel(channel) || len(key) < 16 {
			return nil, fmt.Errorf("config %s[%d]: want channel:key, channel of a-z 0-9 _ -, key of 16 or more characters", name, i)
		}
		if _, dup := keys[key]; dup {
			return nil, fmt.Errorf("config %s[%d]: key used twice", name, i)
		}
		keys[key] = channel
	}
	return keys, nil
}

func validChannel(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// validateWeCom checks the WeCom app's settings when it is on (corp_id
// set): every one is needed, the agent_id is a number, the aes_key an
// EncodingAESKey. Nothing of WeCom runs while corp_id is empty.
func (c *Config) validateWeCom() error {
	w := c.WeCom
	if w.CorpID == "" {
		return nil
	}
	for _, kv := range []struct{ key, value string }{{"wecom.agent_id", w.AgentID}, {"wecom.secret", w.Secret},
		{"wecom.token", w.Token}, {"wecom.aes_key", w.AESKey}} {
		if kv.value == "" {
			return fmt.Errorf("config %s: required when wecom.corp_id is set", kv.key)
		}
	}
	if n, err := strconv.Atoi(w.AgentID); err != nil || n <= 0 {
		return fmt.Errorf("config wecom.agent_id %q: want the app's AgentId, a number", w.AgentID)
	}
	if key, err := base64.StdEncoding.DecodeString(w.AESKey + "="); len(w.AESKey) != 43 || err != nil || len(key) != 32 {
		return fmt.Errorf("config wecom.aes_key: an EncodingAESKey is 43 characters of base64")
	}
	if u, err := url.Parse(w.APIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("config wecom.api_base %q: want an http(s) URL", w.APIBase)
	}
	return nil
}

// RequireWeChat checks the settings a real deployment cannot run without.
func (c *Config) RequireWeChat() error {
	for _, kv := range []struct{ key, value string }{
		{"wechat.app_id", c.WeChat.AppID}, {"wechat.app_secret", c.WeChat.AppSecret}, {"wechat.token", c.WeChat.Token},
	} {
		if kv.value == "" {
			return fmt.Errorf("config %s: required (set it in the file or as %s%s)", kv.key, EnvPrefix,
				strings.ToUpper(strings.ReplaceAll(kv.key, ".", "_")))
		}
	}
	return nil
}

// Rules are the supervision settings as the ledger takes them.
func (c *Config) Rules() core.Rules {
	return core.Rules{WarnAt: c.Supervision.WarnAt, EscalateEvery: c.Supervision.EscalateEvery,
		AcceptWithin: c.Supervision.AcceptWithin, RatingWait: c.Supervision.RatingWait}
}

// validateNotices checks the pages' addresses and each template mapping:
// a known kind, an id, and fields whose type can show the value mapped to
// them (core.CheckTemplateField).
func (c *Config) validateNotices() error {
	if c.WeChat.TemplateID != "" {
		return fmt.Errorf("config wechat.template_id: WeChat dropped first/keyword templates in 2023; " +
			"map templates from the category library under wechat.templates instead (README: Running against the real WeChat)")
	}
	for _, kv := range []struct{ key, value string }{{"wechat.public_base", c.WeChat.PublicBase}, {"wechat.oauth_base", c.WeChat.OAuthBase}} {
		if kv.value == "" && kv.key == "wechat.public_base" {
			continue
		}
		if u, err := url.Parse(kv.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("config %s %q: want an http(s) URL without query", kv.key, kv.value)
		}
	}
	for _, set := range []struct {
		key   string
		ts    map[string]NoticeTemplate
		kinds []core.NoticeKind
	}{
		{"wechat.templates", c.WeChat.Templates, core.NoticeKinds()},
		{"wechat.subscribe", c.WeChat.Subscribe, []core.NoticeKind{core.NoticeResidentProgress, core.NoticeRating}},
	} {
		names := make([]string, 0, len(set.ts))
		for kind := range set.ts {
			names = append(names, kind)
		}
		sort.Strings(names)
		for _, kind := range names {
			t := set.ts[kind]
			if !slices.Contains(set.kinds, core.NoticeKind(kind)) {
				return fmt.Errorf("config %s.%s: unknown kind of notice (want %s)", set.key, kind, kindList(set.kinds))
			}
			if strings.TrimSpace(t.ID) == "" && len(t.Fields) > 0 {
				return fmt.Errorf("config %s.%s.id: empty; give the template's ID from the account's own list "+
					"(模板消息 or 订阅通知 → 我的模板) in the file or in %s%s_%s_ID, or remove the entry", set.key, kind,
					EnvPrefix, strings.ToUpper(strings.ReplaceAll(set.key, ".", "_")), strings.ToUpper(kind))
			}
			if strings.TrimSpace(t.ID) == "" || len(t.Fields) == 0 {
				return fmt.Errorf("config %s.%s: want {id: …, fields: {key: value}}", set.key, kind)
			}
			keys := make([]string, 0, len(t.Fields))
			for k := range t.Fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if err := core.CheckTemplateField(k, t.Fields[k]); err != nil {
					return fmt.Errorf("config %s.%s.fields.%s: %w", set.key, kind, k, err)
				}
			}
		}
	}
	return nil
}

func kindList(kinds []core.NoticeKind) string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return strings.Join(out, ", ")
}

// validateASR checks the speech recognition settings when a provider is set.
func (c *Config) validateASR() error {
	a := c.ASR
	switch a.Provider {
	case "":
		return nil
	case "tencent":
	default:
		return fmt.Errorf("config asr.provider %q: want tencent, or empty for none", a.Provider)
	}
	switch {
	case a.SecretID == "" || a.SecretKey == "":
		return fmt.Errorf("config asr.secret_id and asr.secret_key: required with asr.provider tencent (put the key in %sASR_SECRET_KEY)", EnvPrefix)
	case a.Region == "":
		return fmt.Errorf("config asr.region: required, e.g. ap-guangzhou")
	case a.Engine == "" || strings.ContainsAny(a.Engine, " /"):
		return fmt.Errorf("config asr.engine %q: want 16k_zh, or 16k_yue for Cantonese", a.Engine)
	}
	if a.Endpoint != "" && strings.Contains(a.Endpoint, "://") {
		if u, err := url.Parse(a.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config asr.endpoint %q: want a host or an http(s) URL", a.Endpoint)
		}
	}
	return nil
}

// checkValkeyTag is valkeystream.CheckTag's rule, said for the config key: a
// brace would end the hash tag early and move the ledger to another slot.
func checkValkeyTag(tag string) error {
	if tag == "" || len(tag) > 64 {
		return fmt.Errorf("config valkey.tag %q: want 1 to 64 characters (default gb)", tag)
	}
	for _, r := range tag {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)) {
			return fmt.Errorf("config valkey.tag %q: only letters, digits and - _ . : (no braces or spaces), e.g. gb:chikan", tag)
		}
	}
	return nil
}
