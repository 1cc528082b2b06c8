package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/credential"

	"gridbot/core"
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
	// Shared, when set, keeps the token where every instance finds it (the
	// Valkey store): one token for the whole service, and one instance at a
	// time refreshes it while the others wait for its result. WeChat
	// invalidates a token some minutes after a new one is fetched, so
	// instances fetching on their own would spoil each other's tokens.
	Shared core.Ephemeral
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
	// what names the credential in the shared store's keys and in errors;
	// get asks WeChat for it (force: a new one, where WeChat allows). The
	// access token's by default; TicketSource gives the JS-SDK ticket's.
	what string
	get  func(ctx context.Context, force bool) (apiResult, error)

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
	t := &TokenSource{cfg: cfg, what: "token"}
	t.get = t.request
	return t
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
		return "", fmt.Errorf("wechat %s: %w", t.what, ctx.Err())
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
	var (
		tok sharedToken
		err error
	)
	if t.cfg.Shared != nil {
		tok, err = t.fetchShared(ctx, stale)
	} else {
		tok, err = t.fetchOwn(ctx, stale)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		t.token, t.refresh, t.stale = tok.Token, tok.Refresh, ""
		f.token = tok.Token
	} else {
		t.cfg.Log.Error("wechat "+t.what+" fetch failed", "err", err)
	}
	f.err = err
	t.inflight = nil
	close(f.done)
}

// sharedToken is a token and the moment to stop using it, as kept in the
// shared store.
type sharedToken struct {
	Token   string    `json:"token"`
	Refresh time.Time `json:"refresh"`
}

// fetchOwn asks WeChat, forcing a new token if it hands back the one it
// rejected.
func (t *TokenSource) fetchOwn(ctx context.Context, stale string) (sharedToken, error) {
	start := t.cfg.Now()
	res, err := t.get(ctx, false)
	if err == nil && stale != "" && res.AccessToken == stale {
		// WeChat still hands out the token it rejected: make a new one.
		t.cfg.Log.Warn("wechat " + t.what + " rejected but still current; forcing a refresh")
		res, err = t.get(ctx, true)
	}
	if err != nil {
		return sharedToken{}, err
	}
	life := time.Duration(res.ExpiresIn) * time.Second
	margin := min(t.cfg.Margin, life/2)
	return sharedToken{Token: res.AccessToken, Refresh: start.Add(life - margin)}, nil
}

// sharedWait is how often an instance waiting for another's refresh looks.
const sharedWait = 50 * time.Millisecond

// fetchShared takes the token from the shared store; when it is missing,
// about to expire or the one rejected, the instance that wins the refresh
// lock fetches a new one and the others wait for it.
func (t *TokenSource) fetchShared(ctx context.Context, stale string) (sharedToken, error) {
	key, lock := "wx:"+t.what+":"+t.cfg.AppID, "wx:"+t.what+"-lock:"+t.cfg.AppID
	usable := func() (sharedToken, bool, error) {
		raw, ok, err := t.cfg.Shared.Get(ctx, key)
		if err != nil || !ok {
			return sharedToken{}, false, err
		}
		var tok sharedToken
		if json.Unmarshal(raw, &tok) != nil || tok.Token == "" || tok.Token == stale || !t.cfg.Now().Before(tok.Refresh) {
			return sharedToken{}, false, nil
		}
		return tok, true, nil
	}
	for {
		if tok, ok, err := usable(); err != nil {
			return sharedToken{}, fmt.Errorf("wechat %s: shared store: %w", t.what, err)
		} else if ok {
			return tok, nil
		}
		won, err := t.cfg.Shared.SetNX(ctx, lock, []byte("1"), 2*DefaultAPITimeout+time.Second)
		if err != nil {
			return sharedToken{}, fmt.Errorf("wechat %s: shared store: %w", t.what, err)
		}
		if won {
			break
		}
		select {
		case <-ctx.Done():
			return sharedToken{}, fmt.Errorf("wechat %s: waiting for another instance's refresh: %w", t.what, ctx.Err())
		case <-time.After(sharedWait):
		}
	}
	defer t.cfg.Shared.Delete(context.WithoutCancel(ctx), lock)
	// Another instance may have refreshed between our look and our lock.
	if tok, ok, err := usable(); err == nil && ok {
		return tok, nil
	}
	tok, err := t.fetchOwn(ctx, stale)
	if err != nil {
		return sharedToken{}, err
	}
	raw, _ := json.Marshal(tok)
	if ttl := tok.Refresh.Sub(t.cfg.Now()); ttl > 0 {
		if err := t.cfg.Shared.Set(ctx, key, raw, ttl); err != nil {
			t.cfg.Log.Warn("wechat "+t.what+": could not share the new one", "err", err)
		}
	}
	return tok, nil
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
