package bot

import (
	"bytes"
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

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"

	"gridbot/core"
	"gridbot/internal/flatxml"
)

// Responder answers one message. A reply of "" means nothing to say. The ctx
// carries the deadline by which WeChat must have its answer.
type Responder interface {
	Respond(ctx context.Context, m core.Message) (reply string, err error)
}

// Prefetcher is a Responder whose answer starts by reading keys of the
// Dedupe store: the callback reads them in the same batch as its retry
// check (core.BatchKeys), so with a remote store the reads share that round
// trip, and Respond finds them in its ctx (core.ReadAhead).
type Prefetcher interface {
	ReadsFirst(m core.Message) []string
}

// ResponderFunc adapts a function to Responder.
type ResponderFunc func(ctx context.Context, m core.Message) (string, error)

// Respond calls f.
func (f ResponderFunc) Respond(ctx context.Context, m core.Message) (string, error) { return f(ctx, m) }

// BusyReply is what a resident sees when the answer could not be made in time
// or the responder failed. The cause goes to the log, never to the resident.
const BusyReply = "系统繁忙，请稍后再试。"

// Defaults of CallbackConfig.
const (
	DefaultMaxBody      = 64 << 10
	DefaultReplyTimeout = 4 * time.Second
	// DedupeTTL is the least a dedupe mark lives; a mark lives on until
	// its message's timestamp is too old to be accepted (Freshness.MarkTTL),
	// so a replay always meets it.
	DedupeTTL = 2 * time.Minute
)

// CallbackConfig configures a Callback.
type CallbackConfig struct {
	Token  string // the callback Token set in the WeChat admin console
	AppID  string
	AESKey string // EncodingAESKey (43 chars); empty means plain mode
	// PrevAESKey is the key before the last rotation; a message that does not
	// decrypt with AESKey is tried with it.
	PrevAESKey   string
	MaxBody      int64 // bytes; 0 means DefaultMaxBody
	Responder    Responder
	Dedupe       core.Ephemeral // nil disables deduplication (tests only)
	Log          *slog.Logger
	Now          func() time.Time
	ReplyTimeout time.Duration // 0 means DefaultReplyTimeout
	// MaxClockSkew is how far the signed timestamp of a callback may be
	// from Now before it is refused as a replay; 0 means
	// DefaultMaxClockSkew.
	MaxClockSkew time.Duration
	// Observe, when set, is told of every callback: its message type, its
	// outcome (Outcome…) and how long the answer took.
	Observe func(kind, outcome string, took time.Duration)
	// Window is told of every message that opens a customer-service
	// window (the Sender's quota tracking); nil tracks nothing.
	Window *Window
}

// Callback is the http.Handler for WeChat's callback URL (GET handshake and
// POST messages).
type Callback struct {
	cfg     CallbackConfig
	keys    []string // AES keys to try in order; empty in plain mode
	fresh   Freshness
	workers workers // the goroutines responders run on
}

