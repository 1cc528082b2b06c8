package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"gridbot/asr"
	"gridbot/audit"
	"gridbot/bot"
	"gridbot/configs"
	"gridbot/console"
	"gridbot/core"
	"gridbot/dialogs"
	"gridbot/internal/clientaddr"
	"gridbot/media"
	"gridbot/metrics"
	"gridbot/open311"
	"gridbot/routing"
	"gridbot/script"
)

// app is one running gridbot: every part, wired.
type app struct {
	log     *slog.Logger
	backend *backend
	router  *message.Router
	sweeper *routing.Sweeper
	// learner keeps the category guess's model of staff corrections
	// (issue 16) current with the store every instance shares.
	learner *dialogs.Learner
	hub     *console.Hub
	book    *core.StaffBook
	metrics *metrics.Metrics
	// retention erases personal data of cases closed this long ago.
	retention  time.Duration
	ledger     *core.Ledger
	mediaStore *core.MediaStore
	handler    http.Handler
	// maxConns and maxConnsPerAddr bound the HTTP listener's connections;
	// the per-address bound spares the trusted proxies.
	maxConns, maxConnsPerAddr int
	proxies                   clientaddr.Proxies
	// adminToken is the bearer token of the admin endpoints.
	adminToken string
	// directoryEdits ends sessions the town directory file took away.
	directoryEdits *directoryEdits
	// weCom is the WeCom app and the grid teams' groups; nil while
	// wecom.corp_id is empty.
	weCom *weComParts
	// trail is the audit trail; auditKeep how long its records are kept
	// (0: for ever).
	trail     *audit.Trail
	auditKeep time.Duration
	// tls, when set, serves HTTPS on the listener (http.tls_cert_file).
	tls *tls.Config
	// parts are what a city (city.go) dispatches to, town by town.
	parts townParts
}

// newApp wires the service from its configuration and town (every part asks
// town for the directory in force, so a reload reaches all of them). instance
// names this process among the service's instances.
func newApp(ctx context.Context, cfg *configs.Config, town core.TownSource, instance string, log *slog.Logger) (*app, error) {
	b, err := openBackend(ctx, cfg, town.Town(), instance, log)
	if err != nil {
		return nil, err
	}
	a, err := wire(cfg, town, instance, log, b)
	if err != nil {
		b.close()
		return nil, err
	}
	return a, nil
}

// learnerRefreshEvery is how often an instance learns the corrections
// other instances handled.
const learnerRefreshEvery = 30 * time.Second

// The dialogs read the session ahead while the callback checks for a retry.
var _ bot.Prefetcher = (*dialogs.Service)(nil)

