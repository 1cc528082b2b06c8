package asr_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gridbot/asr"
	"gridbot/bot"
	"gridbot/wechatsim"
)

// The adapter signs SentenceRecognition as Tencent Cloud checks it and
// reads the transcript; a wrong key, an unknown voice and a voice too large
// are told apart.
func TestTencentAgainstTheSimulator(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{ASRSecretID: "AKIDsim", ASRSecretKey: "simkey"})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	ctx := context.Background()
	heard := func(key, engine string, audio []byte) (string, error) {
		t.Helper()
		tc, err := asr.NewTencent(asr.Config{SecretID: "AKIDsim", SecretKey: key, Region: "ap-guangzhou", Engine: engine, Endpoint: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		return tc.Transcribe(ctx, audio, "amr")
	}
	_, audio := sim.VoiceNote("村口的路灯坏了三天")
	for _, engine := range []string{asr.EngineMandarin, asr.EngineCantonese} {
		if got, err := heard("simkey", engine, audio); err != nil || got != "村口的路灯坏了三天" {
			t.Fatalf("%s: %q %v", engine, got, err)
		}
	}
	if _, err := heard("wrongkey", asr.EngineMandarin, audio); err == nil || !strings.Contains(err.Error(), "AuthFailure") ||
		strings.Contains(err.Error(), "wrongkey") {
		t.Fatalf("a wrong key: %v", err)
	}
	if got, err := heard("simkey", asr.EngineMandarin, []byte("#!AMR\nnothing said")); err != nil || got != "" {
		t.Fatalf("an unknown voice: %q %v", got, err)
	}
	if _, err := heard("simkey", asr.EngineMandarin, make([]byte, asr.MaxAudio+1)); err != asr.ErrTooLarge {
		t.Fatalf("a voice too large: %v", err)
	}
	if sim.ASRCalls() != 3 {
		t.Fatalf("%d calls answered, want 3", sim.ASRCalls())
	}
	for _, bad := range []asr.Config{
		{SecretKey: "k", Region: "r", Engine: "16k_zh"},
		{SecretID: "i", SecretKey: "k", Engine: "16k_zh"},
		{SecretID: "i", SecretKey: "k", Region: "r"},
		{SecretID: "i", SecretKey: "k", Region: "r", Engine: "16k_zh", Endpoint: "ftp://x"},
	} {
		if _, err := asr.NewTencent(bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

// A voice note the bot only knows by its media ID is downloaded from
// WeChat and heard.
func TestHearerDownloadsAndHears(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{AppID: "wxasr", AppSecret: "asrsecret", ASRSecretID: "AKIDsim", ASRSecretKey: "simkey"})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	tokens := bot.NewTokenSource(bot.TokenConfig{AppID: "wxasr", AppSecret: "asrsecret", APIBase: srv.URL})
	fetcher, err := bot.NewMediaFetcher(bot.MediaConfig{Tokens: tokens, APIBase: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := asr.NewTencent(asr.Config{SecretID: "AKIDsim", SecretKey: "simkey", Region: "ap-guangzhou",
		Engine: asr.EngineCantonese, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	h := &asr.Hearer{Fetch: fetcher, ASR: tc}
	id, _ := sim.VoiceNote("后生仔，街口盏灯唔着")
	if got, err := h.Hear(context.Background(), id); err != nil || got != "后生仔，街口盏灯唔着" {
		t.Fatalf("Hear %q %v", got, err)
	}
	if _, err := h.Hear(context.Background(), "gone_media"); err == nil {
		t.Fatal("a voice WeChat no longer has was heard")
	}
}

// fixedFetcher serves one voice note.
type fixedFetcher []byte

func (f fixedFetcher) Fetch(context.Context, string) (string, []byte, error) {
	return "audio/amr", f, nil
}

// A recognition that hangs gives up within the budget, so the resident
// still gets an answer inside WeChat's 5 seconds.
func TestHearerGivesUpWithinItsBudget(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	tc, err := asr.NewTencent(asr.Config{SecretID: "AKID", SecretKey: "k", Region: "ap-guangzhou", Engine: asr.EngineMandarin, Endpoint: slow.URL})
	if err != nil {
		t.Fatal(err)
	}
	h := &asr.Hearer{Fetch: fixedFetcher("#!AMR\n..."), ASR: tc, Budget: 300 * time.Millisecond}
	start := time.Now()
	if _, err := h.Hear(context.Background(), "v1"); err == nil {
		t.Fatal("a hung recognition was heard")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("gave up after %v, budget 300ms", took)
	}
}
