package wechatsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/silenceper/wechat/v2/util"
)

// OutgoingMessage is what a user sends the account: one of WeChat's message
// types (or events), or a raw body for tests of bad input.
type OutgoingMessage struct {
	MsgType string // "text", "image", "voice", "location", "event", …

	Content string // text
	PicURL  string // image
	MediaID string // image, voice
	Format  string // voice, e.g. "amr"
	// Transcript is what the voice note says: WeChat no longer sends it
	// (no Recognition field); the simulator's ASR answers it when the bot
	// asks to have the voice transcribed.
	Transcript string  // voice
	Lat, Lng   float64 // location: Location_X, Location_Y
	Scale      int     // location
	Label      string  // location
	Event      string  // event: subscribe, unsubscribe, CLICK, …
	EventKey   string  // event

	// MsgID is the message's MsgId; 0 means the next one. Events carry none.
	// Set it (and CreateTime) to send a retry of an earlier message.
	MsgID int64
	// CreateTime is the Unix time of the message; 0 means Now.
	CreateTime int64

	// Raw, when set, is sent as the message XML instead of the fields above
	// (still signed, and encrypted in safe mode).
	Raw []byte
}

// Result is the bot's answer to one callback.
type Result struct {
	Status     int    // HTTP status
	Body       []byte // the body as received
	Reply      string // the passive text reply; "" for "success" or an empty body
	MsgID      int64  // the MsgId sent (0 for events)
	CreateTime int64  // the CreateTime sent
}

// SendText sends a text message and returns the bot's reply.
func (s *Sim) SendText(ctx context.Context, openid, text string) (string, error) {
	return s.send(ctx, openid, OutgoingMessage{MsgType: "text", Content: text})
}

// SendLocation sends a location message.
func (s *Sim) SendLocation(ctx context.Context, openid string, lat, lng float64, label string) (string, error) {
	return s.send(ctx, openid, OutgoingMessage{MsgType: "location", Lat: lat, Lng: lng, Scale: 15, Label: label})
}

// SendImage sends a photo; the simulator makes up its MediaId and PicUrl.
func (s *Sim) SendImage(ctx context.Context, openid string) (string, error) {
	media := "sim_media_" + randomHex(8)
	return s.send(ctx, openid, OutgoingMessage{MsgType: "image", MediaID: media,
		PicURL: "https://mmbiz.qpic.cn/sim/" + media + "/0"})
}

// SendEvent sends an event (subscribe, unsubscribe, CLICK, …) with its key.
func (s *Sim) SendEvent(ctx context.Context, openid, event, key string) (string, error) {
	return s.send(ctx, openid, OutgoingMessage{MsgType: "event", Event: event, EventKey: key})
}

// Click sends a menu click (event CLICK) with key.
func (s *Sim) Click(ctx context.Context, openid, key string) (string, error) {
	return s.SendEvent(ctx, openid, "CLICK", key)
}

// send posts m and turns a non-200 answer into an error.
func (s *Sim) send(ctx context.Context, openid string, m OutgoingMessage) (string, error) {
	res, err := s.Post(ctx, openid, m)
	if err != nil {
		return "", err
	}
	if res.Status != http.StatusOK {
		return "", fmt.Errorf("wechatsim: callback answered %d", res.Status)
	}
	return res.Reply, nil
}