func wire(cfg *configs.Config, towns core.TownSource, instance string, log *slog.Logger, b *backend) (*app, error) {
	a := &app{log: log, backend: b, maxConns: cfg.HTTP.MaxConns, maxConnsPerAddr: cfg.HTTP.MaxConnsPerAddr}
	if a.maxConns == 0 {
		a.maxConns = defaultMaxConns()
	}
	st := b.store
	// Staff accounts and posts changed at runtime (the console's 人员管理)
	// are laid over the directory; every part reads the town through it.
	book, err := core.NewStaffBook(context.Background(), towns, st)
	if err != nil {
		return nil, err
	}
	a.book = book
	warnAdministration(book.Town(), log)
	var town core.TownSource = book
	a.hub = console.NewHub(log)
	a.hub.Limit(cfg.Console.WebsocketsPerPerson, cfg.Console.WebsocketsPerAddr)
	a.directoryEdits = &directoryEdits{towns: towns, keys: st, hub: a.hub, log: log, last: towns.Town()}
	a.metrics = metrics.New(metrics.Sources{WebsocketClients: a.hub.Clients, Cases: st})
	roster := &core.Roster{Town: town, Records: st, Keys: st, CodeTTL: cfg.Staff.BindCodeTTL,
		BindAttempts: cfg.Staff.BindAttempts, BindLock: cfg.Staff.BindLock, Log: log}
	ledger := &core.Ledger{Store: st, Town: town, Roster: roster, Rules: cfg.Rules(),
		Limits: cfg.SubmitLimits(open311.ResidentPrefix)}
	// The window (5 sends within 48 hours of a message, 3 within a minute
	// of a tap) and the 订阅通知 grants are the user's, whoever serves them,
	// so they live in the shared store.
	window := &bot.Window{Store: st}
	var tokens bot.Tokens = bot.NewTokenSource(bot.TokenConfig{AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret,
		APIBase: cfg.WeChat.APIBase, Shared: b.shared, Log: log})
	if b.account != nil {
		// A town of a city: the one account's token and window.
		window, tokens = b.account.window, b.account.tokens
	}
	sender, err := bot.NewSender(bot.SenderConfig{Tokens: tokens, APIBase: cfg.WeChat.APIBase,
		Templates: noticeTemplates(cfg.WeChat.Templates), Subscribe: noticeTemplates(cfg.WeChat.Subscribe),
		PublicBase: cfg.WeChat.PublicBase, Window: window, Log: log})
	if err != nil {
		return nil, err
	}
	fetcher, err := bot.NewMediaFetcher(bot.MediaConfig{Tokens: tokens, APIBase: cfg.WeChat.APIBase})
	if err != nil {
		return nil, err
	}
	hear, err := newHearer(cfg, fetcher, log)
	if err != nil {
		return nil, err
	}
	mediaStore := &core.MediaStore{Records: st, Objects: b.objects}
	households := &core.Households{Records: st, Media: mediaStore, Blind: b.keys.blinder()}
	// Residents' words: traditional characters read and answered in kind,
	// and a category guess that learns from staff corrections.
	conv := b.script
	if conv == nil {
		if conv, err = script.New(); err != nil {
			return nil, err
		}
	}
	guessBook := &core.GuessBook{Records: st}
	// 二十户包联: the directory's and the imported links, and the visits.
	links := &core.LinkBook{Town: town, Records: st}
	visits := &core.Visits{Links: links, Store: st, Ledger: ledger}
	a.learner = &dialogs.Learner{Book: guessBook, Cases: ledger, Town: town, Script: conv, Log: log}
	dialog := &dialogs.Service{
		Engine: &dialogs.Engine{Town: town, Ledger: ledger, IdleTimeout: cfg.Dialog.IdleTimeout, Logger: log,
			Households: households, JoinRadiusM: cfg.Dialog.JoinRadiusM, Observe: a.metrics.Dialog, Hear: hear,
			Script: conv, Model: a.learner, Guesses: guessBook},
		Desk:  &dialogs.Desk{Town: town, Ledger: ledger, Roster: roster, Keys: st, Logger: log, Visits: visits},
		Store: st, Logger: log,
	}
	weCom, err := wireWeCom(cfg, town, st, dialog.Desk, a.metrics, log)
	if err != nil {
		return nil, err
	}
	a.weCom = weCom
	roster.Channels = weCom.order()
	if err := weCom.relayPhotos(dialog.Desk, tokens, cfg.WeChat.APIBase, mediaStore); err != nil {
		return nil, err
	}
	callback, err := bot.NewCallback(bot.CallbackConfig{Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID,
		AESKey: cfg.WeChat.AESKey, PrevAESKey: cfg.WeChat.PrevAESKey, MaxClockSkew: cfg.WeChat.MaxClockSkew,
		Responder: dialog, Dedupe: st, Window: window, Observe: a.metrics.Callback, Log: log})
	if err != nil {
		return nil, err
	}

	proxies, err := clientaddr.Parse(cfg.HTTP.TrustedProxies)
	if err != nil {
		return nil, err
	}

	a.proxies = proxies
	// The console reads through a store of its own where there is one (a
	// second Valkey connection): a staff member's large read never holds a
	// resident's command behind it on the wire (issue 21).
	staffSt, staffLedger := st, ledger
	if b.staffStore != nil {
		staffSt = b.staffStore
		l := *ledger
		l.Store = staffSt
		staffLedger = &l
	}
	a.trail, a.auditKeep = &audit.Trail{Store: st, Log: log}, cfg.Audit.Keep
	if !cfg.Security.SecondFactorRequired() {
		log.Warn("console logins need a password only (security.second_factor: off): 等保 level 3 requires two factors")
	}
	consoleSrv := &console.Server{Audit: a.trail, SecondFactor: cfg.Security.SecondFactorRequired(), Factors: st,
		SessionTTL: cfg.Security.SessionLifetime, IdleTimeout: cfg.Security.IdleTimeout, Passwords: cfg.Security.PasswordPolicy(),
		SingleSession: cfg.Security.ConcurrentSessions == "end_older", Simplify: conv.Simplified, Guesses: guessBook, Town: town, Store: staffSt, Ledger: staffLedger, Sessions: staffSt, Log: log,
		AllowedOrigins: cfg.Console.AllowedOrigins, Hub: a.hub, Book: book, Roster: roster,
		TiandituKey: cfg.Console.TiandituKey, Proxies: proxies,
		SecureCookies: cfg.Console.SecureCookies}
	consoleSrv.Households, consoleSrv.Media = households, mediaStore
	consoleSrv.Visits = &core.Visits{Links: &core.LinkBook{Town: town, Records: staffSt}, Store: staffSt, Ledger: staffLedger}
	consoleSrv.HouseholdRadiusM, consoleSrv.StaffSlots = cfg.Console.HouseholdRadiusM, cfg.Console.StaffSlots

	a.router, err = routing.NewRouter(routing.Config{Instance: instance, Relay: b.relay},
		&routing.Handlers{Sealer: b.keys.sealer(), Ledger: ledger, Town: town, Roster: roster, Notifier: sender, Channels: weCom.channels(), Groups: weCom.groupsOrNil(), Marks: st,
			Feed: a.hub.Publish, Fetcher: fetcher, Media: mediaStore, Observe: a.metrics, Log: log,
			Learn: a.learner.Learn, Script: conv, Links: links},
		b.subscriberFor, b.publisher)
	if err != nil {
		return nil, err
	}
	a.retention, a.ledger, a.mediaStore = cfg.Retention.PersonalDataAfter, ledger, mediaStore
	// Every instance sweeps; the ledger's checks make each step land once.
	a.sweeper = &routing.Sweeper{Ledger: ledger, Every: cfg.Supervision.SweepEvery, Log: log}

	mux := http.NewServeMux()
	mux.Handle("/wechat", callback)
	if weCom != nil {
		mux.Handle("/wecom", weCom.callback)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("GET /metrics", a.metrics.Handler())
	keys, err := cfg.Open311Keys()
	if err != nil {
		return nil, err
	}
	a.parts.open311 = (&open311.Server{Town: town, Store: st, Ledger: ledger, APIKeys: keys, PublicRead: cfg.Open311.PublicRead,
		Log: log.With("part", "open311")}).Handler()
	mux.Handle("/open311/v2/", a.parts.open311)
	pages := pagesServer(cfg, town, ledger, roster, mediaStore, st, tokens, b.shared, log)
	pages.Simplify = conv.Simplified
	if b.account != nil {
		pages.Keys = b.account.pageKeys
		if pages.JSSign != nil && b.account.jsSign != nil {
			pages.JSSign = b.account.jsSign
		}
	}
	if weCom != nil {
		pages.WeComAuth = weCom.auth
	}
	a.parts.pages = pages.Handler()
	mux.Handle("/wx/", a.parts.pages)
	a.parts.media = consoleSrv.Audited(core.AuditViewMedia, "id",
		&media.Handler{Town: town, Cases: ledger, Media: mediaStore, Staff: consoleSrv.SessionStaff, Log: log})
	mux.Handle(media.Path, a.parts.media)
	a.parts.console = consoleSrv.Handler()
	mux.Handle("/", a.parts.console)
	a.parts.dialog, a.parts.households, a.parts.roster, a.parts.pagesServer = dialog, households, roster, pages
	a.handler = mux
	return a, nil
}

// ready answers 200 when the router is running and the store answers.
func (a *app) ready(w http.ResponseWriter, r *http.Request) {
	select {
	case <-a.router.Running():
	default:
		http.Error(w, "router not running", http.StatusServiceUnavailable)
		return
	}
	if err := a.backend.ping(r.Context()); err != nil {
		a.metrics.StoreUnreachable()
		http.Error(w, "store not answering", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// run serves on ln until ctx is done, then shuts down in order: stop taking
// requests, let the router finish its handlers, close the store.
func (a *app) run(ctx context.Context, ln, adminLn net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.hub.Run(ctx)
	}()
	routerDone := make(chan struct{})
	go func() {
		defer close(routerDone)
		if err := a.router.Run(ctx); err != nil {
			errc <- fmt.Errorf("router: %w", err)
		}
	}()
	select {
	case <-a.router.Running():
	case <-routerDone:
		a.backend.close()
		return <-errc
	}
	// The relay starts after the router subscribes: GoChannel drops what is
	// published to nobody.
	if a.backend.relay != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.backend.relay.Run(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.sweeper.Run(ctx)
	}()
	for _, run := range a.backend.background {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.learner.Run(ctx, learnerRefreshEvery)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		every(ctx, staffRefreshEvery, a.refreshStaff)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		every(ctx, directoryEditsEvery, a.directoryEdits.check)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		every(ctx, probeEvery, a.probeStore)
	}()
	if a.weCom != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.weCom.groups.Run(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		// What an older version kept in the store moves out while the
		// service serves (readable throughout); a failure is tried again
		// at the next start.
		if err := migrate(ctx, a.backend.store, a.backend.store, a.mediaStore, a.log); err != nil && ctx.Err() == nil {
			a.log.Error("migration at start", "err", err)
		}
	}()
	if a.auditKeep > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			every(ctx, auditTrimEvery, a.trimAudit)
		}()
	}
	if a.retention > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.eraseExpired(ctx)
		}()
	}
	if ln == nil {
		// A town of a city: the city serves the listener.
		return a.wait(ctx, cancel, errc, routerDone, &wg)
	}
	srv := a.serveHTTP(ln, errc)
	defer serveAdmin(adminLn, a.adminHandler())()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	// The stop is bounded, under the 10 s a container runtime waits before
	// SIGKILL: requests under way get httpDrain, the router's handlers
	// routing.DefaultCloseTimeout (what they leave stays in the outbox or
	// the stream), the store's short-lived keys its save budget.
	shutdownCtx, stop := context.WithTimeout(context.Background(), httpDrain)
	defer stop()
	srv.Shutdown(shutdownCtx)
	return a.stopParts(runErr, cancel, routerDone, &wg)
}

