package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"gridbot/bot"
	"gridbot/configs"
	"gridbot/core"
	"gridbot/dialogs"
	"gridbot/metrics"
	"gridbot/store"
	"gridbot/wecom"
)

// weComParts are the WeCom app's pieces the rest of the wiring plugs in:
// nil throughout while wecom.corp_id is empty, so nothing of WeCom runs.
type weComParts struct {
	app      *wecom.App
	sender   *wecom.Sender
	callback http.Handler
	auth     *wecom.WebAuth
	groups   *wecom.Groups
}

// wireWeCom builds the town's WeCom self-built app: its sender (staff
// reached there first unless they prefer WeChat), its callback at /wecom
// answered by the same staff desk as WeChat's, and its web authorisation for
// the case pages.
func wireWeCom(cfg *configs.Config, town core.TownSource, st store.Store, desk wecom.Desk, m *metrics.Metrics, log *slog.Logger) (*weComParts, error) {
	if cfg.WeCom.CorpID == "" {
		return nil, nil
	}
	log = log.With("part", "wecom")
	app, err := wecom.NewApp(wecom.Config{CorpID: cfg.WeCom.CorpID, AgentID: cfg.WeCom.AgentID, Secret: cfg.WeCom.Secret,
		Token: cfg.WeCom.Token, AESKey: cfg.WeCom.AESKey, APIBase: cfg.WeCom.APIBase, Log: log})
	if err != nil {
		return nil, err
	}
	counts, ok := st.(wecom.Counts)
	if !ok {
		return nil, errors.New("wecom: the store cannot count sends")
	}
	cb, err := wecom.NewCallback(wecom.CallbackConfig{App: app, Desk: desk, Dedupe: st,
		MaxClockSkew: cfg.WeChat.MaxClockSkew, Observe: m.WeComCallback, Log: log})
	if err != nil {
		return nil, err
	}
	return &weComParts{
		app:      app,
		sender:   &wecom.Sender{App: app, Counts: counts, PublicBase: cfg.WeChat.PublicBase},
		callback: cb,
		auth:     &wecom.WebAuth{App: app, OAuthBase: weComOAuthBase(cfg.WeCom.APIBase)},
		// The grid teams' groups (robot_webhook in the directory): the
		// morning digest and, where asked, each new case.
		groups: &wecom.Groups{Robot: &wecom.Robot{Counts: counts}, Town: town, Cases: st.Cases, Marks: st, Queue: st,
			PublicBase: cfg.WeChat.PublicBase, Observe: m.RobotPost, Log: log},
	}, nil
}

// relayPhotos lets staff in the app's chat send photos to residents: the
// desk hands each to wecom.Photos, which fetches it from WeCom, uploads it
// to WeChat's temporary media with the account's tokens and keeps it with
// its case; the resident then gets it as a photo from WeChat staff.
func (p *weComParts) relayPhotos(desk *dialogs.Desk, wechat bot.Tokens, apiBase string, media *core.MediaStore) error {
	if p == nil {
		return nil
	}
	up, err := bot.NewMediaUploader(bot.MediaConfig{Tokens: wechat, APIBase: apiBase, MaxBytes: media.MaxBytes})
	if err != nil {
		return err
	}
	desk.Photos = &wecom.Photos{App: p.app, WeChat: up, Media: media}
	return nil
}

// weComOAuthBase is where WeCom's web authorisation starts: WeCom's own
// host in production; a simulator standing in for WeCom's API (the demo,
// the tests) plays it too.
func weComOAuthBase(apiBase string) string {
	if strings.TrimRight(apiBase, "/") == wecom.DefaultAPIBase {
		return wecom.DefaultOAuthBase
	}
	return apiBase
}

// channels are the adapters of the channels besides WeChat, for the router.
func (p *weComParts) channels() map[core.Channel]core.Notifier {
	if p == nil {
		return nil
	}
	return map[core.Channel]core.Notifier{core.ChannelWeCom: p.sender}
}

// groupsOrNil is the groups for the router, or nil (an interface holding a
// nil pointer would not be nil).
func (p *weComParts) groupsOrNil() interface {
	NewCase(ctx context.Context, c core.Case) error
} {
	if p == nil {
		return nil
	}
	return p.groups
}

// order is the order staff who prefer none are tried in: WeCom first where
// it runs.
func (p *weComParts) order() []core.Channel {
	if p == nil {
		return nil
	}
	return []core.Channel{core.ChannelWeCom, core.ChannelWeChat}
}
