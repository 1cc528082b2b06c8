package wechatsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Contact is a quick choice on the phone page.
type Contact struct {
	OpenID string `json:"openid"`
	Label  string `json:"label"` // e.g. "居民 张三", "网格长 李四"
}

// Config configures a Sim.
type Config struct {
	Token     string // the callback Token
	AppID     string
	AppSecret string
	AESKey    string // EncodingAESKey; empty means plain mode
	// CallbackURL is the bot's callback (…/wechat). It may be set later
	// with SetCallbackURL.
	CallbackURL string
	AccountID   string       // the account's ToUserName; "" means "gh_gridbot"
	Client      *http.Client // for callbacks; nil means a 5-second timeout, as WeChat
	Now         func() time.Time
	Log         *slog.Logger
	Contacts    []Contact
	// Templates are the account's message templates, picked from the
	// category library (see Library): a send to another ID gets 40037, a
	// value that breaks its field's type or length 47003; first, remark
	// and keys the template has not got are dropped.
	Templates []Template
	// SubscribeTemplates are the account's 订阅通知 templates (see
	// SubscribeLibrary), sent with subscribe/bizsend to users who granted
	// them.
	SubscribeTemplates []Template
	// OAuthDomains are the account's web-authorisation domains (网页授权
	// 域名): hosts (with port) a redirect_uri may lead to. Empty allows any,
	// for tests that start servers on random ports.
	OAuthDomains []string
	// JSDomains are the account's JS-safe domains (JS接口安全域名): hosts
	// (with port) whose pages may pass wx.config. Empty allows any.
	JSDomains []string
	// ASRSecretID and ASRSecretKey are the Tencent Cloud credentials the
	// simulated ASR (asr.go) accepts; empty refuses every call.
	ASRSecretID  string
	ASRSecretKey string
}

// Push is a message the bot pushed through the API.
type Push struct {
	To      string `json:"to"`
	Channel string `json:"channel"` // "custom", "template" or "subscribe"
	// Text is the custom text, or a template as the phone shows it: the
	// title, each field after its label, and 详情 when it links to a page.
	Text        string            `json:"text"`
	TemplateID  string            `json:"templateId,omitempty"`
	Title       string            `json:"title,omitempty"`  // template and subscribe
	Fields      []PushField       `json:"fields,omitempty"` // template and subscribe, in order
	URL         string            `json:"url,omitempty"`    // the page 详情 opens
	Data        map[string]string `json:"data,omitempty"`   // the values as sent
	ClientMsgID string            `json:"clientMsgId,omitempty"`
	MsgID       int64             `json:"msgId,omitempty"`
	At          time.Time         `json:"at"`
}

// Entry is one line of a phone's chat, as the page shows it.
type Entry struct {
	N       int    `json:"n"`    // position in the chat, from 1
	Kind    string `json:"kind"` // "sent", "reply", "push" or "error"
	Text    string `json:"text"`
	Channel string `json:"channel,omitempty"` // pushes
	// Card is a template or subscribe push, for the page to draw.
	Card *Card `json:"card,omitempty"`
	// Image is where the phone page shows a photo sent or pushed
	// (/sim/media/ID), for the page to draw.
	Image string    `json:"image,omitempty"`
	At    time.Time `json:"at"`
}

// Card is a template push as the phone draws it.
type Card struct {
	Title  string      `json:"title"`
	Fields []PushField `json:"fields"`
	URL    string      `json:"url,omitempty"`
}

// Sim is a simulated WeChat. Its methods are safe for concurrent use.
type Sim struct {
	cfg            Config
	msgID          atomic.Int64
	tokenRequests  atomic.Int64
	mediaRequests  atomic.Int64
	ticketRequests atomic.Int64
	// uploads are the files media/upload took, by media ID (upload.go).
	uploads sync.Map

	mu          sync.Mutex
	callbackURL string
	tokens      map[string]time.Time // access token → expiry
	current     string               // what stable_token hands out
	failNext    map[failKey][]int
	stalls      map[string]stallEntry
	pushes      []Push
	templates   map[string]int64 // client_msg_id → msgid
	nextPushID  int64
	chats       map[string][]Entry
	users       map[string]*user
	transcripts map[string]string // voice bytes' hash → what was said
	codes       map[string]oauthCode
	tickets     map[string]time.Time // jsapi_ticket → expiry
	ticket      string               // the one getticket hands out
	verified    map[string]verifiedPage
	asrCalls    int
	changed     chan struct{} // closed and replaced on every push or chat line
}

type failKey struct{ openid, api string }