// serveHTTP serves a's handler on ln, bounded (connections, timeouts, TLS
// when configured), and reports a failure to serve on errc.
func (a *app) serveHTTP(ln net.Listener, errc chan<- error) *http.Server {
	limited := newConnLimiter(ln, a.maxConns, a.maxConnsPerAddr, a.proxies.Trusts, a.log)
	var served net.Listener = limited
	if a.tls != nil {
		served = tls.NewListener(limited, a.tls)
	}
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: idleTimeout, ConnState: limited.connState,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(served); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	return srv
}

// wait runs until ctx is done or a part fails, then stops the parts: run
// without a listener of its own.
func (a *app) wait(ctx context.Context, cancel context.CancelFunc, errc chan error, routerDone chan struct{}, wg *sync.WaitGroup) error {
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	return a.stopParts(runErr, cancel, routerDone, wg)
}

// stopParts ends what run started once requests are no longer served.
func (a *app) stopParts(runErr error, cancel context.CancelFunc, routerDone chan struct{}, wg *sync.WaitGroup) error {
	cancel()
	<-routerDone
	wg.Wait()
	if a.backend.relay != nil {
		// The router let its handlers finish: what they finished leaves
		// the outbox; the rest is published again at the next start.
		if err := a.backend.relay.AckFinished(context.Background()); err != nil {
			a.log.Warn("clearing finished events from the outbox", "err", err)
		}
	}
	if err := a.backend.close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// idleTimeout closes a kept-alive connection with no request for this
// long (a connection that never sends one is closed by ReadHeaderTimeout).
const idleTimeout = 30 * time.Second

// httpDrain is how long a stop waits for requests under way.
const httpDrain = 4 * time.Second

// newLogger builds the process log: JSON for serve, text for the demo.
func newLogger(w interface{ Write([]byte) (int, error) }, format, level string) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(strings.ToUpper(level)))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// instanceName names this process among the service's instances: stable
// across restarts on the same host and port, so a restarted instance takes
// back what it left pending and keeps its console feed group.
func instanceName(ln net.Listener) string {
	host, _ := os.Hostname()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return host + ":" + port
}

