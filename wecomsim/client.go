package wecomsim

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/silenceper/wechat/v2/util"
)

// Message is what a member sends the app, or a raw body for tests of bad
// input.
type Message struct {
	MsgType  string // text, image, location, event
	Content  string
	PicURL   string
	MediaID  string
	Lat, Lng float64
	Label    string
	Event    string
	EventKey string
	// MsgID is the MsgId; 0 means the next. Set it (and CreateTime) to
	// send a retry.
	MsgID      int64
	CreateTime int64
	// AgentID is the app the message is for; 0 means the configured one.
	AgentID int
}

// Result is the app's answer to one callback.
type Result struct {
	Status int
	Reply  string // the passive text reply; "" for an empty body
	MsgID  int64
	// CreateTime is the CreateTime sent, to send the same message again.
	CreateTime int64
}

// SendText sends text from userid and returns the app's reply.
func (s *Sim) SendText(ctx context.Context, userid, text string) (string, error) {
	res, err := s.Post(ctx, userid, Message{MsgType: "text", Content: text})
	if err != nil {
		return "", err
	}
	if res.Status != http.StatusOK {
		return "", fmt.Errorf("wecomsim: callback answered %d", res.Status)
	}
	return res.Reply, nil
}

// Post sends m from userid to the app's callback, signed and encrypted as
// WeCom does, and reads the reply; the chat records both.
func (s *Sim) Post(ctx context.Context, userid string, m Message) (Result, error) {
	s.mu.Lock()
	if m.MsgID == 0 && m.MsgType != "event" {
		s.msgID++
		m.MsgID = s.msgID
	}
	if m.CreateTime == 0 {
		m.CreateTime = s.cfg.Now().Unix()
	}
	if m.AgentID == 0 {
		m.AgentID = s.cfg.AgentID
	}
	target := s.callbackURL
	s.mu.Unlock()
	inner := s.innerXML(userid, m)
	res, err := s.PostRaw(ctx, target, []byte(inner), "")
	res.MsgID, res.CreateTime = m.MsgID, m.CreateTime
	if err != nil {
		return res, err
	}
	s.mu.Lock()
	sent := m.Content
	switch m.MsgType {
	case "image":
		sent = "[图片]"
	case "location":
		sent = "[位置] " + m.Label
	case "event":
		sent = ""
	}
	if sent != "" {
		s.note(userid, Entry{Kind: "sent", Text: sent})
	}
	switch {
	case res.Status != http.StatusOK:
		s.note(userid, Entry{Kind: "error", Text: "应用暂时无法提供服务（" + strconv.Itoa(res.Status) + "）"})
	case res.Reply != "":
		s.note(userid, Entry{Kind: "reply", Text: res.Reply})
	}
	s.mu.Unlock()
	return res, nil
}

// PostRaw sends inner (a message's XML) encrypted and signed to target;
// a non-empty badSig replaces the signature, for tests of bad input.
func (s *Sim) PostRaw(ctx context.Context, target string, inner []byte, badSig string) (Result, error) {
	enc, err := util.EncryptMsg([]byte(randomHex(8)), inner, s.cfg.CorpID, s.cfg.AESKey)
	if err != nil {
		return Result{}, fmt.Errorf("wecomsim: encrypt: %w", err)
	}
	ts := strconv.FormatInt(s.cfg.Now().Unix(), 10)
	nonce := randomHex(5)
	sig := util.Signature(s.cfg.Token, ts, nonce, string(enc))
	if badSig != "" {
		sig = badSig
	}
	body := "<xml><ToUserName><![CDATA[" + s.cfg.CorpID + "]]></ToUserName><AgentID><![CDATA[" + strconv.Itoa(s.cfg.AgentID) +
		"]]></AgentID><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>"
	q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target+"?"+q.Encode(), strings.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("wecomsim: callback: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Result{}, err
	}
	res := Result{Status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK || len(bytes.TrimSpace(raw)) == 0 {
		return res, nil
	}
	res.Reply, err = s.openReply(raw)
	return res, err
}

// openReply checks the reply's signature and decrypts it.
func (s *Sim) openReply(raw []byte) (string, error) {
	var env struct {
		Encrypt      string `xml:"Encrypt"`
		MsgSignature string `xml:"MsgSignature"`
		TimeStamp    string `xml:"TimeStamp"`
		Nonce        string `xml:"Nonce"`
	}
	if err := xml.Unmarshal(raw, &env); err != nil {
		return "", fmt.Errorf("wecomsim: reply envelope: %w", err)
	}
	if util.Signature(s.cfg.Token, env.TimeStamp, env.Nonce, env.Encrypt) != env.MsgSignature {
		return "", errors.New("wecomsim: reply signature does not match")
	}
	_, plain, err := util.DecryptMsg(s.cfg.CorpID, env.Encrypt, s.cfg.AESKey)
	if err != nil {
		return "", fmt.Errorf("wecomsim: reply: %w", err)
	}
	var msg struct {
		MsgType string `xml:"MsgType"`
		Content string `xml:"Content"`
	}
	if err := xml.Unmarshal(plain, &msg); err != nil || msg.MsgType != "text" {
		return "", errors.New("wecomsim: reply is not a text message")
	}
	return msg.Content, nil
}

// innerXML writes m as WeCom writes a member's message.
func (s *Sim) innerXML(userid string, m Message) string {
	var b strings.Builder
	field := func(name, v string) {
		b.WriteString("<" + name + "><![CDATA[" + strings.ReplaceAll(v, "]]>", "]]]]><![CDATA[>") + "]]></" + name + ">")
	}
	b.WriteString("<xml>")
	field("ToUserName", s.cfg.CorpID)
	field("FromUserName", userid)
	b.WriteString("<CreateTime>" + strconv.FormatInt(m.CreateTime, 10) + "</CreateTime>")
	field("MsgType", m.MsgType)
	switch m.MsgType {
	case "text":
		field("Content", m.Content)
	case "image":
		field("PicUrl", m.PicURL)
		field("MediaId", m.MediaID)
	case "location":
		b.WriteString("<Location_X>" + strconv.FormatFloat(m.Lat, 'f', -1, 64) + "</Location_X><Location_Y>" +
			strconv.FormatFloat(m.Lng, 'f', -1, 64) + "</Location_Y><Scale>15</Scale>")
		field("Label", m.Label)
	case "event":
		field("Event", m.Event)
		field("EventKey", m.EventKey)
	}
	if m.MsgID != 0 {
		b.WriteString("<MsgId>" + strconv.FormatInt(m.MsgID, 10) + "</MsgId>")
	}
	b.WriteString("<AgentID>" + strconv.Itoa(m.AgentID) + "</AgentID></xml>")
	return b.String()
}
