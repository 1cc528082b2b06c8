package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"gridbot/core"
)

// MediaConfig configures a MediaFetcher.
type MediaConfig struct {
	Tokens  Tokens
	APIBase string       // "" means DefaultAPIBase
	Client  *http.Client // nil means NewAPIClient(DefaultAPITimeout)
	// MaxBytes bounds one file; zero means core.DefaultMaxMediaBytes.
	MaxBytes int
}

// MediaFetcher downloads the photos and voice notes residents send, from
// WeChat's temporary media API (GET /cgi-bin/media/get), which keeps them
// for three days. It implements routing.MediaFetcher.
type MediaFetcher struct {
	cfg MediaConfig
}

// NewMediaFetcher returns a fetcher.
func NewMediaFetcher(cfg MediaConfig) (*MediaFetcher, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("bot: media fetcher has no token source")
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	if cfg.Client == nil {
		cfg.Client = NewAPIClient(DefaultAPITimeout)
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = core.DefaultMaxMediaBytes
	}
	return &MediaFetcher{cfg: cfg}, nil
}

// Fetch downloads media id and returns its content type and bytes. A stale
// access token is refreshed and the call retried once. An error wrapping
// core.ErrInvalid means retrying cannot help: WeChat does not have the
// media (40007 and the like), or it is over MaxBytes.
func (f *MediaFetcher) Fetch(ctx context.Context, id string) (string, []byte, error) {
	if id == "" {
		return "", nil, fmt.Errorf("wechat media: no media id: %w", core.ErrInvalid)
	}
	for attempt := 0; ; attempt++ {
		token, err := f.cfg.Tokens.GetAccessTokenContext(ctx)
		if err != nil {
			return "", nil, fmt.Errorf("wechat media: %w", err)
		}
		ctype, data, code, err := f.get(ctx, token, id)
		if err != nil {
			return "", nil, err
		}
		switch {
		case code == 0:
			return ctype, data, nil
		case isTokenError(code) && attempt == 0:
			f.cfg.Tokens.Invalidate(ctx, token)
			continue
		case code == -1 || isTokenError(code) || code == 45009:
			return "", nil, fmt.Errorf("wechat media: %w", pushError(code, "media/get"))
		}
		return "", nil, fmt.Errorf("wechat media: errcode %d: %w", code, core.ErrInvalid)
	}
}

// get makes one request. A JSON answer is WeChat's error, returned as code.
func (f *MediaFetcher) get(ctx context.Context, token, id string) (ctype string, data []byte, code int, err error) {
	q := url.Values{"access_token": {token}, "media_id": {id}}
	u := strings.TrimRight(f.cfg.APIBase, "/") + "/cgi-bin/media/get?" + q.Encode()
	scrub := apiCall{secrets: []string{token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", nil, 0, scrub.scrub(fmt.Errorf("wechat media: %w", err))
	}
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		return "", nil, 0, scrub.scrub(fmt.Errorf("wechat media: %w", redactURL(err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", nil, 0, fmt.Errorf("wechat media: http status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(f.cfg.MaxBytes)+1))
	if err != nil {
		return "", nil, 0, scrub.scrub(fmt.Errorf("wechat media: reading: %w", err))
	}
	ctype = resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ctype)
	if mt == "application/json" || mt == "text/plain" {
		var res apiResult
		if err := json.Unmarshal(body, &res); err != nil {
			return "", nil, 0, fmt.Errorf("wechat media: decoding answer: %w", err)
		}
		if res.ErrCode == 0 {
			return "", nil, 0, fmt.Errorf("wechat media: a JSON answer without errcode: %w", core.ErrInvalid)
		}
		return "", nil, res.ErrCode, nil
	}
	if len(body) > f.cfg.MaxBytes {
		return "", nil, 0, fmt.Errorf("wechat media: over %d bytes: %w", f.cfg.MaxBytes, core.ErrInvalid)
	}
	if len(body) == 0 {
		return "", nil, 0, fmt.Errorf("wechat media: empty: %w", core.ErrInvalid)
	}
	if mt == "" {
		ctype = http.DetectContentType(body)
	}
	return ctype, body, 0, nil
}