// staffRefreshEvery is how soon staff changes made through another instance
// show here.
const staffRefreshEvery = 30 * time.Second

// refreshStaff rereads the runtime staff records, for changes made through
// other instances sharing the store.
func (a *app) refreshStaff(ctx context.Context) {
	if err := a.book.Refresh(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("staff records refresh", "err", err)
	}
}

// probeEvery is how often each instance checks that its store answers.
const probeEvery = 5 * time.Second

// probeStore counts the times the store does not answer, for the metrics and
// the log, whether or not anyone asks /readyz.
func (a *app) probeStore(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.backend.ping(pctx); err != nil && ctx.Err() == nil {
		a.metrics.StoreUnreachable()
		a.log.Warn("store unreachable", "err", err)
	}
}

// every runs fn each interval until ctx is done.
func every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fn(ctx)
		}
	}
}

// eraseExpired applies the retention policy once a day (first an hour after
// start). Every instance may run it: an erased case is not erased again.
func (a *app) eraseExpired(ctx context.Context) {
	wait := time.Hour
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = 24 * time.Hour
		erased, media, err := a.ledger.EraseExpired(ctx, time.Now().Add(-a.retention))
		for _, n := range erased {
			a.log.Info("personal data erased under the retention policy", "case", n)
		}
		if err == nil {
			err = a.mediaStore.Delete(ctx, media...)
		}
		if err != nil && ctx.Err() == nil {
			a.log.Error("retention", "err", err)
		}
	}
}

