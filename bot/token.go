package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/credential"
)

// TokenConfig configures a TokenSource.
type TokenConfig struct {
	AppID     string
	AppSecret string
	APIBase   string       // "" means DefaultAPIBase
	Client    *http.Client // nil means NewAPIClient(DefaultAPITimeout)
	// Margin is how long before expiry the token is refreshed; 0 means 5
	// minutes (capped at half the token's lifetime).
	Margin time.Duration
	Now    func() time.Time
	Log    *slog.Logger
}

// TokenSource fetches the access token from /cgi-bin/stable_token, caches it
// until shortly before it expires, and lets concurrent callers share one
// fetch. The stable token is the same for every instance that asks without
// force_refresh, so several gridbot processes do not invalidate each other's
// tokens.
type TokenSource struct {
	cfg TokenConfig

	mu       sync.Mutex
	token    string
	refresh  time.Time   // fetch a new token from this moment on
	stale    string      // a token WeChat rejected; seeing it again forces a refresh
	inflight *tokenFetch // the fetch under way, shared by all waiters
}

// tokenFetch is one fetch that several callers wait for.
type tokenFetch struct {
	done  chan struct{}
	token string
	err   error
}

var _ credential.AccessTokenContextHandle = (*TokenSource)(nil)

// NewTokenSource returns a token source; it fetches nothing until asked.
func NewTokenSource(cfg TokenConfig) *TokenSource {
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	if cfg.Client == nil {
		cfg.Client = NewAPIClient(DefaultAPITimeout)
	}
	if cfg.Margin <= 0 {
		cfg.Margin = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &TokenSource{cfg: cfg}
}

// GetAccessToken implements credential.AccessTokenHandle.
func (t *TokenSource) GetAccessToken() (string, error) {
	return t.GetAccessTokenContext(context.Background())
}

// GetAccessTokenContext returns a valid token, fetching one if the cached
// token is missing or about to expire.
func (t *TokenSource) GetAccessTokenContext(ctx context.Context) (string, error) {
	t.mu.Lock()
	if t.token != "" && t.cfg.Now().Before(t.refresh) {
		tok := t.token
		t.mu.Unlock()
		return tok, nil
	}
	f := t.inflight
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		t.inflight = f
		stale := t.stale
		// The fetch outlives a caller that gives up: others may be waiting.
		go t.fetch(context.WithoutCancel(ctx), f, stale)
	}
	t.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", fmt.Errorf("wechat access token: %w", ctx.Err())
	}
}

// Invalidate drops token from the cache after WeChat rejected it (40001,
// 42001, 40014), unless a newer token has already replaced it.
func (t *TokenSource) Invalidate(_ context.Context, token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if token != "" && t.token == token {
		t.token = ""
		t.stale = token
	}
}

func (t *TokenSource) fetch(ctx context.Context, f *tokenFetch, stale string) {
	timeout := t.cfg.Client.Timeout
	if timeout <= 0 {
		timeout = DefaultAPITimeout
	}
	// Room for a forced second request.
	ctx, cancel := context.WithTimeout(ctx, 2*timeout+time.Second)
	defer cancel()
	start := t.cfg.Now()
	res, err := t.request(ctx, false)
	if err == nil && stale != "" && res.AccessToken == stale {
		// WeChat still hands out the token it rejected: make a new one.
		t.cfg.Log.Warn("wechat access token rejected but still current; forcing a refresh")
		res, err = t.request(ctx, true)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		life := time.Duration(res.ExpiresIn) * time.Second
		margin := min(t.cfg.Margin, life/2)
		t.token = res.AccessToken
		t.refresh = start.Add(life - margin)
		t.stale = ""
		f.token = res.AccessToken
	} else {
		t.cfg.Log.Error("wechat access token fetch failed", "err", err)
	}
	f.err = err
	t.inflight = nil
	close(f.done)
}

// request asks /cgi-bin/stable_token once.
func (t *TokenSource) request(ctx context.Context, force bool) (apiResult, error) {
	body := map[string]any{
		"grant_type": "client_credential",
		"appid":      t.cfg.AppID,
		"secret":     t.cfg.AppSecret,
	}
	if force {
		body["force_refresh"] = true
	}
	call := apiCall{
		client:  t.cfg.Client,
		base:    t.cfg.APIBase,
		path:    "/cgi-bin/stable_token",
		body:    body,
		secrets: []string{t.cfg.AppSecret},
	}
	res, err := call.do(ctx)
	if err != nil {
		return res, fmt.Errorf("wechat access token: %w", err)
	}
	if res.ErrCode != 0 {
		return res, fmt.Errorf("wechat access token: %w", &TokenError{Code: res.ErrCode, Msg: res.ErrMsg})
	}
	if res.AccessToken == "" || res.ExpiresIn <= 0 {
		return res, errors.New("wechat access token: answer without token or lifetime")
	}
	return res, nil
}

// TokenError is WeChat's refusal to issue a token (40013 bad AppID, 40125
// bad AppSecret, 40164 caller IP not whitelisted, …).
type TokenError struct {
	Code int
	Msg  string
}

func (e *TokenError) Error() string { return fmt.Sprintf("errcode %d: %s", e.Code, e.Msg) }
