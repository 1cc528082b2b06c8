package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"gridbot/bot"
	"gridbot/configs"
	"gridbot/core"
	"gridbot/dialogs"
	"gridbot/internal/clientaddr"
	"gridbot/media"
	"gridbot/metrics"
	"gridbot/script"
	"gridbot/store"
	"gridbot/store/embedded"
	valkeystore "gridbot/store/valkey"
	"gridbot/wxpages"
)

// A city deployment (README: Towns as tenants) serves several towns from
// one process, one listener and one official account. Each town is a whole
// app of its own — store, ledger, dialogs, console, Open311, pages, router,
// sweeper — wired by the same wire as a single town, so nothing of one town
// can reach another's data: there is no shared ledger to filter. What the
// towns share is what the one account is: its access token (two token
// sources would invalidate each other's), its callback, its
// customer-service window, and the resident's web-authorised sessions of
// the pages inside WeChat. The city itself keeps one thing of its own: which
// town each resident is routed to.

// sharedAccount is what the towns of a city share: the one official
// account's token, window and pages' sessions.
type sharedAccount struct {
	tokens   bot.Tokens
	window   *bot.Window
	pageKeys core.Ephemeral
	// jsSign signs the pages' wx.config with the account's one
	// jsapi_ticket; nil when no page asks for it.
	jsSign wxpages.JSSign
}

// townParts are the parts of one town's app that the city dispatches to.
type townParts struct {
	console, open311, pages, media http.Handler
	dialog                         *dialogs.Service
	households                     *core.Households
	roster                         *core.Roster
	pagesServer                    *wxpages.Server
}

// cityTown is one town of a running city.
type cityTown struct {
	key, name string
	app       *app
}

// townSource is one town to open: its entry of towns: and its directory
// (a file watcher for serve, the samples in memory for the demo).
type townSource struct {
	entry configs.TownEntry
	town  core.TownSource
}

func (t *cityTown) town() *core.Town { return t.app.book.Town() }

// respond answers m in the town's dialogs. The callback batches the
// dialog's deferred writes (the session) into the city's store; here they
// go to the town's own store instead.
func (t *cityTown) respond(ctx context.Context, m core.Message) (string, error) {
	ctx, writes := core.WithKeyWrites(ctx)
	reply, err := t.app.parts.dialog.Respond(ctx, m)
	if err != nil {
		return "", err
	}
	if ops := writes.Take(); len(ops) > 0 {
		core.BatchKeys(ctx, t.app.backend.store, ops)
		for _, op := range ops {
			if op.Err != nil {
				return "", fmt.Errorf("town %s: save session: %w", t.key, op.Err)
			}
		}
	}
	return reply, nil
}

// city is the running deployment of several towns.
type city struct {
	name  string
	towns []*cityTown
	byKey map[string]*cityTown
	// store is the city's own: the residents' routes, the callback's
	// marks and the window (city.db, or the Valkey keys under city:).
	store   store.Store
	blind   core.Blinder
	metrics *metrics.Metrics
	log     *slog.Logger
	proxies clientaddr.Proxies
	secure  bool
	// callback is the account's one callback, answered by cityFront.
	callback *bot.Callback
	// cityStaff serves the city's own view of its towns' figures.
	cityStaff *cityStaff
}

