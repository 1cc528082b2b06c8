package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"gridbot/bot"
	"gridbot/configs"
	"gridbot/console"
	"gridbot/core"
	"gridbot/dialogs"
	"gridbot/routing"
	"gridbot/store/embedded"
)

// app is one running gridbot: every part, wired.
type app struct {
	log     *slog.Logger
	store   *embedded.Store
	router  *message.Router
	relay   *routing.Relay
	hub     *console.Hub
	bus     *gochannel.GoChannel
	handler http.Handler
}

// newApp wires the service from its configuration and town.
func newApp(cfg *configs.Config, town *core.Town, log *slog.Logger) (*app, error) {
	st, err := embedded.Open(cfg.Store.Path, embedded.Options{CasePrefix: town.CasePrefix})
	if err != nil {
		return nil, err
	}
	a := &app{log: log, store: st}
	ledger := &core.Ledger{Store: st, Town: town}

	tokens := bot.NewTokenSource(bot.TokenConfig{AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret,
		APIBase: cfg.WeChat.APIBase, Log: log})
	sender, err := bot.NewSender(bot.SenderConfig{Tokens: tokens, APIBase: cfg.WeChat.APIBase,
		TemplateID: cfg.WeChat.TemplateID, Log: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	dialog := &dialogs.Service{
		Engine: &dialogs.Engine{Town: town, Ledger: ledger, IdleTimeout: cfg.Dialog.IdleTimeout, Logger: log},
		Store:  st, Logger: log,
	}
	callback, err := bot.NewCallback(bot.CallbackConfig{Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID,
		AESKey: cfg.WeChat.AESKey, PrevAESKey: cfg.WeChat.PrevAESKey,
		Responder: dialog, Dedupe: st, Log: log})
	if err != nil {
		st.Close()
		return nil, err
	}

	a.hub = console.NewHub(log)
	consoleSrv := &console.Server{Town: town, Store: st, Ledger: ledger, Sessions: st, Log: log,
		AllowedOrigins: cfg.Console.AllowedOrigins, Hub: a.hub}

	// The embedded deployment's transport is in process. The router may close
	// its subscribers' pubsub on shutdown, so it is closed once, by us, after
	// the router has stopped (watermill issue #446).
	a.bus = gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})
	hostname, _ := os.Hostname()
	a.router, err = routing.NewRouter(routing.Config{Instance: fmt.Sprintf("%s-%d", hostname, os.Getpid())},
		&routing.Handlers{Ledger: ledger, Town: town, Notifier: sender, Marks: st, Feed: a.hub.Publish, Log: log},
		func(string) (message.Subscriber, error) { return a.bus, nil }, a.bus)
	if err != nil {
		st.Close()
		return nil, err
	}
	a.relay = &routing.Relay{Outbox: st, Publisher: a.bus, Log: log}

	mux := http.NewServeMux()
	mux.Handle("/wechat", callback)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("/", consoleSrv.Handler())
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
	if _, err := a.store.Cases(r.Context(), core.CaseQuery{Limit: 1}); err != nil {
		http.Error(w, "store not answering", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// run serves on ln until ctx is done, then shuts down in order: stop taking
// requests, let the router finish its handlers, close the store.
func (a *app) run(ctx context.Context, ln net.Listener) error {
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
		a.store.Close()
		return <-errc
	}
	// The relay starts after the router subscribes: GoChannel drops what is
	// published to nobody.
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.relay.Run(ctx)
	}()
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	srv.Shutdown(shutdownCtx)
	cancel()
	<-routerDone
	wg.Wait()
	a.bus.Close()
	if err := a.store.Close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

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