// NewCallback checks cfg and returns the handler.
func NewCallback(cfg CallbackConfig) (*Callback, error) {
	if cfg.Token == "" {
		return nil, errors.New("bot: callback token is empty")
	}
	if cfg.Responder == nil {
		return nil, errors.New("bot: callback has no responder")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.ReplyTimeout <= 0 {
		cfg.ReplyTimeout = DefaultReplyTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	c := &Callback{cfg: cfg, workers: workers{jobs: make(chan func())},
		fresh: Freshness{MaxSkew: cfg.MaxClockSkew, Now: cfg.Now}}
	for _, k := range []string{cfg.AESKey, cfg.PrevAESKey} {
		if k == "" {
			continue
		}
		if err := checkAESKey(k); err != nil {
			return nil, err
		}
		c.keys = append(c.keys, k)
	}
	if cfg.AESKey == "" && cfg.PrevAESKey != "" {
		return nil, errors.New("bot: PrevAESKey set without AESKey")
	}
	if len(c.keys) > 0 && cfg.AppID == "" {
		return nil, errors.New("bot: safe mode needs the AppID")
	}
	return c, nil
}

// checkAESKey validates an EncodingAESKey without echoing it.
func checkAESKey(k string) error {
	if len(k) != 43 {
		return fmt.Errorf("bot: EncodingAESKey must be 43 characters, got %d", len(k))
	}
	key, err := base64.StdEncoding.DecodeString(k + "=")
	if err != nil || len(key) != 32 {
		return errors.New("bot: EncodingAESKey is not valid base64 for 32 bytes")
	}
	return nil
}

// badRequest is an input problem: answered with status, logged with reason.
type badRequest struct {
	status int
	reason string
}

func (e *badRequest) Error() string { return e.reason }

func reject(status int, reason string) error { return &badRequest{status: status, reason: reason} }

// ServeHTTP implements http.Handler.
func (c *Callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			c.cfg.Log.Error("wechat callback panicked", "panic", fmt.Sprint(p))
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	switch r.Method {
	case http.MethodGet:
		c.handshake(w, r)
	case http.MethodPost:
		c.message(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// signed reports whether the query's signature matches Token, timestamp and
// nonce (and, for msg_signature, the ciphertext).
func (c *Callback) signed(got string, parts ...string) bool {
	want := util.Signature(append([]string{c.cfg.Token}, parts...)...)
	return got != "" && subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

func (c *Callback) handshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !c.signed(q.Get("signature"), q.Get("timestamp"), q.Get("nonce")) {
		c.fail(w, reject(http.StatusForbidden, "handshake: bad signature"))
		return
	}
	if _, ok := c.fresh.Check(q.Get("timestamp")); !ok {
		c.fail(w, reject(http.StatusForbidden, "handshake: stale timestamp"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, q.Get("echostr"))
}

// fail answers an input problem and logs it without the request's content.
func (c *Callback) fail(w http.ResponseWriter, err error) {
	var br *badRequest
	if !errors.As(err, &br) {
		br = &badRequest{status: http.StatusInternalServerError, reason: err.Error()}
	}
	c.cfg.Log.Warn("wechat callback rejected", "status", br.status, "reason", br.reason)
	if c.cfg.Observe != nil {
		outcome := OutcomeError
		switch br.status {
		case http.StatusForbidden:
			outcome = OutcomeForbidden
		case http.StatusBadRequest:
			outcome = OutcomeBadRequest
		case http.StatusRequestEntityTooLarge:
			outcome = OutcomeTooLarge
		}
		c.cfg.Observe("unknown", outcome, 0)
	}
	http.Error(w, http.StatusText(br.status), br.status)
}

// envelope is the outer body in safe mode.
type envelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	Encrypt    string   `xml:"Encrypt"`
}

func (c *Callback) message(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	timestamp, nonce := q.Get("timestamp"), q.Get("nonce")
	if !c.signed(q.Get("signature"), timestamp, nonce) {
		c.fail(w, reject(http.StatusForbidden, "bad signature"))
		return
	}
	// The signature says who sent it, not when: a message signed long ago
	// is a replay.
	stamped, fresh := c.fresh.Check(timestamp)
	if !fresh {
		c.fail(w, reject(http.StatusForbidden, "stale timestamp"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.cfg.MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			c.fail(w, reject(http.StatusRequestEntityTooLarge, "body too large"))
			return
		}
		c.fail(w, reject(http.StatusBadRequest, "reading body: "+err.Error()))
		return
	}
	safe := q.Get("encrypt_type") == "aes"
	var key string
	switch {
	case safe && len(c.keys) == 0:
		c.fail(w, reject(http.StatusBadRequest, "encrypted message but no EncodingAESKey configured"))
		return
	case !safe && len(c.keys) > 0:
		// In safe mode a plain body is unsigned: refuse it.
		c.fail(w, reject(http.StatusBadRequest, "plain message in safe mode"))
		return
	case safe:
		body, key, err = c.open(body, timestamp, nonce, q.Get("msg_signature"))
		if err != nil {
			c.fail(w, err)
			return
		}
	}
	var mm message.MixMessage
	err = decodeMessage(cleanXML(body), &mm)
	if err != nil {
		c.fail(w, reject(http.StatusBadRequest, "malformed message XML"))
		return
	}
	if mm.FromUserName == "" {
		c.fail(w, reject(http.StatusBadRequest, "message without FromUserName"))
		return
	}
	m := toMessage(&mm)
	start := c.cfg.Now()
	requestID := requestIDOf(&mm)
	ctx, cancel := context.WithTimeout(core.WithRequestID(r.Context(), requestID), c.cfg.ReplyTimeout)
	defer cancel()
	text, outcome := c.answer(ctx, dedupeKey(&mm), c.fresh.MarkTTL(stamped, DedupeTTL), m)
	took := c.cfg.Now().Sub(start)
	// One line per callback; never the sender or what they wrote.
	c.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "wechat callback", slog.String("request_id", requestID),
		slog.String("type", string(m.Kind)), slog.String("outcome", outcome), slog.Duration("took", took))
	if c.cfg.Observe != nil {
		c.cfg.Observe(string(m.Kind), outcome, took)
	}
	if text == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "success")
		return
	}
	out := replyXML(string(mm.FromUserName), string(mm.ToUserName), c.cfg.Now().Unix(), xmlSafe(text))
	if key != "" {
		sealed, err := c.seal(out, key, nonce)
		if err != nil {
			c.cfg.Log.Error("wechat reply encryption failed", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		out = sealed
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = io.WriteString(w, out)
}

// open checks msg_signature and decrypts the envelope, returning the inner
// XML and the key that opened it (the reply is sealed with the same key).
func (c *Callback) open(body []byte, timestamp, nonce, msgSig string) ([]byte, string, error) {
	var env envelope
	if enc, ok := encryptField(body); ok {
		env.Encrypt = enc
	} else if err := xml.Unmarshal(cleanXML(body), &env); err != nil {
		return nil, "", reject(http.StatusBadRequest, "malformed envelope XML")
	}
	if env.Encrypt == "" {
		return nil, "", reject(http.StatusBadRequest, "envelope without Encrypt")
	}
	if !c.signed(msgSig, timestamp, nonce, env.Encrypt) {
		return nil, "", reject(http.StatusForbidden, "bad msg_signature")
	}
	for i, k := range c.keys {
		if _, plain, err := util.DecryptMsg(c.cfg.AppID, env.Encrypt, k); err == nil {
			if i > 0 {
				c.cfg.Log.Info("wechat message opened with the previous EncodingAESKey")
			}
			return plain, k, nil
		}
	}
	return nil, "", reject(http.StatusBadRequest, "cannot decrypt message (key or AppID mismatch)")
}

// encryptField reads the Encrypt element of a safe-mode envelope the way
// WeChat writes it — <xml><ToUserName><![CDATA[…]]></ToUserName><Encrypt>
// <![CDATA[base64]]></Encrypt></xml>: one Encrypt, no comments, entities or
// declarations, no tag hidden in a CDATA section — without an XML parse,
// which the profile showed costing more than the decryption itself.
// Anything else reports false and goes through encoding/xml as before.
// Either way the value must then match msg_signature.
func encryptField(body []byte) (string, bool) {
	const openTag, closeTag, cdataOpen, cdataClose = "<Encrypt>", "</Encrypt>", "<![CDATA[", "]]>"
	trimmed := bytes.TrimSpace(body)
	if !bytes.HasPrefix(trimmed, []byte("<xml>")) || !bytes.HasSuffix(trimmed, []byte("</xml>")) ||
		bytes.Count(body, []byte(openTag)) != 1 || bytes.Count(body, []byte(closeTag)) != 1 ||
		bytes.IndexByte(body, '&') >= 0 || bytes.Count(body, []byte("<!")) != bytes.Count(body, []byte(cdataOpen)) {
		return "", false
	}
	for rest := body; ; {
		k := bytes.Index(rest, []byte(cdataOpen))
		if k < 0 {
			break
		}
		rest = rest[k+len(cdataOpen):]
		e := bytes.Index(rest, []byte(cdataClose))
		if e < 0 || bytes.Contains(rest[:e], []byte("Encrypt>")) {
			return "", false
		}
		rest = rest[e+len(cdataClose):]
	}
	i := bytes.Index(body, []byte(openTag)) + len(openTag)
	j := bytes.Index(body, []byte(closeTag))
	if j < i {
		return "", false
	}
	v := body[i:j]
	if bytes.HasPrefix(v, []byte(cdataOpen)) && bytes.HasSuffix(v, []byte(cdataClose)) {
		v = v[len(cdataOpen) : len(v)-len(cdataClose)]
	}
	if len(v) == 0 {
		return "", false
	}
	for _, c := range v {
		if !base64Alphabet[c] {
			return "", false
		}
	}
	return string(v), true
}

// base64Alphabet marks the bytes of standard base64 and its padding: a
// table, because the comparisons per byte were 4% of a safe-mode message.
// It is never written after it is built.
var base64Alphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[c] = true
	}
	return t
}()

// seal encrypts a reply and wraps it in the signed envelope WeChat expects.
func (c *Callback) seal(inner, key, nonce string) (string, error) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	enc, err := util.EncryptMsg(random, []byte(inner), c.cfg.AppID, key)
	if err != nil {
		return "", fmt.Errorf("encrypt reply: %w", err)
	}
	ts := strconv.FormatInt(c.cfg.Now().Unix(), 10)
	sig := util.Signature(c.cfg.Token, ts, nonce, string(enc))
	b := make([]byte, 0, len(enc)+len(sig)+len(ts)+len(nonce)+128)
	b = append(b, "<xml><Encrypt>"...)
	b = flatxml.AppendCDATA(b, string(enc))
	b = append(b, "</Encrypt><MsgSignature>"...)
	b = flatxml.AppendCDATA(b, sig)
	b = append(b, "</MsgSignature><TimeStamp>"...)
	b = append(b, ts...)
	b = append(b, "</TimeStamp><Nonce>"...)
	b = flatxml.AppendCDATA(b, nonce)
	b = append(b, "</Nonce></xml>"...)
	return string(b), nil
}

// replyXML is a passive text reply from account to the resident openid.
func replyXML(openid, account string, createTime int64, content string) string {
	b := make([]byte, 0, len(openid)+len(account)+len(content)+200)
	b = append(b, "<xml><ToUserName>"...)
	b = flatxml.AppendCDATA(b, openid)
	b = append(b, "</ToUserName><FromUserName>"...)
	b = flatxml.AppendCDATA(b, account)
	b = append(b, "</FromUserName><CreateTime>"...)
	b = strconv.AppendInt(b, createTime, 10)
	b = append(b, "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>"...)
	b = flatxml.AppendCDATA(b, content)
	b = append(b, "</Content></xml>"...)
	return string(b)
}

// toMessage strips the wire format.
func toMessage(mm *message.MixMessage) core.Message {
	m := core.Message{From: string(mm.FromUserName)}
	switch mm.MsgType {
	case message.MsgTypeText:
		m.Kind = core.MessageText
		m.Text = cleanText(mm.Content, maxTextRunes)
	case message.MsgTypeImage:
		m.Kind = core.MessageImage
		m.MediaID = cleanText(mm.MediaID, 256)
		m.PicURL = cleanText(mm.PicURL, 1024)
	case message.MsgTypeVoice:
		m.Kind = core.MessageVoice
		m.Text = cleanText(mm.Recognition, maxTextRunes)
		m.MediaID = cleanText(mm.MediaID, 256)
	case message.MsgTypeLocation:
		m.Kind = core.MessageLocation
		m.Location = &core.Location{
			Point: core.Point{Lat: mm.LocationX, Lng: mm.LocationY},
			Label: cleanText(mm.Label, 200),
		}
	case message.MsgTypeEvent:
		m.Kind = core.MessageEvent
		m.Event = cleanText(string(mm.Event), 64)
		m.EventKey = cleanText(mm.EventKey, 256)
		m.Grants = popupGrants(mm)
		if m.Event == "LOCATION" {
			lat, errLat := strconv.ParseFloat(strings.TrimSpace(mm.Latitude), 64)
			lng, errLng := strconv.ParseFloat(strings.TrimSpace(mm.Longitude), 64)
			if errLat == nil && errLng == nil {
				m.Location = &core.Location{Point: core.Point{Lat: lat, Lng: lng}}
			}
		}
	default:
		m.Kind = core.MessageOther
	}
	return m
}

// dedupeKey names a message for retry detection: sender and MsgId for
// messages, sender, time and event for events (which have no MsgId). The
// sender is part of the key so that a MsgId seen from someone else (a
// collision, or a forged body with a reused MsgId) can never replay another
// resident's stored answer to them.
func dedupeKey(mm *message.MixMessage) string {
	if mm.MsgType == message.MsgTypeEvent {
		return fmt.Sprintf("wx:evt:%s:%d:%s", mm.FromUserName, mm.CreateTime, mm.Event)
	}
	if mm.MsgID != 0 {
		return "wx:msg:" + string(mm.FromUserName) + ":" + strconv.FormatInt(mm.MsgID, 10)
	}
	return fmt.Sprintf("wx:msg:%s:%d:%s", mm.FromUserName, mm.CreateTime, mm.MsgType)
}

// Dedupe values: a pending mark while the first arrival is being answered,
// then the final reply (possibly empty) behind its own prefix.
const (
	markPending = "p"
	markReply   = "r:"
)

// answer returns the reply text for m, calling the responder at most once per
// dedupe key while the key lives (ttl). The retry check, the window's record
// and what the responder reads first go to the store as one batch.
func (c *Callback) answer(ctx context.Context, key string, ttl time.Duration, m core.Message) (reply, outcome string) {
	d := c.cfg.Dedupe
	ops := make([]core.KeyOp, 0, 3)
	if d != nil {
		ops = append(ops, core.KeyOp{Kind: core.KeySetNX, Key: key, Value: []byte(markPending), TTL: ttl})
		if p, ok := c.cfg.Responder.(Prefetcher); ok {
			for _, k := range p.ReadsFirst(m) {
				ops = append(ops, core.KeyOp{Kind: core.KeyGet, Key: k})
			}
		}
	}
	if op, ok := c.cfg.Window.inbound(m); ok {
		if d != nil && c.cfg.Window.Store == d {
			ops = append(ops, op)
		} else if err := c.cfg.Window.Inbound(ctx, m); err != nil {
			c.cfg.Log.Warn("wechat window not recorded", "err", err)
		}
	}
	if d == nil {
		c.granted(ctx, m)
		return c.respond(ctx, m)
	}
	core.BatchKeys(ctx, d, ops)
	for _, op := range ops[1:] {
		switch {
		case op.Kind == core.KeyGet:
			ctx = core.WithReadAhead(ctx, op)
		case op.Err != nil:
			c.cfg.Log.Warn("wechat window not recorded", "err", op.Err)
		}
	}
	if err := ops[0].Err; err != nil {
		// Without the mark a retry could act twice; better a busy answer.
		c.cfg.Log.Error("wechat dedupe unavailable", "err", err)
		return BusyReply, OutcomeBusy
	}
	if !ops[0].OK {
		return c.replayed(ctx, key), OutcomeDuplicate
	}
	c.granted(ctx, m)
	// The responder's own writes (the session) go out with the stored
	// reply, in one batch, before the answer: a retry then finds the reply.
	ctx, deferred := core.WithKeyWrites(ctx)
	reply, err := c.callResponder(ctx, m)
	writes := deferred.Take()
	if err == nil {
		writes = append(writes, core.KeyOp{Kind: core.KeySet, Key: key, Value: append([]byte(markReply), reply...), TTL: ttl})
		core.BatchKeys(ctx, d, writes)
		for _, op := range writes[:len(writes)-1] {
			if op.Err != nil {
				err = fmt.Errorf("respond: %w", op.Err)
				break
			}
		}
		if err == nil && writes[len(writes)-1].Err != nil {
			// The answer stands; a retry finds the pending mark and
			// answers nothing rather than act twice.
			c.cfg.Log.Error("wechat dedupe store failed", "err", writes[len(writes)-1].Err)
		}
	}
	if err != nil {
		c.cfg.Log.Error("wechat responder failed", "kind", string(m.Kind), "err", err)
		// Let a retry try again. The answer's ctx may be spent already.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if err := d.Delete(dctx, key); err != nil {
			c.cfg.Log.Error("wechat dedupe delete failed", "err", err)
		}
		return BusyReply, OutcomeBusy
	}
	return reply, answered(reply)
}

// Outcomes of a callback, for the log and the metrics.
const (
	OutcomeReplied    = "replied"   // a passive reply
	OutcomeSilent     = "silent"    // nothing to say: "success"
	OutcomeDuplicate  = "duplicate" // a retry of a message already handled
	OutcomeBusy       = "busy"      // the store or the dialog failed: the busy text
	OutcomeForbidden  = "forbidden" // bad signature
	OutcomeBadRequest = "bad_request"
	OutcomeTooLarge   = "too_large"
	OutcomeError      = "error"
)

func answered(reply string) string {
	if reply == "" {
		return OutcomeSilent
	}
	return OutcomeReplied
}

// requestIDOf names a callback in the log: by its MsgId, or for an event by
// its time (never by the sender).
func requestIDOf(mm *message.MixMessage) string {
	if mm.MsgID != 0 {
		return "wx-" + strconv.FormatInt(mm.MsgID, 10)
	}
	return "wx-evt-" + strconv.FormatInt(mm.CreateTime, 10)
}

// replayed answers a retry: the stored reply once the first arrival has one.
// While the first is still running it waits (within the deadline) for its
// reply, then gives up with "nothing to say".
func (c *Callback) replayed(ctx context.Context, key string) string {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		v, ok, err := c.cfg.Dedupe.Get(ctx, key)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				c.cfg.Log.Error("wechat dedupe read failed", "err", err)
			}
			return ""
		case !ok:
			// The first arrival failed and cleared its mark; the resident
			// has been told we are busy, so has this retry nothing to add.
			return ""
		case strings.HasPrefix(string(v), markReply):
			return strings.TrimPrefix(string(v), markReply)
		}
		select {
		case <-ctx.Done():
			return ""
		case <-tick.C:
		}
	}
}

// respond is the path without deduplication.
func (c *Callback) respond(ctx context.Context, m core.Message) (string, string) {
	reply, err := c.callResponder(ctx, m)
	if err != nil {
		c.cfg.Log.Error("wechat responder failed", "kind", string(m.Kind), "err", err)
		return BusyReply, OutcomeBusy
	}
	return reply, answered(reply)
}

// callResponder runs the responder so that the answer is ready by ctx's
// deadline even if the responder ignores ctx, and so that its panic is an
// error rather than a crash.
func (c *Callback) callResponder(ctx context.Context, m core.Message) (string, error) {
	type result struct {
		reply string
		err   error
	}
	done := make(chan result, 1)
	c.workers.run(func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("responder panicked: %v", p)}
			}
		}()
		reply, err := c.cfg.Responder.Respond(ctx, m)
		done <- result{reply: reply, err: err}
	})
	select {
	case res := <-done:
		if res.err != nil {
			return "", fmt.Errorf("respond: %w", res.err)
		}
		return res.reply, nil
	case <-ctx.Done():
		return "", fmt.Errorf("respond: %w", ctx.Err())
	}
}