// Post sends m from openid to the callback as WeChat does: signed, and in
// safe mode encrypted with msg_signature. It verifies and decrypts the reply.
// A non-200 answer is not an error here (see Result.Status); a transport
// failure or a reply WeChat would refuse is.
func (s *Sim) Post(ctx context.Context, openid string, m OutgoingMessage) (Result, error) {
	res := Result{CreateTime: m.CreateTime, MsgID: m.MsgID}
	if res.CreateTime == 0 {
		res.CreateTime = s.cfg.Now().Unix()
	}
	if m.MsgType != "event" && res.MsgID == 0 && m.Raw == nil {
		res.MsgID = s.msgID.Add(1)
	}
	body := m.Raw
	if body == nil {
		w := s.wire(openid, m, res.MsgID, res.CreateTime)
		body = marshalWire(&w)
	}
	s.interacted(openid, m)
	s.noteSent(openid, m)

	target := s.CallbackURL()
	if target == "" {
		return res, errors.New("wechatsim: no callback URL")
	}
	u, err := url.Parse(target)
	if err != nil {
		return res, fmt.Errorf("wechatsim: callback URL: %w", err)
	}
	timestamp := strconv.FormatInt(s.cfg.Now().Unix(), 10)
	nonce := randomDigits()
	q := u.Query()
	q.Set("signature", util.Signature(s.cfg.Token, timestamp, nonce))
	q.Set("timestamp", timestamp)
	q.Set("nonce", nonce)
	q.Set("openid", openid)
	if s.cfg.AESKey != "" {
		enc, err := util.EncryptMsg([]byte(randomHex(8)), body, s.cfg.AppID, s.cfg.AESKey)
		if err != nil {
			return res, fmt.Errorf("wechatsim: encrypt: %w", err)
		}
		env, err := xml.Marshal(struct {
			XMLName    xml.Name `xml:"xml"`
			ToUserName cdata
			Encrypt    cdata
		}{ToUserName: cdata{s.cfg.AccountID}, Encrypt: cdata{string(enc)}})
		if err != nil {
			return res, fmt.Errorf("wechatsim: envelope: %w", err)
		}
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", util.Signature(s.cfg.Token, timestamp, nonce, string(enc)))
		body = env
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return res, fmt.Errorf("wechatsim: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		s.noteFailure(openid)
		return res, fmt.Errorf("wechatsim: callback: %w", err)
	}
	defer resp.Body.Close()
	res.Status = resp.StatusCode
	res.Body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		s.noteFailure(openid)
		return res, fmt.Errorf("wechatsim: reading reply: %w", err)
	}
	if res.Status != http.StatusOK {
		s.noteFailure(openid)
		return res, nil
	}
	res.Reply, err = s.decodeReply(openid, res.Body)
	if err != nil {
		s.noteFailure(openid)
		return res, err
	}
	if res.Reply != "" {
		s.mu.Lock()
		s.note(openid, "reply", res.Reply, "")
		s.mu.Unlock()
	}
	return res, nil
}

// Handshake does the GET check WeChat makes when the callback URL is saved.
func (s *Sim) Handshake(ctx context.Context) error {
	u, err := url.Parse(s.CallbackURL())
	if err != nil || u.String() == "" {
		return fmt.Errorf("wechatsim: callback URL %q: %v", s.CallbackURL(), err)
	}
	timestamp := strconv.FormatInt(s.cfg.Now().Unix(), 10)
	nonce := randomDigits()
	echo := randomDigits()
	q := u.Query()
	q.Set("signature", util.Signature(s.cfg.Token, timestamp, nonce))
	q.Set("timestamp", timestamp)
	q.Set("nonce", nonce)
	q.Set("echostr", echo)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("wechatsim: %w", err)
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("wechatsim: handshake: %w", err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK || string(got) != echo {
		return fmt.Errorf("wechatsim: handshake failed: status %d", resp.StatusCode)
	}
	return nil
}

// cdata marshals as a CDATA section (encoding/xml splits any "]]>").
type cdata struct {
	Text string `xml:",cdata"`
}

// wireMessage is a user's message as WeChat posts it.
type wireMessage struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   cdata
	FromUserName cdata
	CreateTime   int64
	MsgType      cdata
	Content      *cdata   `xml:",omitempty"`
	PicURL       *cdata   `xml:"PicUrl,omitempty"`
	MediaID      *cdata   `xml:"MediaId,omitempty"`
	Format       *cdata   `xml:",omitempty"`
	Recognition  *cdata   `xml:",omitempty"`
	LocationX    *float64 `xml:"Location_X,omitempty"`
	LocationY    *float64 `xml:"Location_Y,omitempty"`
	Scale        *int     `xml:",omitempty"`
	Label        *cdata   `xml:",omitempty"`
	Event        *cdata   `xml:",omitempty"`
	EventKey     *cdata   `xml:",omitempty"`
	MsgID        int64    `xml:"MsgId,omitempty"`
}

