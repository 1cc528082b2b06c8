package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultAPIBase is WeChat's API server.
const DefaultAPIBase = "https://api.weixin.qq.com"

// DefaultAPITimeout bounds one call to WeChat's API.
const DefaultAPITimeout = 5 * time.Second

// NewAPIClient returns an HTTP client for WeChat's API with an overall
// timeout (never http.DefaultClient, which has none).
func NewAPIClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultAPITimeout
	}
	return &http.Client{Timeout: timeout}
}

// apiResult is the part every WeChat API answer shares, plus what the calls
// here read.
type apiResult struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	MsgID       int64  `json:"msgid"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	OpenID      string `json:"openid"` // web authorisation
	Ticket      string `json:"ticket"` // the JS-SDK's jsapi_ticket
	// The account's templates: message templates (template_list) and
	// 订阅通知 templates (data).
	TemplateList []listedTemplate `json:"template_list"`
	Data         []listedTemplate `json:"data"`
}

// listedTemplate is one template as WeChat lists the account's own.
type listedTemplate struct {
	TemplateID string `json:"template_id"` // template_list
	PriTmplID  string `json:"priTmplId"`   // data (订阅通知)
	Title      string `json:"title"`
	Content    string `json:"content"`
}

// isTokenError reports whether code says the access token is stale.
func isTokenError(code int) bool {
	return code == 40001 || code == 42001 || code == 40014
}

// apiCall is one JSON request to WeChat: base+path, query and body (a GET
// when body is nil).
// secrets are scrubbed from any error it returns.
type apiCall struct {
	client  *http.Client
	base    string
	path    string
	query   url.Values
	body    any
	secrets []string
}

// do sends the call and decodes the answer. Transport and HTTP-status
// failures are errors; a non-zero errcode is returned in the result for the
// caller to judge.
func (a apiCall) do(ctx context.Context) (apiResult, error) {
	var res apiResult
	u := strings.TrimRight(a.base, "/") + a.path
	if len(a.query) > 0 {
		u += "?" + a.query.Encode()
	}
	method, body := http.MethodGet, io.Reader(nil)
	if a.body != nil {
		payload, err := json.Marshal(a.body)
		if err != nil {
			return res, fmt.Errorf("wechat %s: encode: %w", a.path, err)
		}
		method, body = http.MethodPost, bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return res, a.scrub(fmt.Errorf("wechat %s: %w", a.path, err))
	}
	if a.body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return res, a.scrub(fmt.Errorf("wechat %s: %w", a.path, redactURL(err)))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return res, a.scrub(fmt.Errorf("wechat %s: reading answer: %w", a.path, err))
	}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("wechat %s: http status %d", a.path, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return res, fmt.Errorf("wechat %s: decoding answer: %w", a.path, err)
	}
	res.ErrMsg = a.scrubText(res.ErrMsg)
	return res, nil
}

// redactURL drops the query (which may hold the access token) from a
// transport error's URL.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if i := strings.IndexByte(ue.URL, '?'); i >= 0 {
			ue.URL = ue.URL[:i] + "?…"
		}
	}
	return err
}

func (a apiCall) scrubText(s string) string {
	for _, secret := range a.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}

// scrub returns err with the secrets masked out of its text. The chain is
// flattened to text only when a secret actually occurs in it.
func (a apiCall) scrub(err error) error {
	msg := err.Error()
	if clean := a.scrubText(msg); clean != msg {
		return errors.New(clean)
	}
	return err
}
