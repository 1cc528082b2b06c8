package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"

	"gridbot/bot"
	"gridbot/configs"
)

const templatesUsage = `usage:
  gridbot templates check [-config FILE]   compare wechat.templates and wechat.subscribe with the
                                           templates the account picked (WeChat's own lists):
                                           each id must be the account's and each mapped key one
                                           of its template's fields
`

// runTemplates checks the notice templates' mappings against the account.
func runTemplates(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprint(env.Stderr, templatesUsage)
		return errors.New("templates: want check")
	}
	fs := flag.NewFlagSet("templates check", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	configPath := fs.String("config", "", "YAML configuration file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := configs.Load(*configPath, env.Environ)
	if err != nil {
		return err
	}
	if err := cfg.RequireWeChat(); err != nil {
		return err
	}
	return checkTemplates(ctx, cfg, env)
}

// checkTemplates lists the account's templates and compares each mapping.
func checkTemplates(ctx context.Context, cfg *configs.Config, env Env) error {
	tokens := bot.NewTokenSource(bot.TokenConfig{AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret, APIBase: cfg.WeChat.APIBase})
	failed := false
	for _, set := range []struct {
		key       string
		mappings  map[string]configs.NoticeTemplate
		subscribe bool
	}{{"wechat.templates", cfg.WeChat.Templates, false}, {"wechat.subscribe", cfg.WeChat.Subscribe, true}} {
		if len(set.mappings) == 0 {
			fmt.Fprintf(env.Stdout, "%s: none configured\n", set.key)
			continue
		}
		account, err := bot.ListTemplates(ctx, tokens, cfg.WeChat.APIBase, nil, set.subscribe)
		if err != nil {
			return fmt.Errorf("templates check: %w", err)
		}
		kinds := make([]string, 0, len(set.mappings))
		for k := range set.mappings {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, kind := range kinds {
			m := set.mappings[kind]
			problems, notes := bot.NoticeTemplate{ID: m.ID, Fields: m.Fields}.CheckAgainst(account)
			if len(problems) == 0 {
				fmt.Fprintf(env.Stdout, "%s.%s: ok\n", set.key, kind)
			}
			for _, p := range problems {
				failed = true
				fmt.Fprintf(env.Stdout, "%s.%s: %s\n", set.key, kind, p)
			}
			for _, n := range notes {
				fmt.Fprintf(env.Stdout, "%s.%s: note: %s\n", set.key, kind, n)
			}
		}
	}
	if failed {
		return errors.New("templates check: some mappings do not fit the account's templates")
	}
	return nil
}
