package wechatsim

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// simUploadPrefix starts the media IDs media/upload hands out.
const simUploadPrefix = "sim_upload_"

// Bounds of WeChat's temporary media: a photo up to 10 MB in JPG, PNG or
// GIF, a voice note up to 2 MB in AMR or MP3; every file over 5 bytes.
const (
	maxUploadImage = 10 << 20
	maxUploadVoice = 2 << 20
)

// upload is a file media/upload took.
type upload struct {
	kind, contentType string
	data              []byte
	at                time.Time
}

// serveMediaUpload plays POST /cgi-bin/media/upload: a multipart form whose
// field "media" is the file, its format read from the file name's
// extension, as WeChat reads it. The file is then served by media/get and
// a customer-service message may send it.
func (s *Sim) serveMediaUpload(w http.ResponseWriter, r *http.Request) {
	if !s.checkToken(w, r) {
		return
	}
	kind := r.URL.Query().Get("type")
	limit, exts := int64(maxUploadImage), []string{".jpg", ".jpeg", ".png", ".gif"}
	switch kind {
	case "image":
	case "voice":
		limit, exts = maxUploadVoice, []string{".amr", ".mp3"}
	default:
		apiError(w, 40004, "invalid media type")
		return
	}
	if err := r.ParseMultipartForm(limit + 4096); err != nil {
		apiError(w, 41005, "media data missing")
		return
	}
	f, hdr, err := r.FormFile("media")
	if err != nil {
		apiError(w, 41005, "media data missing")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	switch {
	case err != nil || len(data) <= 5:
		apiError(w, 40005, "invalid file type")
		return
	case int64(len(data)) > limit:
		apiError(w, 40006, "invalid meida size")
		return
	}
	name := strings.ToLower(hdr.Filename)
	ok := false
	for _, e := range exts {
		ok = ok || strings.HasSuffix(name, e)
	}
	if !ok {
		apiError(w, 40005, "invalid file type")
		return
	}
	ctype := hdr.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ctype); mt == "" || mt == "application/octet-stream" {
		ctype = http.DetectContentType(data)
	}
	id := simUploadPrefix + randomHex(12)
	now := s.cfg.Now()
	s.uploads.Store(id, upload{kind: kind, contentType: ctype, data: data, at: now})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = io.WriteString(w, `{"type":"`+kind+`","media_id":"`+id+`","created_at":`+strconv.FormatInt(now.Unix(), 10)+`}`)
}

// uploaded returns the file media/upload took as id, within its three days.
func (s *Sim) uploaded(id string) (upload, bool) {
	v, ok := s.uploads.Load(id)
	if !ok {
		return upload{}, false
	}
	f := v.(upload)
	if s.cfg.Now().Sub(f.at) >= 72*time.Hour {
		return upload{}, false
	}
	return f, true
}

// Uploaded returns the bytes uploaded as media ID id (what a resident sees
// in a photo sent to them), and whether there are any.
func (s *Sim) Uploaded(id string) ([]byte, bool) {
	f, ok := s.uploaded(id)
	return f.data, ok
}
