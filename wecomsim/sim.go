package wecomsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Member is someone in the corporation whom the app can reach.
type Member struct {
	UserID string `json:"userid"`
	Name   string `json:"name"` // as the page lists them, e.g. "网格长 李四"
}

// Config configures a Sim.
type Config struct {
	CorpID  string
	AgentID int
	Secret  string
	Token   string // the callback's Token
	AESKey  string // the callback's EncodingAESKey
	// CallbackURL is the app's callback (…/wecom); it may be set later.
	CallbackURL string
	Members     []Member
	// Robots are the group robots' keys and the groups' names.
	Robots map[string]string
	Client *http.Client // for callbacks; nil means a 5-second timeout
	Now    func() time.Time
	Log    *slog.Logger
}

// Card is a text card the app pushed, as the chat shows it.
type Card struct {
	Title       string `json:"title"`
	Description string `json:"description"` // WeCom's little HTML
	URL         string `json:"url"`
	BtnTxt      string `json:"btntxt,omitempty"`
}

// Entry is one line of a member's chat with the app.
type Entry struct {
	N    int       `json:"n"`
	Kind string    `json:"kind"` // "sent", "reply", "push" or "error"
	Text string    `json:"text"`
	Card *Card     `json:"card,omitempty"`
	At   time.Time `json:"at"`
}

// RobotPost is what a group robot posted.
type RobotPost struct {
	Key     string    `json:"-"`
	Group   string    `json:"group"`
	MsgType string    `json:"msgtype"` // text or markdown
	Content string    `json:"content"`
	At      time.Time `json:"at"`
}

// Sim is a simulated WeCom. Its methods are safe for concurrent use.
type Sim struct {
	cfg Config

	mu          sync.Mutex
	callbackURL string
	tokens      map[string]time.Time
	current     string
	tokenCalls  int
	chats       map[string][]Entry
	sent        map[string][]time.Time // userid → deliveries, for the 30 a minute
	dropped     map[string]int
	robotPosts  []RobotPost
	robotTimes  map[string][]time.Time
	refused     map[string]int // robot key → posts refused for the rate
	codes       map[string]code
	msgID       int64
	changed     chan struct{}
	media       map[string]mediaFile // what members sent, by media ID (media.go)
	mediaGets   int
	outOfRange  map[string]bool // members the app may not reach
}

type code struct {
	userid  string
	expires time.Time
	used    bool
}

// New returns a simulator.
func New(cfg Config) *Sim {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Sim{cfg: cfg, callbackURL: cfg.CallbackURL, tokens: map[string]time.Time{}, chats: map[string][]Entry{},
		sent: map[string][]time.Time{}, dropped: map[string]int{}, robotTimes: map[string][]time.Time{},
		refused: map[string]int{}, codes: map[string]code{}, msgID: cfg.Now().UnixMicro(), changed: make(chan struct{})}
}

// SetCallbackURL points the simulator at the app's callback.
func (s *Sim) SetCallbackURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callbackURL = u
}

// Handler serves WeCom's API, web authorisation, the robots and the page.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cgi-bin/gettoken", s.serveToken)
	mux.HandleFunc("POST /cgi-bin/message/send", s.serveSend)
	mux.HandleFunc("GET /cgi-bin/auth/getuserinfo", s.serveUserInfo)
	mux.HandleFunc("GET /connect/oauth2/authorize", s.serveAuthorize)
	mux.HandleFunc("POST /cgi-bin/webhook/send", s.serveRobot)
	mux.HandleFunc("GET /cgi-bin/media/get", s.serveMediaGet)
	s.routePage(mux)
	return mux
}

// Chat returns userid's chat lines after the first after.
func (s *Sim) Chat(userid string, after int) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[userid]
	if after < 0 || after >= len(c) {
		return []Entry{}
	}
	return slices.Clone(c[after:])
}

// Cards returns the cards (and texts) pushed to userid so far.
func (s *Sim) Cards(userid string) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Entry
	for _, e := range s.chats[userid] {
		if e.Kind == "push" {
			out = append(out, e)
		}
	}
	return out
}

// WaitCard waits for a push to userid that match accepts (nil: any).
func (s *Sim) WaitCard(ctx context.Context, userid string, match func(Entry) bool) (Entry, error) {
	for {
		s.mu.Lock()
		for _, e := range s.chats[userid] {
			if e.Kind == "push" && (match == nil || match(e)) {
				s.mu.Unlock()
				return e, nil
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return Entry{}, ctx.Err()
		case <-changed:
		}
	}
}

// Dropped counts messages to userid WeCom dropped for the 30 a minute.
func (s *Sim) Dropped(userid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped[userid]
}

// RobotPosts returns what the robot with key posted ("" means every robot).
func (s *Sim) RobotPosts(key string) []RobotPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RobotPost
	for _, p := range s.robotPosts {
		if key == "" || p.Key == key {
			out = append(out, p)
		}
	}
	return out
}

// RobotRefused counts posts to key refused for the 20 a minute.
func (s *Sim) RobotRefused(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused[key]
}

// TokenCalls counts gettoken calls.
func (s *Sim) TokenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// note appends a chat line. Callers hold s.mu.
func (s *Sim) note(userid string, e Entry) {
	c := s.chats[userid]
	e.N, e.At = len(c)+1, s.cfg.Now()
	s.chats[userid] = append(c, e)
	close(s.changed)
	s.changed = make(chan struct{})
}

// OutOfRange takes userid out of the app's visible range (可见范围), or
// back into it: message/send then answers them as WeCom does a member the
// app cannot reach (invaliduser, 81013 when they were the only one).
func (s *Sim) OutOfRange(userid string, out bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outOfRange == nil {
		s.outOfRange = map[string]bool{}
	}
	s.outOfRange[userid] = out
}

func (s *Sim) member(userid string) bool {
	return slices.ContainsFunc(s.cfg.Members, func(m Member) bool { return m.UserID == userid })
}

func answer(w http.ResponseWriter, v map[string]any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if _, ok := v["errcode"]; !ok {
		v["errcode"], v["errmsg"] = 0, "ok"
	}
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, code int, msg string) {
	answer(w, map[string]any{"errcode": code, "errmsg": msg})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// inLastMinute keeps the times within a minute of now.
func inLastMinute(ts []time.Time, now time.Time) []time.Time {
	return slices.DeleteFunc(ts, func(t time.Time) bool { return now.Sub(t) >= time.Minute })
}

func itoa(n int) string { return strconv.Itoa(n) }
