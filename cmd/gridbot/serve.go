package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"time"

	"gridbot/configs"
)

func runServe(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	configPath := fs.String("config", "", "YAML configuration file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := configs.Load(*configPath, env.Environ)
	if err != nil {
		return err
	}
	if err := cfg.RequireWeChat(); err != nil {
		return err
	}
	logs := newLogBuffer(env.Stderr, 100*time.Millisecond)
	defer logs.Close()
	log := newLogger(logs, cfg.Log.Format, cfg.Log.Level)
	if cfg.HasTowns() {
		return runCity(ctx, cfg, env, log)
	}
	town, err := configs.WatchTownFiles(configs.TownFiles{Directory: cfg.Town.Directory,
		Categories: cfg.Town.Categories, Lexicon: cfg.Town.Lexicon}, log)
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
	a, err := newApp(ctx, cfg, town, instanceName(ln), log)
	if err != nil {
		ln.Close()
		if adminLn != nil {
			adminLn.Close()
		}
		return err
	}
	a.adminToken = adminToken
	base := "http://" + ln.Addr().String()
	if cfg.HTTP.TLSCertFile != "" {
		if a.tls, err = serverTLS(cfg.HTTP.TLSCertFile, cfg.HTTP.TLSKeyFile, log); err != nil {
			ln.Close()
			if adminLn != nil {
				adminLn.Close()
			}
			return err
		}
		base = "https://" + ln.Addr().String()
	}
	log.Info("gridbot serving", "addr", ln.Addr().String(), "town", town.Town().Name, "safe_mode", cfg.WeChat.AESKey != "", "tls", a.tls != nil)
	go town.Run(ctx, cfg.Town.WatchEvery)
	if env.Ready != nil {
		u := URLs{Console: base + "/", WeChat: base + "/wechat"}
		if adminLn != nil {
			u.Admin = adminLn.Addr().String()
		}
		env.Ready(u)
	}
	return a.run(ctx, ln, adminLn)
}