// wire is m as WeChat posts it.
func (s *Sim) wire(openid string, m OutgoingMessage, msgID, createTime int64) wireMessage {
	opt := func(v string) *cdata {
		if v == "" {
			return nil
		}
		return &cdata{v}
	}
	w := wireMessage{
		ToUserName:   cdata{s.cfg.AccountID},
		FromUserName: cdata{openid},
		CreateTime:   createTime,
		MsgType:      cdata{m.MsgType},
		MsgID:        msgID,
	}
	switch m.MsgType {
	case "text":
		w.Content = &cdata{m.Content}
	case "image":
		w.PicURL, w.MediaID = opt(m.PicURL), opt(m.MediaID)
	case "voice":
		// WeChat withdrew voice recognition (2023): Recognition stays
		// empty; the bot downloads the voice and has it transcribed.
		w.MediaID, w.Format = opt(m.MediaID), opt(m.Format)
	case "location":
		w.LocationX, w.LocationY, w.Scale, w.Label = &m.Lat, &m.Lng, &m.Scale, &cdata{m.Label}
	case "event":
		w.Event, w.EventKey = &cdata{m.Event}, &cdata{m.EventKey}
	}
	return w
}

// decodeReply checks a passive reply as WeChat would and returns its text.
func (s *Sim) decodeReply(openid string, body []byte) (string, error) {
	if t := strings.TrimSpace(string(body)); t == "" || t == "success" {
		return "", nil
	}
	if s.cfg.AESKey != "" {
		var env replyEnvelope
		if err := readEnvelope(body, &env); err != nil {
			return "", err
		}
		if env.Encrypt == "" {
			return "", errors.New("wechatsim: plain reply in safe mode")
		}
		if want := util.Signature(s.cfg.Token, env.TimeStamp, env.Nonce, env.Encrypt); env.MsgSignature != want {
			return "", errors.New("wechatsim: reply MsgSignature does not match")
		}
		_, plain, err := util.DecryptMsg(s.cfg.AppID, env.Encrypt, s.cfg.AESKey)
		if err != nil {
			return "", fmt.Errorf("wechatsim: reply does not decrypt: %w", err)
		}
		body = plain
	}
	var r passiveReply
	if err := readReply(body, &r); err != nil {
		return "", err
	}
	switch {
	case r.ToUserName != openid:
		return "", fmt.Errorf("wechatsim: reply addressed to %q, not the sender", r.ToUserName)
	case r.FromUserName != s.cfg.AccountID:
		return "", fmt.Errorf("wechatsim: reply from %q, not the account", r.FromUserName)
	case r.CreateTime <= 0:
		return "", errors.New("wechatsim: reply without CreateTime")
	case r.MsgType != "text":
		return "", fmt.Errorf("wechatsim: reply type %q not supported", r.MsgType)
	case r.Content == "":
		return "", errors.New("wechatsim: text reply with empty Content")
	}
	return r.Content, nil
}

// replyEnvelope is a safe-mode reply's outer XML.
type replyEnvelope struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      string
	MsgSignature string
	TimeStamp    string
	Nonce        string
}