// runCity is serve for a configuration with towns.
func runCity(ctx context.Context, cfg *configs.Config, env Env, log *slog.Logger) error {
	towns, err := configs.WatchCityTowns(cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on http.addr %s: %w", cfg.HTTP.Addr, err)
	}
	adminLn, adminToken, err := listenAdmin(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	if adminLn != nil {
		defer adminLn.Close()
	}
	sources := make([]townSource, len(towns))
	for i, t := range towns {
		sources[i] = townSource{entry: t.Entry, town: t.Town}
	}
	c, err := openCity(ctx, cfg, sources, instanceName(ln), log)
	if err != nil {
		ln.Close()
		return err
	}
	// The city's listener is served by an app of no town of its own,
	// which runs every town's app beside it and stops them after the
	// listener stops taking requests.
	front := &app{log: log, handler: c.handler(), maxConns: cfg.HTTP.MaxConns, maxConnsPerAddr: cfg.HTTP.MaxConnsPerAddr,
		proxies: c.proxies}
	if front.maxConns == 0 {
		front.maxConns = defaultMaxConns()
	}
	base := "http://" + ln.Addr().String()
	if cfg.HTTP.TLSCertFile != "" {
		if front.tls, err = serverTLS(cfg.HTTP.TLSCertFile, cfg.HTTP.TLSKeyFile, log); err != nil {
			ln.Close()
			c.close()
			return err
		}
		base = "https://" + ln.Addr().String()
	}
	for i := range c.towns {
		go towns[i].Town.Run(ctx, cfg.Town.WatchEvery)
	}
	log.Info("gridbot serving a city", "addr", ln.Addr().String(), "city", c.name, "towns", strings.Join(c.townKeys(), ","),
		"safe_mode", cfg.WeChat.AESKey != "", "tls", front.tls != nil)
	u := URLs{Console: base + "/", WeChat: base + "/wechat"}
	defer serveAdmin(adminLn, adminGuard(adminToken, c.adminMux()))()
	if adminLn != nil {
		u.Admin = adminLn.Addr().String()
	}
	if env.Ready != nil {
		env.Ready(u)
	}
	return c.run(ctx, front, ln)
}

// openCity opens the city's store and every town's app.
func openCity(ctx context.Context, cfg *configs.Config, towns []townSource, instance string, log *slog.Logger) (*city, error) {
	keys, err := loadDataKeys(cfg)
	if err != nil {
		return nil, err
	}
	proxies, err := clientaddr.Parse(cfg.HTTP.TrustedProxies)
	if err != nil {
		return nil, err
	}
	st, shared, err := openCityStore(ctx, cfg, keys, log)
	if err != nil {
		return nil, err
	}
	c := &city{name: cfg.City.Name, byKey: map[string]*cityTown{}, store: st, blind: keys.blinder(),
		metrics: metrics.New(metrics.Sources{}), log: log, proxies: proxies, secure: cfg.Console.SecureCookies}
	if c.name == "" {
		c.name = "本市"
	}
	account := &sharedAccount{
		tokens: bot.NewTokenSource(bot.TokenConfig{AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret,
			APIBase: cfg.WeChat.APIBase, Shared: shared, Log: log}),
		window:   &bot.Window{Store: st},
		pageKeys: st,
	}
	// The pages' JS-SDK ticket is the account's too: one source for every
	// town, as pagesServer makes one for a single town.
	if len(cfg.WeChat.Subscribe) > 0 {
		tickets, err := bot.NewTicketSource(bot.TicketConfig{AppID: cfg.WeChat.AppID, Tokens: account.tokens,
			APIBase: cfg.WeChat.APIBase, Shared: shared, Log: log.With("part", "wechat")})
		if err == nil {
			signer := &bot.JSSigner{AppID: cfg.WeChat.AppID, Tickets: tickets}
			account.jsSign = func(ctx context.Context, page string) (wxpages.JSConfig, error) {
				c, err := signer.Config(ctx, page)
				return wxpages.JSConfig(c), err
			}
		}
	}
	for _, t := range towns {
		tc := cfg.ForTown(t.entry)
		tlog := log.With("town", t.entry.Key)
		if tc.Store.Kind != "valkey" {
			if err := os.MkdirAll(filepath.Dir(tc.Store.Path), 0o700); err != nil {
				c.close()
				return nil, fmt.Errorf("town %s: %w", t.entry.Key, err)
			}
		}
		b, err := openBackend(ctx, tc, t.town.Town(), instance, tlog)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("town %s: open the store: %w", t.entry.Key, err)
		}
		b.account = account
		a, err := wire(tc, t.town, instance, tlog, b)
		if err != nil {
			b.close()
			c.close()
			return nil, fmt.Errorf("town %s: %w", t.entry.Key, err)
		}
		name := t.entry.Name
		if name == "" {
			name = t.town.Town().Name
		}
		ct := &cityTown{key: t.entry.Key, name: name, app: a}
		c.towns = append(c.towns, ct)
		c.byKey[ct.key] = ct
	}
	c.cityStaff = newCityStaff(c, cfg)
	if c.callback, err = c.wireCallback(cfg, account); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// openCityStore opens what the city keeps apart from its towns: an
// embedded file beside theirs, or Valkey keys under the city's prefix.
// shared is where instances share the account's token (nil in process).
func openCityStore(ctx context.Context, cfg *configs.Config, keys dataKeys, log *slog.Logger) (store.Store, core.Ephemeral, error) {
	if cfg.Store.Kind == "valkey" {
		st, err := valkeystore.Open(ctx, valkeystore.Options{Addr: cfg.Valkey.Addr, Password: cfg.Valkey.Password,
			DB: cfg.Valkey.DB, Prefix: cfg.CityValkeyPrefix(), Tag: cfg.CityValkeyTag(), CasePrefix: "CITY", Sealer: keys.sealer()})
		if err != nil {
			return nil, nil, fmt.Errorf("city store: %w", err)
		}
		return st, st, nil
	}
	if err := os.MkdirAll(filepath.Dir(cfg.CityStorePath()), 0o700); err != nil {
		return nil, nil, fmt.Errorf("city store: %w", err)
	}
	st, err := embedded.Open(cfg.CityStorePath(), embedded.Options{CasePrefix: "CITY", Log: log, Sealer: keys.sealer()})
	if err != nil {
		return nil, nil, fmt.Errorf("city store: %w", err)
	}
	return st, nil, nil
}

// close releases the towns opened so far and the city's store (a failed
// start).
func (c *city) close() {
	for _, t := range c.towns {
		t.app.backend.close()
	}
	c.store.Close()
}

// run serves the listener through front and runs every town until ctx is
// done; the towns stop after the listener has.
func (c *city) run(ctx context.Context, front *app, ln net.Listener) error {
	townsCtx, stopTowns := context.WithCancel(context.WithoutCancel(ctx))
	defer stopTowns()
	var wg sync.WaitGroup
	errs := make([]error, len(c.towns))
	failed := make(chan struct{}, len(c.towns))
	for i, t := range c.towns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = t.app.run(townsCtx, nil, nil); errs[i] != nil {
				errs[i] = fmt.Errorf("town %s: %w", t.key, errs[i])
				failed <- struct{}{}
			}
		}()
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	defer stopServe()
	go func() {
		select {
		case <-failed:
			stopServe()
		case <-serveCtx.Done():
		}
	}()
	err := front.serveOnly(serveCtx, ln)
	stopTowns()
	wg.Wait()
	if cerr := c.store.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close the city store: %w", cerr)
	}
	return errors.Join(append([]error{err}, errs...)...)
}

