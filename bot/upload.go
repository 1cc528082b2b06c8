package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"gridbot/core"
)

// MediaUploader puts files into WeChat's temporary media (POST
// /cgi-bin/media/upload, kept three days), so that a customer-service
// message can carry them: a photo staff sent from another channel (WeCom)
// goes to the resident as one sent from WeChat does. It implements
// wecom.Uploader.
type MediaUploader struct {
	cfg MediaConfig
}

// NewMediaUploader returns an uploader; cfg is a MediaFetcher's.
func NewMediaUploader(cfg MediaConfig) (*MediaUploader, error) {
	f, err := NewMediaFetcher(cfg)
	if err != nil {
		return nil, err
	}
	return &MediaUploader{cfg: f.cfg}, nil
}

// uploadResult is media/upload's answer.
type uploadResult struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	Type    string `json:"type"`
	MediaID string `json:"media_id"`
}

// Upload uploads data of kind (core.MediaImage, core.MediaVoice) and
// returns its media ID. A stale token is refreshed and the upload made
// again once. An error wrapping core.ErrInvalid means retrying cannot help
// (WeChat refuses the file: its size or format).
func (u *MediaUploader) Upload(ctx context.Context, kind, contentType string, data []byte) (string, error) {
	if kind != core.MediaImage && kind != core.MediaVoice || len(data) == 0 || len(data) > u.cfg.MaxBytes {
		return "", fmt.Errorf("wechat upload: %s of %d bytes: %w", kind, len(data), core.ErrInvalid)
	}
	for attempt := 0; ; attempt++ {
		token, err := u.cfg.Tokens.GetAccessTokenContext(ctx)
		if err != nil {
			return "", fmt.Errorf("wechat upload: %w", err)
		}
		res, err := u.post(ctx, token, kind, contentType, data)
		if err != nil {
			return "", err
		}
		switch {
		case res.ErrCode == 0 && res.MediaID != "":
			return res.MediaID, nil
		case res.ErrCode == 0:
			return "", errors.New("wechat upload: an answer without media_id")
		case isTokenError(res.ErrCode) && attempt == 0:
			u.cfg.Tokens.Invalidate(ctx, token)
			continue
		case temporaryCode(res.ErrCode) || isTokenError(res.ErrCode):
			return "", fmt.Errorf("wechat upload: %w", pushError(res.ErrCode, "media/upload"))
		}
		return "", fmt.Errorf("wechat upload: errcode %d: %w", res.ErrCode, core.ErrInvalid)
	}
}

// post makes one multipart upload: the file in the form field "media",
// with a file name whose extension WeChat reads the format from.
func (u *MediaUploader) post(ctx context.Context, token, kind, contentType string, data []byte) (uploadResult, error) {
	var res uploadResult
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="media"; filename="`+kind+extension(contentType)+`"`)
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	h.Set("Content-Type", contentType)
	part, err := w.CreatePart(h)
	if err == nil {
		_, err = part.Write(data)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return res, fmt.Errorf("wechat upload: form: %w", err)
	}
	q := url.Values{"access_token": {token}, "type": {kind}}
	target := strings.TrimRight(u.cfg.APIBase, "/") + "/cgi-bin/media/upload?" + q.Encode()
	scrub := apiCall{secrets: []string{token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, &body)
	if err != nil {
		return res, scrub.scrub(fmt.Errorf("wechat upload: %w", err))
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := u.cfg.Client.Do(req)
	if err != nil {
		return res, scrub.scrub(fmt.Errorf("wechat upload: %w", redactURL(err)))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return res, fmt.Errorf("wechat upload: reading answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("wechat upload: http status %d", resp.StatusCode)
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return res, fmt.Errorf("wechat upload: decoding answer: %w", err)
	}
	return res, nil
}

// extension is the file name's extension for a content type: WeChat
// takes JPG and PNG photos, AMR and MP3 voice notes.
func extension(contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "audio/amr":
		return ".amr"
	case "audio/mpeg", "audio/mp3":
		return ".mp3"
	}
	return ".jpg"
}
