package asr_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"gridbot/asr"
	"gridbot/bot"
	"gridbot/wechatsim"
)

// BenchmarkHear is gridbot's own share of hearing a voice note: the media
// download, the TC3-signed SentenceRecognition call and its answer, against
// the simulator on loopback (Tencent's recognition time comes on top).
func BenchmarkHear(b *testing.B) {
	sim := wechatsim.New(wechatsim.Config{AppID: "wxb", AppSecret: "bs", ASRSecretID: "AKIDb", ASRSecretKey: "bk"})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	tokens := bot.NewTokenSource(bot.TokenConfig{AppID: "wxb", AppSecret: "bs", APIBase: srv.URL})
	fetcher, err := bot.NewMediaFetcher(bot.MediaConfig{Tokens: tokens, APIBase: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	tc, err := asr.NewTencent(asr.Config{SecretID: "AKIDb", SecretKey: "bk", Region: "ap-guangzhou", Engine: asr.EngineCantonese, Endpoint: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	h := &asr.Hearer{Fetch: fetcher, ASR: tc}
	id, _ := sim.VoiceNote("街口盏灯唔着")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if got, err := h.Hear(ctx, id); err != nil || got == "" {
			b.Fatal(got, err)
		}
	}
}