// serveOnly serves a's handler on ln until ctx is done, then drains the
// requests under way: the listener of a city, whose towns run apart.
func (a *app) serveOnly(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	srv := a.serveHTTP(ln, errc)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), httpDrain)
	defer stop()
	srv.Shutdown(shutdownCtx)
	return err
}

// townKeys lists the towns' keys, in the configuration's order.
func (c *city) townKeys() []string {
	keys := make([]string, len(c.towns))
	for i, t := range c.towns {
		keys[i] = t.key
	}
	return keys
}

// adminMux is the city's admin endpoints: the profiler of the one process,
// and each town's backup under ?town=KEY.
func (c *city) adminMux() *http.ServeMux {
	return adminMux(func(w http.ResponseWriter, r *http.Request) {
		t := c.byKey[r.URL.Query().Get("town")]
		if t == nil {
			http.Error(w, "name the town: /backup?town=KEY ("+strings.Join(c.townKeys(), ", ")+")", http.StatusBadRequest)
			return
		}
		t.app.serveBackup(w, r)
	})
}

// handler is the city's one listener: the callback for every town, and
// each request of the console, Open311 and the pages dispatched to the one
// town it belongs to.
func (c *city) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/wechat", c.callback)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", c.ready)
	towns := make(map[string]*metrics.Metrics, len(c.towns))
	for _, t := range c.towns {
		towns[t.key] = t.app.metrics
	}
	mux.Handle("GET /metrics", c.metrics.HandlerWithTowns(towns))
	mux.Handle("/open311/v2/", c.open311())
	mux.Handle("/wx/", http.HandlerFunc(c.pages))
	c.cityStaff.routes(mux)
	mux.HandleFunc("GET /api/towns", c.handleTowns)
	mux.HandleFunc("POST /api/town", c.handleChooseTown)
	mux.Handle(media.Path, c.byConsoleTown(func(t *cityTown) http.Handler { return t.app.parts.media }))
	mux.Handle("/", c.byConsoleTown(func(t *cityTown) http.Handler { return t.app.parts.console }))
	return mux
}

