package wechatsim_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"gridbot/bot"
	"gridbot/core"
	"gridbot/wechatsim"
)

// The bot's media fetcher against the simulator's /cgi-bin/media/get:
// photos and voice notes come back as their bytes, an unknown ID is a
// permanent failure, a file over the bound is refused, and a token WeChat
// no longer accepts is refreshed once.
func TestMediaFetch(t *testing.T) {
	ctx := context.Background()
	sim := wechatsim.New(wechatsim.Config{AppID: appID, AppSecret: secret})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	tokens := bot.NewTokenSource(bot.TokenConfig{AppID: appID, AppSecret: secret, APIBase: srv.URL})
	f, err := bot.NewMediaFetcher(bot.MediaConfig{Tokens: tokens, APIBase: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id, ctype string
		want      []byte
	}{
		{"sim_media_0123456789abcdef", "image/png", wechatsim.MediaImage("sim_media_0123456789abcdef")},
		{"sim_voice_0123456789abcdef", "audio/amr", wechatsim.MediaVoice("sim_voice_0123456789abcdef")},
	} {
		ctype, data, err := f.Fetch(ctx, tt.id)
		if err != nil || ctype != tt.ctype || !bytes.Equal(data, tt.want) {
			t.Errorf("%s: %q, %d bytes, %v", tt.id, ctype, len(data), err)
		}
	}
	if _, _, err := f.Fetch(ctx, "expired-media"); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("unknown media: %v, want ErrInvalid", err)
	}
	sim.ExpireTokens()
	if _, _, err := f.Fetch(ctx, "sim_media_aa"); err != nil {
		t.Errorf("after the token expired: %v", err)
	}
	small, _ := bot.NewMediaFetcher(bot.MediaConfig{Tokens: tokens, APIBase: srv.URL, MaxBytes: 16})
	if _, _, err := small.Fetch(ctx, "sim_media_aa"); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("over the bound: %v, want ErrInvalid", err)
	}
	if got := sim.MediaRequests(); got != 6 {
		t.Errorf("media requests %d, want 6 (one retried after the token expired)", got)
	}
}

// A voice note reaches the bot as it does today: a media ID and no
// Recognition, whatever was said.
func TestSendVoice(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{AppID: appID, AppSecret: secret, Token: token})
	got := make(chan core.Message, 2)
	cb, err := bot.NewCallback(bot.CallbackConfig{Token: token, AppID: appID,
		Responder: bot.ResponderFunc(func(_ context.Context, m core.Message) (string, error) {
			got <- m
			return "ok", nil
		})})
	if err != nil {
		t.Fatal(err)
	}
	botSrv := httptest.NewServer(cb)
	defer botSrv.Close()
	sim.SetCallbackURL(botSrv.URL)
	for _, rec := range []string{"路灯不亮。", ""} {
		if _, err := sim.SendVoice(context.Background(), "ovoice", rec); err != nil {
			t.Fatal(err)
		}
		m := <-got
		if m.Kind != core.MessageVoice || m.Text != "" || len(m.MediaID) < 12 {
			t.Errorf("message %+v", m)
		}
	}
}