// New returns a simulator.
func New(cfg Config) *Sim {
	if cfg.AccountID == "" {
		cfg.AccountID = "gh_gridbot"
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Contacts = slices.Clone(cfg.Contacts)
	s := &Sim{
		cfg:         cfg,
		callbackURL: cfg.CallbackURL,
		tokens:      map[string]time.Time{},
		failNext:    map[failKey][]int{},
		templates:   map[string]int64{},
		chats:       map[string][]Entry{},
		users:       map[string]*user{},
		transcripts: map[string]string{},
		codes:       map[string]oauthCode{},
		tickets:     map[string]time.Time{},
		verified:    map[string]verifiedPage{},
		changed:     make(chan struct{}),
		nextPushID:  cfg.Now().Unix() * 1000,
	}
	// MsgIds differ between runs, so a restarted simulator does not hit a
	// bot's dedupe marks from the previous run.
	s.msgID.Store(cfg.Now().UnixMicro())
	return s
}

// stallEntry is a one-shot hang of the next push to an openid.
type stallEntry struct {
	d       time.Duration
	started chan struct{}
}

// StallNext makes the next push to openid hang for d (or until its caller
// gives up) before it is answered, as a stuck WeChat would: a test can kill
// an instance while its handler waits. The channel closes when the stall
// begins.
func (s *Sim) StallNext(openid string, d time.Duration) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stalls == nil {
		s.stalls = map[string]stallEntry{}
	}
	e := stallEntry{d: d, started: make(chan struct{})}
	s.stalls[openid] = e
	return e.started
}

// stall hangs the request if a stall is queued for openid. It reports false
// when the caller went away meanwhile: the push must then not count.
func (s *Sim) stall(r *http.Request, openid string) bool {
	s.mu.Lock()
	e, ok := s.stalls[openid]
	delete(s.stalls, openid)
	s.mu.Unlock()
	if !ok {
		return true
	}
	close(e.started)
	select {
	case <-time.After(e.d):
		return true
	case <-r.Context().Done():
		return false
	}
}

// TokenRequests counts the access-token requests the bot made.
func (s *Sim) TokenRequests() int64 { return s.tokenRequests.Load() }

// SetCallbackURL points the simulator at the bot's callback URL.
func (s *Sim) SetCallbackURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callbackURL = u
}

// CallbackURL returns where callbacks go.
func (s *Sim) CallbackURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callbackURL
}

// Handler serves WeChat's API, the phone page and its JSON endpoints.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cgi-bin/stable_token", s.serveStableToken)
	mux.HandleFunc("GET /cgi-bin/token", s.serveToken)
	mux.HandleFunc("POST /cgi-bin/message/custom/send", s.serveCustomSend)
	mux.HandleFunc("POST /cgi-bin/message/template/send", s.serveTemplateSend)
	mux.HandleFunc("GET /cgi-bin/media/get", s.serveMediaGet)
	mux.HandleFunc("POST /cgi-bin/media/upload", s.serveMediaUpload)
	mux.HandleFunc("POST /cgi-bin/message/subscribe/bizsend", s.serveBizSend)
	mux.HandleFunc("GET /connect/oauth2/authorize", s.serveAuthorize)
	mux.HandleFunc("GET /sns/oauth2/access_token", s.serveOAuthToken)
	mux.HandleFunc("GET /cgi-bin/ticket/getticket", s.serveGetTicket)
	mux.HandleFunc("GET /cgi-bin/template/get_all_private_template", s.serveListTemplates)
	mux.HandleFunc("GET /wxaapi/newtmpl/gettemplate", s.serveListSubscribeTemplates)
	mux.HandleFunc("GET /open/js/jweixin-1.6.0.js", s.serveJSSDK)
	mux.HandleFunc("POST /{$}", s.serveCloudAPI)
	s.routePage(mux)
	return mux
}

// FailNext makes the next push of kind api ("custom", "template" or "subscribe") to
// openid fail with errcode. Calls queue up.
func (s *Sim) FailNext(openid, api string, errcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := failKey{openid, api}
	s.failNext[k] = append(s.failNext[k], errcode)
}

// ExpireTokens invalidates every access token issued so far (40001 from
// then on); the next token request gets a new one.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
	s.current = ""
}

// Pushes returns the pushes to openid so far, oldest first ("" means all).
func (s *Sim) Pushes(openid string) []Push {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Push
	for _, p := range s.pushes {
		if openid == "" || p.To == openid {
			out = append(out, clonePush(p))
		}
	}
	return out
}

// WaitPush returns the first push to openid for which match is true (nil
// matches any), waiting for it if it has not arrived yet. Pushes that arrived
// before the call count. It returns ctx's error when ctx ends first.
func (s *Sim) WaitPush(ctx context.Context, openid string, match func(Push) bool) (Push, error) {
	for {
		s.mu.Lock()
		for _, p := range s.pushes {
			if p.To == openid && (match == nil || match(p)) {
				s.mu.Unlock()
				return clonePush(p), nil
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return Push{}, ctx.Err()
		case <-changed:
		}
	}
}

// Chat returns openid's chat lines after the first after lines.
func (s *Sim) Chat(openid string, after int) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[openid]
	if after < 0 || after >= len(c) {
		return []Entry{}
	}
	return slices.Clone(c[after:])
}

// note appends a chat line. Callers hold s.mu.
func (s *Sim) note(openid, kind, text, channel string) {
	c := s.chats[openid]
	s.chats[openid] = append(c, Entry{N: len(c) + 1, Kind: kind, Text: text, Channel: channel, At: s.cfg.Now()})
	s.broadcast()
}

// broadcast wakes everyone waiting for a change. Callers hold s.mu.
func (s *Sim) broadcast() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func clonePush(p Push) Push {
	p.Data = maps.Clone(p.Data)
	p.Fields = slices.Clone(p.Fields)
	return p
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
