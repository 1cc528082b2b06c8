package bot_test

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"gridbot/bot"
	"gridbot/core"
	"gridbot/store/embedded"
)

// memEphemeral is the in-memory core.Ephemeral the tests share; its zero
// value is ready.
type memEphemeral = embedded.MemoryKeys

// recorder is a Responder that records what it was asked.
type recorder struct {
	mu    sync.Mutex
	got   []core.Message
	reply func(core.Message) (string, error)
}

func (r *recorder) Respond(_ context.Context, m core.Message) (string, error) {
	r.mu.Lock()
	r.got = append(r.got, m)
	r.mu.Unlock()
	if r.reply == nil {
		return "收到：" + m.Text, nil
	}
	return r.reply(m)
}

func (r *recorder) calls() []core.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]core.Message(nil), r.got...)
}

const (
	testToken   = "gridbottoken"
	testAppID   = "wx1234567890abcdef"
	testAccount = "gh_gridbot"
	keyCurrent  = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	keyPrevious = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
	keyUnknown  = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
)

var fixedNow = time.Date(2025, 5, 1, 9, 30, 0, 0, time.UTC)

func newCallback(t testing.TB, mutate func(*bot.CallbackConfig)) (*bot.Callback, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg := bot.CallbackConfig{
		Token:     testToken,
		AppID:     testAppID,
		Responder: rec,
		Dedupe:    &memEphemeral{},
		Log:       slog.New(slog.DiscardHandler),
		Now:       func() time.Time { return fixedNow },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	cb, err := bot.NewCallback(cfg)
	if err != nil {
		t.Fatalf("NewCallback: %v", err)
	}
	return cb, rec
}

// wechatRequest is a callback POST as WeChat builds it.
type wechatRequest struct {
	body      string // inner XML
	aesKey    string // "" = plain
	appID     string // for encryption; "" = testAppID
	badSig    bool
	badMsgSig bool
	noSig     bool
	timestamp string
	nonce     string
}

func (w wechatRequest) build(t testing.TB) *http.Request {
	t.Helper()
	ts, nonce := w.timestamp, w.nonce
	if ts == "" {
		ts = strconv.FormatInt(fixedNow.Unix(), 10)
	}
	if nonce == "" {
		nonce = "1514711492"
	}
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "openid": {"o_resident"}}
	sig := util.Signature(testToken, ts, nonce)
	if w.badSig {
		sig = util.Signature("wrong", ts, nonce)
	}
	if !w.noSig {
		q.Set("signature", sig)
	}
	body := w.body
	if w.aesKey != "" {
		appID := w.appID
		if appID == "" {
			appID = testAppID
		}
		random := make([]byte, 16)
		_, _ = rand.Read(random)
		enc, err := util.EncryptMsg(random, []byte(w.body), appID, w.aesKey)
		if err != nil {
			t.Fatalf("encrypt: %v", err)
		}
		msgSig := util.Signature(testToken, ts, nonce, string(enc))
		if w.badMsgSig {
			msgSig = util.Signature(testToken, ts, nonce, "other")
		}
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", msgSig)
		body = fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>", testAccount, enc)
	}
	return httptest.NewRequest(http.MethodPost, "/wechat?"+q.Encode(), strings.NewReader(body))
}

func textXML(from string, msgID int64, content string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>1714036504</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId></xml>`,
		testAccount, from, content, msgID)
}

func eventXML(from string, createTime int64, event, key string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[%s]]></Event><EventKey><![CDATA[%s]]></EventKey></xml>`,
		testAccount, from, createTime, event, key)
}

// passiveReply is a decoded text reply.
type passiveReply struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	Content      string   `xml:"Content"`
}

type sealedReply struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      string   `xml:"Encrypt"`
	MsgSignature string   `xml:"MsgSignature"`
	TimeStamp    string   `xml:"TimeStamp"`
	Nonce        string   `xml:"Nonce"`
}

// serve runs req and returns the recorder.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	return rr
}

// decodeReply reads a passive reply, opening it with aesKey in safe mode
// and checking its signature. "success" decodes to the zero reply.
func decodeReply(t testing.TB, rr *httptest.ResponseRecorder, aesKey string) passiveReply {
	t.Helper()
	if rr.Code != http.StatusOK {
		t.Fatalf("status %d, body %q", rr.Code, rr.Body.String())
	}
	body := rr.Body.Bytes()
	if string(body) == "success" {
		return passiveReply{}
	}
	if aesKey != "" {
		var s sealedReply
		if err := xml.Unmarshal(body, &s); err != nil {
			t.Fatalf("sealed reply: %v in %q", err, body)
		}
		if want := util.Signature(testToken, s.TimeStamp, s.Nonce, s.Encrypt); s.MsgSignature != want {
			t.Fatalf("reply MsgSignature %q, want %q", s.MsgSignature, want)
		}
		_, plain, err := util.DecryptMsg(testAppID, s.Encrypt, aesKey)
		if err != nil {
			t.Fatalf("decrypt reply: %v", err)
		}
		body = plain
	}
	var p passiveReply
	if err := xml.Unmarshal(body, &p); err != nil {
		t.Fatalf("reply: %v in %q", err, body)
	}
	if p.MsgType != "text" || p.FromUserName != testAccount || p.Content == "" {
		t.Fatalf("reply not a text reply from the account: %+v", p)
	}
	return p
}

// batchingEphemeral is a core.KeyBatcher in memory, as the Valkey store is
// one over the network; it remembers the kinds of each batch it ran.
type batchingEphemeral struct {
	*memEphemeral
	mu      sync.Mutex
	batches [][]core.KeyOpKind
}

func (b *batchingEphemeral) Batch(ctx context.Context, ops []core.KeyOp) {
	kinds := make([]core.KeyOpKind, len(ops))
	for i, op := range ops {
		kinds[i] = op.Kind
	}
	b.mu.Lock()
	b.batches = append(b.batches, kinds)
	b.mu.Unlock()
	core.BatchKeys(ctx, b.memEphemeral, ops)
}

func (b *batchingEphemeral) ran() [][]core.KeyOpKind {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.batches)
}
