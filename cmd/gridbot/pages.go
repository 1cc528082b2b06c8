package main

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"gridbot/bot"
	"gridbot/configs"
	"gridbot/core"
	"gridbot/store"
	"gridbot/wxpages"
)

// pagesServer wires the pages inside WeChat (wxpages): a case's page, which
// every notice's 详情 opens, and the report form, both known by web
// authorisation.
func pagesServer(cfg *configs.Config, town core.TownSource, ledger *core.Ledger, roster *core.Roster,
	media *core.MediaStore, st store.Store, tokens bot.Tokens, shared core.Ephemeral, log *slog.Logger) *wxpages.Server {
	srv := &wxpages.Server{Town: town, Ledger: ledger, Roster: roster, Media: media, Keys: st,
		Auth: &bot.WebAuth{AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret,
			APIBase: cfg.WeChat.APIBase, OAuthBase: cfg.WeChat.OAuthBase},
		PublicBase: cfg.WeChat.PublicBase, SessionKey: wxpages.SessionKey(cfg.WeChat.AppSecret),
		Log: log.With("part", "wxpages")}
	// The subscribe button asks for the progress and rating notices.
	for _, kind := range []core.NoticeKind{core.NoticeResidentProgress, core.NoticeRating} {
		if t, ok := cfg.WeChat.Subscribe[string(kind)]; ok && t.ID != "" && !slices.Contains(srv.SubscribeTemplates, t.ID) {
			srv.SubscribeTemplates = append(srv.SubscribeTemplates, t.ID)
		}
	}
	// WeChat's own subscribe button (wx-open-subscribe) needs wx.config,
	// signed with the jsapi_ticket, which every instance shares like the
	// access token.
	if len(srv.SubscribeTemplates) > 0 {
		tickets, err := bot.NewTicketSource(bot.TicketConfig{AppID: cfg.WeChat.AppID, Tokens: tokens,
			APIBase: cfg.WeChat.APIBase, Shared: shared, Log: log.With("part", "wechat")})
		if err == nil {
			signer := &bot.JSSigner{AppID: cfg.WeChat.AppID, Tickets: tickets}
			srv.JSSign = func(ctx context.Context, page string) (wxpages.JSConfig, error) {
				c, err := signer.Config(ctx, page)
				return wxpages.JSConfig(c), err
			}
			srv.JSSDKURL = bot.DefaultJSSDKURL
		}
	}
	// A simulator playing WeChat shows the pages inside its phone, in a
	// frame (WeChat itself never frames them), and its phone plays the
	// JS-SDK with a stand-in served where WeChat serves jweixin.
	if base := strings.TrimRight(cfg.WeChat.OAuthBase, "/"); base != bot.DefaultOAuthBase {
		srv.FrameAncestors = []string{base}
		if srv.JSSDKURL != "" {
			srv.JSSDKURL = base + "/open/js/jweixin-1.6.0.js"
		}
	}
	return srv
}