// auditTrimEvery is how often the audit records past audit.keep are
// removed.
const auditTrimEvery = 24 * time.Hour

// trimAudit removes the audit records older than audit.keep (never less
// than 180 days). The personal-data retention does not touch the trail.
func (a *app) trimAudit(ctx context.Context) {
	n, err := a.trail.Trim(ctx, a.auditKeep)
	if err != nil && ctx.Err() == nil {
		a.log.Error("audit trim", "err", err)
	}
	if n > 0 {
		a.log.Info("audit records past audit.keep removed", "records", n)
	}
}

// noticeTemplates is the configured templates as the Sender takes them.
func noticeTemplates(ts map[string]configs.NoticeTemplate) map[core.NoticeKind]bot.NoticeTemplate {
	out := make(map[core.NoticeKind]bot.NoticeTemplate, len(ts))
	for kind, t := range ts {
		out[core.NoticeKind(kind)] = bot.NoticeTemplate{ID: t.ID, Fields: t.Fields}
	}
	return out
}

// newHearer is the speech recognition the configuration asks for; nil when
// none (a voice note is then kept and the resident asked to write).
func newHearer(cfg *configs.Config, fetcher asr.Fetcher, log *slog.Logger) (core.Hearer, error) {
	if cfg.ASR.Provider != "tencent" {
		return nil, nil
	}
	tc, err := asr.NewTencent(asr.Config{SecretID: cfg.ASR.SecretID, SecretKey: cfg.ASR.SecretKey,
		Region: cfg.ASR.Region, Engine: cfg.ASR.Engine, Endpoint: cfg.ASR.Endpoint})
	if err != nil {
		return nil, err
	}
	return &asr.Hearer{Fetch: fetcher, ASR: tc, Log: log}, nil
}
