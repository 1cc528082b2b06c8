package wecom

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"gridbot/bot"
	"gridbot/core"
)

// Desk answers what staff send: the same staff desk as WeChat's
// (dialogs.Desk). ok is false when the sender is not staff.
type Desk interface {
	Answer(ctx context.Context, m core.Message) (reply string, ok bool, err error)
}

// Answers to senders the desk does not know, and when it fails.
const (
	// NotStaffReply asks a member who is not linked to a staff member yet
	// to bind, the same way as in WeChat.
	NotStaffReply = "您还没有绑定工作人员身份。请发送“绑定 绑定码”，绑定码向镇里的管理员获取。"
	// OtherReply answers what the app's chat cannot carry to a resident
	// (a video, a file, a link): photos and locations it can.
	OtherReply = "企业微信里的视频、文件和链接不能转给群众。照片和位置可以：先发送“回复 编号 内容”，再在30分钟内发送。"
	// BusyReply is what a member sees when the answer could not be made.
	BusyReply = bot.BusyReply
)

// Defaults of the Callback.
const (
	DefaultMaxBody      = 64 << 10
	DefaultReplyTimeout = 4 * time.Second
	// dedupeLeast is the least a message's mark lives; it lives on until
	// the message is too old to be accepted, so a replay always meets it.
	dedupeLeast = 2 * time.Minute
)

// CallbackConfig configures the app's callback.
type CallbackConfig struct {
	App  *App
	Desk Desk
	// Dedupe keeps a mark and the answer of each message, shared by every
	// instance: WeCom retries a message it got no answer to, and a replay
	// must have no second effect.
	Dedupe       core.Ephemeral
	MaxBody      int64         // 0 means DefaultMaxBody
	MaxClockSkew time.Duration // 0 means bot.DefaultMaxClockSkew
	ReplyTimeout time.Duration // 0 means DefaultReplyTimeout
	Log          *slog.Logger
	// Observe, when set, is told of every callback as WeChat's are
	// (bot.CallbackConfig.Observe): the message type ("unknown" when
	// refused before it is read), the outcome (answered, not_staff,
	// duplicate, error, or bot's forbidden, bad_request, too_large) and the
	// time to answer.
	Observe func(kind, outcome string, took time.Duration)
}

// Callback is the http.Handler of the app's callback URL (接收消息): GET
// verifies the URL, POST brings members' messages. WeCom always encrypts.
type Callback struct {
	cfg   CallbackConfig
	fresh bot.Freshness
}

