package wechatsim

import (
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
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
	res, err := s.Post(r.Context(), req.OpenID, m)
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

func (s *Sim) serveInbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, _ := strconv.Atoi(q.Get("after"))
	writeJSON(w, http.StatusOK, map[string]any{"entries": s.Chat(strings.TrimSpace(q.Get("openid")), after)})
}
