package wecom

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
	"time"

	"gridbot/core"
)

// FetchMedia downloads what a member sent in the app's chat (a photo, a
// voice note) from WeCom's temporary media (GET /cgi-bin/media/get), which
// keeps it for three days. WeCom answers the file itself, or JSON with an
// errcode. A stale token is refreshed and the call made again once. An
// error wrapping core.ErrInvalid means retrying cannot help: WeCom does not
// have the media (40007), or it is over max bytes (0 means
// core.DefaultMaxMediaBytes).
func (a *App) FetchMedia(ctx context.Context, id string, max int) (string, []byte, error) {
	if !ValidMediaID(id) {
		return "", nil, fmt.Errorf("wecom media: media id: %w", core.ErrInvalid)
	}
	if max <= 0 {
		max = core.DefaultMaxMediaBytes
	}
	for attempt := 0; ; attempt++ {
		tok, err := a.accessToken(ctx)
		if err != nil {
			return "", nil, err
		}
		ctype, data, code, err := a.getMedia(ctx, tok, id, max)
		switch {
		case err != nil:
			return "", nil, err
		case code == 0:
			return ctype, data, nil
		case tokenError(code) && attempt == 0:
			a.dropToken(tok)
			continue
		case temporaryCode(code):
			return "", nil, fmt.Errorf("wecom media: %w", pushError(code, "media/get"))
		}
		return "", nil, fmt.Errorf("wecom media: errcode %d: %w", code, core.ErrInvalid)
	}
}

// getMedia makes one download; a JSON answer is WeCom's error, returned as
// code. The token never appears in its errors.
func (a *App) getMedia(ctx context.Context, tok, id string, max int) (ctype string, data []byte, code int, err error) {
	q := url.Values{"access_token": {tok}, "media_id": {id}}
	u := strings.TrimRight(a.cfg.APIBase, "/") + "/cgi-bin/media/get?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", nil, 0, errors.New("wecom media: bad request")
	}
	// A photo takes longer than a call: its own bound, within the caller's.
	client := *a.cfg.Client
	if client.Timeout > 0 && client.Timeout < 10*time.Second {
		client.Timeout = 10 * time.Second
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the token
		}
		return "", nil, 0, fmt.Errorf("wecom media: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", nil, 0, fmt.Errorf("wecom media: http status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(max)+1))
	if err != nil {
		return "", nil, 0, fmt.Errorf("wecom media: reading: %w", err)
	}
	ctype = resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ctype)
	if mt == "application/json" || mt == "text/plain" {
		var res result
		if err := json.Unmarshal(body, &res); err != nil {
			return "", nil, 0, fmt.Errorf("wecom media: decoding answer: %w", err)
		}
		if res.ErrCode == 0 {
			return "", nil, 0, fmt.Errorf("wecom media: a JSON answer without errcode: %w", core.ErrInvalid)
		}
		return "", nil, int(res.ErrCode), nil
	}
	switch {
	case len(body) > max:
		return "", nil, 0, fmt.Errorf("wecom media: over %d bytes: %w", max, core.ErrInvalid)
	case len(body) == 0:
		return "", nil, 0, fmt.Errorf("wecom media: empty: %w", core.ErrInvalid)
	}
	if mt == "" || mt == "application/octet-stream" {
		ctype = http.DetectContentType(body)
	}
	return ctype, body, 0, nil
}
