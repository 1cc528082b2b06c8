package asr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gridbot/core"
)

// Fetcher downloads a WeChat media file (bot.MediaFetcher does): its
// content type and bytes.
type Fetcher interface {
	Fetch(ctx context.Context, mediaID string) (contentType string, data []byte, err error)
}

// Transcriber turns audio into words (Tencent does).
type Transcriber interface {
	Transcribe(ctx context.Context, voice []byte, format string) (string, error)
}

// DefaultBudget bounds hearing one voice note: the resident's answer goes
// back in WeChat's 5-second passive reply, so the download and the
// recognition must fit in what is left of it.
const DefaultBudget = 3 * time.Second

// Hearer hears a voice note by its WeChat media ID: it downloads the voice
// and has it transcribed. It implements core.Hearer.
type Hearer struct {
	Fetch  Fetcher
	ASR    Transcriber
	Budget time.Duration // 0 means DefaultBudget
	Log    *slog.Logger  // nil logs nothing
}

var _ core.Hearer = (*Hearer)(nil)

// Hear returns what the voice note says; "" when nothing could be made out.
// What was said is never logged.
func (h *Hearer) Hear(ctx context.Context, mediaID string) (string, error) {
	if mediaID == "" {
		return "", errors.New("asr: no media id")
	}
	budget := h.Budget
	if budget <= 0 {
		budget = DefaultBudget
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	start := time.Now()
	ct, data, err := h.Fetch.Fetch(ctx, mediaID)
	if err != nil {
		return "", fmt.Errorf("asr: fetching the voice: %w", err)
	}
	text, err := h.ASR.Transcribe(ctx, data, voiceFormat(ct))
	if err != nil {
		return "", err
	}
	if h.Log != nil {
		h.Log.Debug("voice note heard", "bytes", len(data), "heard", text != "", "took", time.Since(start))
	}
	return text, nil
}

// voiceFormat names the audio format of a WeChat voice download for the
// ASR: WeChat serves AMR (audio/amr) and sometimes Speex.
func voiceFormat(contentType string) string {
	ct := strings.ToLower(contentType)
	switch {
	case strings.Contains(ct, "speex"):
		return "speex"
	case strings.Contains(ct, "mpeg"), strings.Contains(ct, "mp3"):
		return "mp3"
	case strings.Contains(ct, "wav"):
		return "wav"
	}
	return "amr"
}