// ready answers 200 when every town is ready.
func (c *city) ready(w http.ResponseWriter, r *http.Request) {
	for _, t := range c.towns {
		select {
		case <-t.app.router.Running():
		default:
			http.Error(w, "router not running: "+t.key, http.StatusServiceUnavailable)
			return
		}
		if err := t.app.backend.ping(r.Context()); err != nil {
			http.Error(w, "store not answering: "+t.key, http.StatusServiceUnavailable)
			return
		}
	}
	fmt.Fprintln(w, "ready")
}

// script reads and writes traditional characters for the city's front
// (every town's backend has the same converter).
func (c *city) script() *script.Converter { return c.towns[0].app.backend.script }

// wireCallback makes the one callback of the account, answering through
// the city's front.
func (c *city) wireCallback(cfg *configs.Config, account *sharedAccount) (*bot.Callback, error) {
	return bot.NewCallback(bot.CallbackConfig{Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID,
		AESKey: cfg.WeChat.AESKey, PrevAESKey: cfg.WeChat.PrevAESKey, MaxClockSkew: cfg.WeChat.MaxClockSkew,
		Responder: &cityFront{city: c}, Dedupe: c.store, Window: account.window, Observe: c.metrics.Callback,
		Log: c.log.With("part", "city")})
}

// blindOpenID keys a resident's route by a keyed digest of their openid
// (HMAC-SM3 with the data keys), or an unkeyed SHA-256 without keys, never
// the openid itself.
func (c *city) blindOpenID(openid string) string {
	if c.blind != nil {
		return c.blind.Blind(blindRouteDomain, openid)
	}
	sum := sha256.Sum256([]byte(blindRouteDomain + "\x00" + openid))
	return hex.EncodeToString(sum[:])
}

// blindRouteDomain separates the routes' digests from other blinded values.
const blindRouteDomain = "city-route"

// townConfig is the configuration of the town a store command works on:
// cfg itself without towns, the named town's (-town KEY) with them.
func townConfig(cfg *configs.Config, key string) (*configs.Config, error) {
	if !cfg.HasTowns() {
		if key != "" {
			return nil, fmt.Errorf("-town %s: the configuration lists no towns", key)
		}
		return cfg, nil
	}
	keys := make([]string, len(cfg.Towns))
	for i, t := range cfg.Towns {
		keys[i] = t.Key
		if t.Key == key {
			tc := cfg.ForTown(t)
			if tc.Store.Kind != "valkey" {
				if err := os.MkdirAll(filepath.Dir(tc.Store.Path), 0o700); err != nil {
					return nil, err
				}
			}
			return tc, nil
		}
	}
	if key == "" {
		return nil, fmt.Errorf("the configuration lists towns: name one with -town (%s)", strings.Join(keys, ", "))
	}
	return nil, fmt.Errorf("-town %s: not a town of the configuration (%s)", key, strings.Join(keys, ", "))
}
