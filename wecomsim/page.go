package wecomsim

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed page
var pageFiles embed.FS

// routePage serves the WeCom view: a member's chat with the app (cards,
// replies, what they type) and the group robots' posts.
func (s *Sim) routePage(mux *http.ServeMux) {
	sub, _ := fs.Sub(pageFiles, "page")
	mux.Handle("GET /{$}", http.FileServerFS(sub))
	mux.Handle("GET /wecom.js", http.FileServerFS(sub))
	mux.HandleFunc("GET /sim/members", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.cfg.Members)
	})
	mux.HandleFunc("GET /sim/chat", func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.Atoi(r.URL.Query().Get("after"))
		writeJSON(w, s.Chat(r.URL.Query().Get("userid"), after))
	})
	mux.HandleFunc("GET /sim/robots", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.RobotPosts(""))
	})
	mux.HandleFunc("POST /sim/send", s.serveSendFromPage)
	mux.HandleFunc("GET /sim/open", s.serveOpen)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// serveSendFromPage sends what the member typed (or a location) to the app.
func (s *Sim) serveSendFromPage(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID string  `json:"userid"`
		Text   string  `json:"text"`
		Lat    float64 `json:"lat"`
		Lng    float64 `json:"lng"`
		Label  string  `json:"label"`
		// Photo sends a photo the simulator draws (Photo) instead.
		Photo bool `json:"photo"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil || !s.member(req.UserID) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if req.Photo {
		res, _, err := s.SendImage(r.Context(), req.UserID, "image/jpeg", Photo(req.UserID+randomHex(4)))
		if err != nil {
			http.Error(w, "callback failed", http.StatusBadGateway)
			return
		}
		writeJSON(w, res)
		return
	}
	m := Message{MsgType: "text", Content: strings.TrimSpace(req.Text)}
	if req.Label != "" {
		m = Message{MsgType: "location", Lat: req.Lat, Lng: req.Lng, Label: req.Label}
	} else if m.Content == "" {
		http.Error(w, "empty", http.StatusBadRequest)
		return
	}
	res, err := s.Post(r.Context(), req.UserID, m)
	if err != nil {
		http.Error(w, "callback failed", http.StatusBadGateway)
		return
	}
	writeJSON(w, res)
}

// serveOpen opens a card's page inside the member's WeCom: it sets the
// cookie web authorisation reads and goes to the page.
func (s *Sim) serveOpen(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	userid := strings.TrimSpace(q.Get("userid"))
	u, err := url.Parse(q.Get("url"))
	if !s.member(userid) || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		authorizePage(w, http.StatusBadRequest, "无法打开此网页")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: readerCookie, Value: userid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, u.String(), http.StatusFound)
}