// NewCallback checks cfg and returns the handler.
func NewCallback(cfg CallbackConfig) (*Callback, error) {
	if cfg.App == nil || cfg.Desk == nil || cfg.Dedupe == nil {
		return nil, errors.New("wecom callback: app, desk and dedupe store are required")
	}
	if cfg.App.cfg.Token == "" {
		return nil, errors.New("wecom callback: token is empty")
	}
	if k, err := base64.StdEncoding.DecodeString(cfg.App.cfg.AESKey + "="); len(cfg.App.cfg.AESKey) != 43 || err != nil || len(k) != 32 {
		return nil, errors.New("wecom callback: aes_key must be the 43-character EncodingAESKey")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.ReplyTimeout <= 0 {
		cfg.ReplyTimeout = DefaultReplyTimeout
	}
	if cfg.Log == nil {
		cfg.Log = cfg.App.cfg.Log
	}
	return &Callback{cfg: cfg, fresh: bot.Freshness{MaxSkew: cfg.MaxClockSkew, Now: cfg.App.cfg.Now}}, nil
}

// ServeHTTP implements http.Handler.
func (c *Callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			c.cfg.Log.Error("wecom callback panicked", "panic", fmt.Sprint(p))
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	switch r.Method {
	case http.MethodGet:
		c.verify(w, r)
	case http.MethodPost:
		c.message(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// refuse answers bad input with status and logs why, never what was sent.
func (c *Callback) refuse(w http.ResponseWriter, status int, reason string) {
	c.cfg.Log.Warn("wecom callback rejected", "status", status, "reason", reason)
	if c.cfg.Observe != nil {
		outcome := bot.OutcomeError
		switch status {
		case http.StatusForbidden:
			outcome = bot.OutcomeForbidden
		case http.StatusBadRequest:
			outcome = bot.OutcomeBadRequest
		case http.StatusRequestEntityTooLarge:
			outcome = bot.OutcomeTooLarge
		}
		c.cfg.Observe("unknown", outcome, 0)
	}
	http.Error(w, http.StatusText(status), status)
}

// signed reports whether msg_signature matches the token, timestamp, nonce
// and ciphertext.
func (c *Callback) signed(got, timestamp, nonce, encrypted string) bool {
	want := util.Signature(c.cfg.App.cfg.Token, timestamp, nonce, encrypted)
	return got != "" && subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// open decrypts ciphertext for this corporation.
func (c *Callback) open(encrypted string) ([]byte, bool) {
	_, plain, err := util.DecryptMsg(c.cfg.App.cfg.CorpID, encrypted, c.cfg.App.cfg.AESKey)
	return plain, err == nil
}

// verify answers WeCom's check of the URL: echostr is encrypted and signed;
// the answer is its plaintext.
func (c *Callback) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, nonce, echo := q.Get("timestamp"), q.Get("nonce"), q.Get("echostr")
	if len(echo) > 1024 || !c.signed(q.Get("msg_signature"), ts, nonce, echo) {
		c.refuse(w, http.StatusForbidden, "verify: bad signature")
		return
	}
	if _, ok := c.fresh.Check(ts); !ok {
		c.refuse(w, http.StatusForbidden, "verify: stale timestamp")
		return
	}
	plain, ok := c.open(echo)
	if !ok {
		c.refuse(w, http.StatusBadRequest, "verify: cannot decrypt echostr")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(plain)
}

// envelope is the outer body of a message.
type envelope struct {
	ToUserName string `xml:"ToUserName"`
	AgentID    string `xml:"AgentID"`
	Encrypt    string `xml:"Encrypt"`
}

// inbound is a member's message or event as WeCom writes it.
type inbound struct {
	ToUserName   string  `xml:"ToUserName"`
	FromUserName string  `xml:"FromUserName"`
	CreateTime   int64   `xml:"CreateTime"`
	MsgType      string  `xml:"MsgType"`
	Content      string  `xml:"Content"`
	MsgID        string  `xml:"MsgId"`
	AgentID      string  `xml:"AgentID"`
	PicURL       string  `xml:"PicUrl"`
	MediaID      string  `xml:"MediaId"`
	LocationX    float64 `xml:"Location_X"`
	LocationY    float64 `xml:"Location_Y"`
	Label        string  `xml:"Label"`
	Event        string  `xml:"Event"`
	EventKey     string  `xml:"EventKey"`
}

func (c *Callback) message(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, nonce, sig := q.Get("timestamp"), q.Get("nonce"), q.Get("msg_signature")
	if sig == "" || len(sig) > 64 || len(nonce) > 64 {
		c.refuse(w, http.StatusForbidden, "no or odd msg_signature")
		return
	}
	stamped, fresh := c.fresh.Check(ts)
	if !fresh {
		c.refuse(w, http.StatusForbidden, "stale timestamp")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.cfg.MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			c.refuse(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		c.refuse(w, http.StatusBadRequest, "reading body")
		return
	}
	var env envelope
	if err := xml.Unmarshal(cleanXML(body), &env); err != nil || env.Encrypt == "" {
		c.refuse(w, http.StatusBadRequest, "malformed envelope")
		return
	}
	// The signature covers the ciphertext: nothing is decrypted or read
	// before it matches.
	if !c.signed(sig, ts, nonce, env.Encrypt) {
		c.refuse(w, http.StatusForbidden, "bad msg_signature")
		return
	}
	plain, ok := c.open(env.Encrypt)
	if !ok {
		c.refuse(w, http.StatusBadRequest, "cannot decrypt (key or corp mismatch)")
		return
	}
	var in inbound
	if err := xml.Unmarshal(cleanXML(plain), &in); err != nil || in.FromUserName == "" || strings.Contains(in.FromUserName, ":") {
		c.refuse(w, http.StatusBadRequest, "malformed message")
		return
	}
	if in.AgentID != "" && in.AgentID != strconv.Itoa(c.cfg.App.AgentID()) {
		c.refuse(w, http.StatusForbidden, "message for another app")
		return
	}
	m := toMessage(&in)
	if m.Kind == core.MessageImage && !ValidMediaID(m.MediaID) {
		m = core.Message{From: m.From, Kind: core.MessageOther}
	}
	requestID := "wecom-" + dedupeKey(&in)
	ctx, cancel := context.WithTimeout(core.WithRequestID(r.Context(), requestID), c.cfg.ReplyTimeout)
	defer cancel()
	start := time.Now()
	reply, outcome := c.answer(ctx, "wecom:msg:"+dedupeKey(&in), c.fresh.MarkTTL(stamped, dedupeLeast), m)
	took := time.Since(start)
	c.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "wecom callback", slog.String("request_id", requestID),
		slog.String("type", string(m.Kind)), slog.String("outcome", outcome), slog.Duration("took", took))
	if c.cfg.Observe != nil {
		c.cfg.Observe(string(m.Kind), outcome, took)
	}
	if reply == "" {
		w.WriteHeader(http.StatusOK) // WeCom: an empty body says nothing to answer
		return
	}
	out, err := c.seal(replyXML(in.FromUserName, c.cfg.App.cfg.CorpID, c.fresh.Now().Unix(), reply), nonce)
	if err != nil {
		c.cfg.Log.Error("wecom reply encryption failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = io.WriteString(w, out)
}

// answer runs the desk once per message: the first copy claims the mark,
// and a copy that comes later (WeCom's retry, a replay) gets the answer kept
// for it without a second effect.
func (c *Callback) answer(ctx context.Context, key string, ttl time.Duration, m core.Message) (string, string) {
	const pending = "\x00pending"
	won, err := c.cfg.Dedupe.SetNX(ctx, key, []byte(pending), ttl)
	if err != nil {
		c.cfg.Log.ErrorContext(ctx, "wecom callback: dedupe", "err", err)
		return BusyReply, "error"
	}
	if !won {
		kept, ok, err := c.cfg.Dedupe.Get(ctx, key)
		if err != nil || !ok || string(kept) == pending {
			return "", "duplicate"
		}
		return string(kept), "duplicate"
	}
	reply, staff, err := c.cfg.Desk.Answer(ctx, m)
	switch {
	case err != nil:
		c.cfg.Log.ErrorContext(ctx, "wecom callback: desk", "err", err)
		// Nothing was done: let WeCom's retry try again.
		_ = c.cfg.Dedupe.Delete(context.WithoutCancel(ctx), key)
		return BusyReply, "error"
	case !staff:
		reply = NotStaffReply
	case m.Kind == core.MessageOther:
		reply = OtherReply
	}
	if err := c.cfg.Dedupe.Set(context.WithoutCancel(ctx), key, []byte(reply), ttl); err != nil {
		c.cfg.Log.WarnContext(ctx, "wecom callback: keep answer", "err", err)
	}
	if !staff {
		return reply, "not_staff"
	}
	return reply, "answered"
}

// ValidMediaID reports whether id can be a WeCom media ID: letters,
// digits, '-', '_' and '.', at most 256 bytes. Anything else is not asked
// of WeCom.
func ValidMediaID(id string) bool {
	if id == "" || len(id) > 256 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// dedupeKey names a message: its MsgId, or for an event the member, the
// moment and the event.
func dedupeKey(in *inbound) string {
	if in.MsgID != "" {
		return "id:" + in.MsgID
	}
	return "ev:" + in.FromUserName + ":" + strconv.FormatInt(in.CreateTime, 10) + ":" + in.Event
}

// toMessage turns WeCom's message into what the desk reads; the sender is
// the member's WeCom address.
func toMessage(in *inbound) core.Message {
	m := core.Message{From: core.Address{Channel: core.ChannelWeCom, ID: in.FromUserName}.String()}
	switch in.MsgType {
	case "text":
		m.Kind, m.Text = core.MessageText, in.Content
	case "image":
		m.Kind, m.MediaID, m.PicURL = core.MessageImage, in.MediaID, in.PicURL
	case "location":
		m.Kind = core.MessageLocation
		m.Location = &core.Location{Point: core.Point{Lat: in.LocationX, Lng: in.LocationY}, Label: in.Label}
	case "voice":
		m.Kind, m.MediaID = core.MessageVoice, in.MediaID
	case "event":
		m.Kind, m.Event, m.EventKey = core.MessageEvent, in.Event, in.EventKey
		if in.Event == "enter_agent" {
			// Opening the app is WeCom's "follow": the desk greets with
			// the commands.
			m.Event = core.EventNameSubscribe
		}
	default:
		m.Kind = core.MessageOther
	}
	return m
}

// seal encrypts a reply for this corporation in the signed envelope.
func (c *Callback) seal(inner, nonce string) (string, error) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	enc, err := util.EncryptMsg(random, []byte(inner), c.cfg.App.cfg.CorpID, c.cfg.App.cfg.AESKey)
	if err != nil {
		return "", fmt.Errorf("encrypt reply: %w", err)
	}
	ts := strconv.FormatInt(c.fresh.Now().Unix(), 10)
	sig := util.Signature(c.cfg.App.cfg.Token, ts, nonce, string(enc))
	return "<xml><Encrypt>" + cdata(string(enc)) + "</Encrypt><MsgSignature>" + cdata(sig) +
		"</MsgSignature><TimeStamp>" + ts + "</TimeStamp><Nonce>" + cdata(nonce) + "</Nonce></xml>", nil
}

// replyXML is a passive text reply from the app to member userid.
func replyXML(userid, corpID string, at int64, content string) string {
	return "<xml><ToUserName>" + cdata(userid) + "</ToUserName><FromUserName>" + cdata(corpID) +
		"</FromUserName><CreateTime>" + strconv.FormatInt(at, 10) + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>" +
		cdata(content) + "</Content></xml>"
}

// cdata wraps s in CDATA sections, splitting any "]]>" inside it, and drops
// characters XML cannot hold.
func cdata(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0xFFFE || r == 0xFFFF {
			return -1
		}
		return r
	}, s)
	return "<![CDATA[" + strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") + "]]>"
}

// cleanXML blanks control characters encoding/xml refuses, so a message
// with one is read rather than refused.
func cleanXML(b []byte) []byte {
	for i, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			out := make([]byte, len(b))
			copy(out, b)
			for j := i; j < len(out); j++ {
				if out[j] < 0x20 && out[j] != '\n' && out[j] != '\r' && out[j] != '\t' {
					out[j] = ' '
				}
			}
			return out
		}
	}
	return b
}
