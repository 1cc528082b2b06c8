package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"gridbot/core"
)

// DefaultAPIBase is WeCom's API server.
const DefaultAPIBase = "https://qyapi.weixin.qq.com"

// DefaultAPITimeout bounds one call to WeCom's API.
const DefaultAPITimeout = 5 * time.Second

// Config is the self-built app as the town's WeCom admin console shows it.
type Config struct {
	CorpID  string // 企业ID
	AgentID string // the app's AgentId
	Secret  string // the app's Secret
	Token   string // 接收消息: Token
	AESKey  string // 接收消息: EncodingAESKey (43 characters)
	APIBase string // "" means DefaultAPIBase
	// Client makes the API calls; nil means one with DefaultAPITimeout.
	Client *http.Client
	Now    func() time.Time
	Log    *slog.Logger
}

// App is the self-built app's API: its access token and the calls the
// sender, the web authorisation and the callback make.
type App struct {
	cfg     Config
	agentID int

	mu       sync.Mutex
	token    string
	refresh  time.Time
	inflight chan struct{}
}

// NewApp checks cfg and returns the app; it calls nothing until asked.
func NewApp(cfg Config) (*App, error) {
	if cfg.CorpID == "" || cfg.Secret == "" {
		return nil, errors.New("wecom: corp_id and secret are required")
	}
	agent, err := strconv.Atoi(cfg.AgentID)
	if err != nil || agent <= 0 {
		return nil, errors.New("wecom: agent_id must be the app's AgentId, a positive number")
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: DefaultAPITimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &App{cfg: cfg, agentID: agent}, nil
}

// CorpID is the corporation the app belongs to.
func (a *App) CorpID() string { return a.cfg.CorpID }

// AgentID is the app's AgentId.
func (a *App) AgentID() int { return a.agentID }

// tokenError reports whether WeCom's code says the access token is stale.
func tokenError(code int) bool { return code == 40014 || code == 42001 || code == 40001 }

// temporaryCode reports whether a WeCom errcode may clear on a retry: a busy
// system, a stale token, a frequency or concurrency limit.
func temporaryCode(code int) bool {
	switch code {
	case -1, 40001, 40014, 42001, 45009, 45033, 45011:
		return true
	}
	return false
}

// pushError is WeCom's refusal as the router reads it.
func pushError(code int, msg string) *core.PushError {
	return &core.PushError{Channel: core.ChannelWeCom, Code: code, Msg: msg, Temporary: temporaryCode(code)}
}

// result is what every WeCom answer shares.
type result = util.CommonError

// tokenResult is gettoken's answer.
type tokenResult struct {
	result
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// accessToken returns a token, fetching one when there is none or it is
// about to expire; callers asking at once share one fetch. WeCom hands out
// the same token while it is valid, so instances need not share it.
func (a *App) accessToken(ctx context.Context) (string, error) {
	for {
		a.mu.Lock()
		if a.token != "" && a.cfg.Now().Before(a.refresh) {
			tok := a.token
			a.mu.Unlock()
			return tok, nil
		}
		if wait := a.inflight; wait != nil {
			a.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return "", fmt.Errorf("wecom access token: %w", ctx.Err())
			}
		}
		done := make(chan struct{})
		a.inflight = done
		a.mu.Unlock()
		tok, life, err := a.fetchToken(ctx)
		a.mu.Lock()
		if err == nil {
			a.token, a.refresh = tok, a.cfg.Now().Add(life-min(5*time.Minute, life/2))
		}
		a.inflight = nil
		close(done)
		a.mu.Unlock()
		return tok, err
	}
}

// dropToken forgets token after WeCom called it stale.
func (a *App) dropToken(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == token {
		a.token = ""
	}
}

func (a *App) fetchToken(ctx context.Context) (string, time.Duration, error) {
	var res tokenResult
	q := url.Values{"corpid": {a.cfg.CorpID}, "corpsecret": {a.cfg.Secret}}
	if err := a.do(ctx, http.MethodGet, "/cgi-bin/gettoken", q, nil, &res); err != nil {
		return "", 0, fmt.Errorf("wecom access token: %w", err)
	}
	if res.ErrCode != 0 {
		return "", 0, fmt.Errorf("wecom access token: %w", pushError(int(res.ErrCode), a.scrub(res.ErrMsg)))
	}
	if res.AccessToken == "" || res.ExpiresIn <= 0 {
		return "", 0, errors.New("wecom access token: answer without token or lifetime")
	}
	return res.AccessToken, time.Duration(res.ExpiresIn) * time.Second, nil
}

// call makes an API call with the access token, refreshing a stale token
// once; out must embed result. A non-zero errcode is left in out for the
// caller to judge.
func (a *App) call(ctx context.Context, method, path string, q url.Values, body, out any, code func() int) error {
	for attempt := 0; ; attempt++ {
		tok, err := a.accessToken(ctx)
		if err != nil {
			return err
		}
		qq := url.Values{"access_token": {tok}}
		for k, v := range q {
			qq[k] = v
		}
		if err := a.do(ctx, method, path, qq, body, out); err != nil {
			return err
		}
		if c := code(); tokenError(c) && attempt == 0 {
			a.dropToken(tok)
			continue
		}
		return nil
	}
}

// do sends one request to the API base and decodes its JSON answer; the
// access token and the secret never appear in its errors.
func (a *App) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	u := strings.TrimRight(a.cfg.APIBase, "/") + path + "?" + q.Encode()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("wecom %s: encode: %w", path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("wecom %s: bad request", path)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := a.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the token
		}
		return fmt.Errorf("wecom %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("wecom %s: reading answer: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("wecom %s: http status %d", path, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("wecom %s: decoding answer: %w", path, err)
	}
	return nil
}

// scrub masks the secret in text WeCom sent back.
func (a *App) scrub(s string) string {
	if a.cfg.Secret != "" {
		s = strings.ReplaceAll(s, a.cfg.Secret, "***")
	}
	return s
}