// readEnvelope reads a safe-mode reply's envelope: by hand when it is flat,
// else with encoding/xml.
func readEnvelope(body []byte, env *replyEnvelope) error {
	if readFields(body, flatField{"Encrypt", &env.Encrypt}, flatField{"MsgSignature", &env.MsgSignature},
		flatField{"TimeStamp", &env.TimeStamp}, flatField{"Nonce", &env.Nonce}) {
		return nil
	}
	*env = replyEnvelope{}
	if err := xml.Unmarshal(body, env); err != nil {
		return fmt.Errorf("wechatsim: reply envelope: %w", err)
	}
	return nil
}

// passiveReply is the bot's text reply.
type passiveReply struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string
	FromUserName string
	CreateTime   int64
	MsgType      string
	Content      string
}

// readReply reads a passive reply: by hand when it is flat, else (or when
// its CreateTime is not a plain number) with encoding/xml.
func readReply(body []byte, r *passiveReply) error {
	var created string
	if readFields(body, flatField{"ToUserName", &r.ToUserName}, flatField{"FromUserName", &r.FromUserName},
		flatField{"CreateTime", &created}, flatField{"MsgType", &r.MsgType}, flatField{"Content", &r.Content}) {
		if created == "" {
			return nil
		}
		// As encoding/xml reads an int64 field.
		if n, err := strconv.ParseInt(strings.TrimSpace(created), 10, 64); err == nil {
			r.CreateTime = n
			return nil
		}
	}
	*r = passiveReply{}
	if err := xml.Unmarshal(body, r); err != nil {
		return fmt.Errorf("wechatsim: reply XML: %w", err)
	}
	return nil
}

// interacted updates the user's customer-service quota (quota.go).
func (s *Sim) interacted(openid string, m OutgoingMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(openid)
	now := s.cfg.Now()
	switch {
	case m.MsgType == "event" && m.Event == "unsubscribe":
		u.unfollowed = true
		clear(u.grants)
		return
	case m.MsgType == "event" && m.Event == "subscribe":
		u.unfollowed = false
	}
	switch {
	case m.Raw != nil:
	case opensMessageWindow(m):
		u.msgAt, u.msgSends = now, 0
	case opensTapWindow(m):
		u.tapAt, u.tapSends = now, 0
	}
}

// user returns openid's record, made on first use. Callers hold s.mu.
func (s *Sim) user(openid string) *user {
	u := s.users[openid]
	if u == nil {
		u = &user{grants: map[string]int{}}
		s.users[openid] = u
	}
	return u
}

// noteSent adds what the user sent to their chat.
func (s *Sim) noteSent(openid string, m OutgoingMessage) {
	var text string
	switch {
	case m.Event == "subscribe_msg_popup_event":
		return // Subscribe notes the choice
	case m.MsgType == "event" && m.Event == "CLICK":
		return // a menu tap shows nothing in WeChat's chat, only the answer
	case m.Raw != nil:
		text = "[原始报文]"
	case m.MsgType == "text":
		text = m.Content
	case m.MsgType == "image":
		text = "[图片]"
	case m.MsgType == "voice":
		text = "[语音] " + m.Transcript
	case m.MsgType == "location":
		text = fmt.Sprintf("[位置] %s (%.5f, %.5f)", m.Label, m.Lat, m.Lng)
	case m.MsgType == "event" && m.Event == "subscribe":
		text = "[关注公众号]"
	case m.MsgType == "event" && m.Event == "unsubscribe":
		text = "[取消关注]"
	default:
		// Other events (a menu link's VIEW, a scan…) show nothing in
		// WeChat's chat either: never their names or keys.
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.note(openid, "sent", text, "")
	if m.MsgType == "image" && m.Raw == nil && m.MediaID != "" {
		c := s.chats[openid]
		c[len(c)-1].Image = mediaPath(m.MediaID)
	}
}

// noteFailure shows what a resident sees when the account does not answer.
func (s *Sim) noteFailure(openid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.note(openid, "error", "该公众号暂时无法提供服务，请稍后再试", "")
}

// randomDigits is a nonce as WeChat makes them.
func randomDigits() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e10))
	return n.String()
}
