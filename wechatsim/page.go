package wechatsim

import (
	"embed"
	"encoding/json"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed page
var pageFiles embed.FS

// routePage adds the phone page and its JSON endpoints.
func (s *Sim) routePage(mux *http.ServeMux) {
	static, _ := fs.Sub(pageFiles, "page")
	files := http.FileServerFS(static)
	mux.Handle("GET /{$}", files)
	mux.Handle("GET /phone.js", files)
	mux.Handle("GET /phone.css", files)
	mux.HandleFunc("GET /sim/contacts", s.serveContacts)
	mux.HandleFunc("POST /sim/send", s.serveSend)
	mux.HandleFunc("POST /sim/photo", s.servePhoto)
	mux.HandleFunc("GET /sim/media/{id}", s.servePhoneMedia)
	mux.HandleFunc("GET /sim/inbox", s.serveInbox)
	mux.HandleFunc("GET /sim/open", s.serveOpen)
	mux.HandleFunc("POST /sim/subscribe", s.serveSubscribe)
	mux.HandleFunc("POST /sim/jsconfig", s.serveJSConfig)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Sim) serveContacts(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"contacts": s.cfg.Contacts, "account": s.cfg.AccountID})
}

// sendRequest is what the phone page posts to /sim/send.
type sendRequest struct {
	OpenID string  `json:"openid"`
	Kind   string  `json:"kind"` // text, location, image, voice (Text is what it says, for the ASR), click, subscribe, unsubscribe, event
	Text   string  `json:"text"`
	Lat    float64 `json:"lat"`
	Lng    float64 `json:"lng"`
	Label  string  `json:"label"`
	Event  string  `json:"event"`
	Key    string  `json:"key"`
}

func (s *Sim) serveSend(w http.ResponseWriter, r *http.Request) {
	// A JSON content type keeps other sites' plain form posts out.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "需要 application/json"})
		return
	}
	var req sendRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "请求格式不对"})
		return
	}
	req.OpenID = strings.TrimSpace(req.OpenID)
	if req.OpenID == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "请先填写 openid"})
		return
	}
	var m OutgoingMessage
	switch req.Kind {
	case "text":
		if strings.TrimSpace(req.Text) == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "请输入文字"})
			return
		}
		m = OutgoingMessage{MsgType: "text", Content: req.Text}
	case "location":
		m = OutgoingMessage{MsgType: "location", Lat: req.Lat, Lng: req.Lng, Scale: 15, Label: req.Label}
	case "image":
		media := simImagePrefix + randomHex(8)
		m = OutgoingMessage{MsgType: "image", MediaID: media, PicURL: "https://mmbiz.qpic.cn/sim/" + media + "/0"}
	case "voice":
		m = s.voice(req.Text)
	case "click":
		m = OutgoingMessage{MsgType: "event", Event: "CLICK", EventKey: req.Key}
	case "subscribe", "unsubscribe":
		m = OutgoingMessage{MsgType: "event", Event: req.Kind, EventKey: req.Key}
	case "event":
		m = OutgoingMessage{MsgType: "event", Event: req.Event, EventKey: req.Key}
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "不支持的消息类型"})
		return
	}
	s.sendFromPage(w, r, req.OpenID, m)
}

// sendFromPage sends m from openid and answers the page with the reply.
func (s *Sim) sendFromPage(w http.ResponseWriter, r *http.Request, openid string, m OutgoingMessage) {
	res, err := s.Post(r.Context(), openid, m)
	switch {
	case err != nil:
		s.cfg.Log.Warn("wechatsim callback failed", "err", err)
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "公众号没有正常回应：" + err.Error()})
	case res.Status != http.StatusOK:
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "公众号回应 HTTP " + strconv.Itoa(res.Status)})
	default:
		writeJSON(w, http.StatusOK, map[string]string{"reply": res.Reply})
	}
}

// servePhoto sends a photo the user picked on their device, as WeChat
// does: the file is taken as temporary media (the same store media/upload
// fills, so media/get serves it to the bot), and an image message naming
// it goes to the account. A multipart form: "openid" and the file "photo",
// a JPG, PNG or GIF up to WeChat's 10 MB.
func (s *Sim) servePhoto(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "需要 multipart/form-data"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadImage+64<<10)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "照片不能超过10MB"})
		return
	}
	defer r.MultipartForm.RemoveAll()
	openid := strings.TrimSpace(r.FormValue("openid"))
	if openid == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "请先选择用户"})
		return
	}
	f, _, err := r.FormFile("photo")
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "请选择一张照片"})
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUploadImage+1))
	if err != nil || len(data) <= 5 || len(data) > maxUploadImage {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "照片不能超过10MB"})
		return
	}
	// The bytes say what the file is, not its name or the browser.
	ctype := http.DetectContentType(data)
	switch ctype {
	case "image/jpeg", "image/png", "image/gif":
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "只能发送 JPG、PNG 或 GIF 照片"})
		return
	}
	id := simUploadPrefix + randomHex(12)
	s.uploads.Store(id, upload{kind: "image", contentType: ctype, data: data, at: s.cfg.Now()})
	s.sendFromPage(w, r, openid, OutgoingMessage{MsgType: "image", MediaID: id, PicURL: "https://mmbiz.qpic.cn/sim/" + id + "/0"})
}

// mediaPath is where the phone page shows photo id.
func mediaPath(id string) string { return "/sim/media/" + url.PathEscape(id) }

// servePhoneMedia serves a photo the phone shows: one the simulator made
// up, or one taken as temporary media (picked on the device, or uploaded
// by the bot to send to the user).
func (s *Sim) servePhoneMedia(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	h := w.Header()
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if strings.HasPrefix(id, simImagePrefix) {
		h.Set("Content-Type", "image/png")
		_, _ = w.Write(MediaImage(id))
		return
	}
	if f, ok := s.uploaded(id); ok && f.kind == "image" {
		h.Set("Content-Type", f.contentType)
		_, _ = w.Write(f.data)
		return
	}
	http.NotFound(w, r)
}

func (s *Sim) serveInbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, _ := strconv.Atoi(q.Get("after"))
	writeJSON(w, http.StatusOK, map[string]any{"entries": s.Chat(strings.TrimSpace(q.Get("openid")), after)})
}
