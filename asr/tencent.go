package asr

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// Engines Kaiping's residents need: Mandarin and Cantonese, 16 kHz.
const (
	EngineMandarin  = "16k_zh"
	EngineCantonese = "16k_yue"
)

// DefaultEndpoint is Tencent Cloud's ASR API host.
const DefaultEndpoint = "asr.tencentcloudapi.com"

// MaxAudio is the largest voice SentenceRecognition takes (3 MB); a WeChat
// voice note (at most 60 s of AMR) is far smaller.
const MaxAudio = 3 << 20

// ErrTooLarge is a voice note larger than MaxAudio.
var ErrTooLarge = errors.New("asr: the voice note is larger than 3 MB")

// Config configures Tencent.
type Config struct {
	SecretID  string
	SecretKey string
	Region    string // e.g. ap-guangzhou
	Engine    string // EngineMandarin, EngineCantonese, or another of Tencent's engines
	// Endpoint is the API host, or a URL (http://127.0.0.1:8081 for the
	// simulator); "" means DefaultEndpoint over HTTPS.
	Endpoint string
	Timeout  time.Duration // 0 means 10 s
}

// Tencent transcribes voice notes with Tencent Cloud's SentenceRecognition.
// It is safe for concurrent use.
type Tencent struct {
	client *common.Client
	engine string
}

// NewTencent checks cfg and returns the transcriber.
func NewTencent(cfg Config) (*Tencent, error) {
	switch {
	case cfg.SecretID == "" || cfg.SecretKey == "":
		return nil, errors.New("asr: secret_id and secret_key are required")
	case cfg.Region == "":
		return nil, errors.New("asr: region is required")
	case cfg.Engine == "":
		return nil, errors.New("asr: engine is required (16k_zh, or 16k_yue for Cantonese)")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	p := profile.NewClientProfile()
	p.HttpProfile.ReqMethod = "POST"
	p.HttpProfile.ReqTimeout = int((cfg.Timeout + time.Second - 1) / time.Second)
	p.HttpProfile.Endpoint = DefaultEndpoint
	p.SignMethod = "TC3-HMAC-SHA256"
	// No backup endpoint: a breaker would send residents' voices to
	// another host than the one configured.
	p.DisableRegionBreaker = true
	if cfg.Endpoint != "" {
		host, scheme, err := endpoint(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		p.HttpProfile.Endpoint, p.HttpProfile.Scheme = host, scheme
	}
	client := common.NewCommonClient(common.NewCredential(cfg.SecretID, cfg.SecretKey), cfg.Region, p)
	client.WithHttpTransport(&http.Transport{Proxy: nil, ResponseHeaderTimeout: cfg.Timeout})
	return &Tencent{client: client, engine: cfg.Engine}, nil
}

// endpoint reads a host or an http(s) URL into the SDK's host and scheme.
func endpoint(s string) (host, scheme string, err error) {
	if !strings.Contains(s, "://") {
		return s, "HTTPS", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("asr: endpoint %q: want a host or an http(s) URL", s)
	}
	return u.Host, strings.ToUpper(u.Scheme), nil
}

// sentenceResult is SentenceRecognition's answer.
type sentenceResult struct {
	Response struct {
		Result        string
		AudioDuration int64
		RequestID     string `json:"RequestId"`
	}
}

// Transcribe returns what voice (format "amr", "speex", "mp3", "wav" …, as
// WeChat's media/get gives it) says; "" when nothing could be made out.
func (t *Tencent) Transcribe(ctx context.Context, voice []byte, format string) (string, error) {
	if len(voice) == 0 {
		return "", errors.New("asr: empty voice note")
	}
	if len(voice) > MaxAudio {
		return "", ErrTooLarge
	}
	req := tchttp.NewCommonRequest("asr", "2019-06-14", "SentenceRecognition")
	req.SetContext(ctx)
	if err := req.SetActionParameters(map[string]any{
		"EngSerViceType": t.engine,
		"SourceType":     1, // the audio is in Data
		"VoiceFormat":    strings.ToLower(format),
		"Data":           base64.StdEncoding.EncodeToString(voice),
		"DataLen":        len(voice),
	}); err != nil {
		return "", fmt.Errorf("asr: %w", err)
	}
	res := tchttp.NewCommonResponse()
	if err := t.client.Send(req, res); err != nil {
		// SDK errors carry Tencent's code and request id, never the
		// credentials or the audio.
		if e, ok := errors.AsType[*tcerr.TencentCloudSDKError](err); ok {
			return "", fmt.Errorf("asr: SentenceRecognition: %s (%s)", e.GetCode(), e.GetRequestId())
		}
		return "", fmt.Errorf("asr: SentenceRecognition: %w", err)
	}
	var out sentenceResult
	if err := json.Unmarshal(res.GetBody(), &out); err != nil {
		return "", fmt.Errorf("asr: SentenceRecognition answer: %w", err)
	}
	return strings.TrimSpace(out.Response.Result), nil
}
