package bot_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"gridbot/bot"
	"gridbot/core"
)

// FuzzSafeModeCallback attacks decryption: arbitrary ciphertext, correctly
// signed so it gets past msg_signature, and arbitrary plaintext sealed with
// the right key (any length field, any AppID, any XML). Every answer is 200,
// 400 or 413 — never a panic — and whatever reaches the responder is clean.
func FuzzSafeModeCallback(f *testing.F) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))[:43]
	f.Add([]byte(textXML("o_res", 1, "路灯坏了")), false)
	f.Add([]byte("AAAA"), true)
	f.Add([]byte("\x00\x00\x00\x00\xff\xff\xff\xff"), true)
	f.Add([]byte(""), false)
	f.Add([]byte("<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>\x01]]></Content></xml>"), false)
	watch := &panicWatch{}
	var unclean atomic.Bool
	cb, err := bot.NewCallback(bot.CallbackConfig{Now: func() time.Time { return time.Unix(1, 0) }, Token: testToken, AppID: testAppID, AESKey: key,
		Responder: bot.ResponderFunc(func(_ context.Context, m core.Message) (string, error) {
			if strings.ContainsAny(m.Text, "\x00\x01\r\t") || len([]rune(m.Text)) > 2000 {
				unclean.Store(true)
			}
			return m.Text, nil
		}),
		Dedupe: &memEphemeral{}, Log: slog.New(watch)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		var enc string
		if raw {
			// The ciphertext itself is the attacker's (base64 of anything).
			enc = base64.StdEncoding.EncodeToString(data)
		} else {
			sealed, err := util.EncryptMsg([]byte("0123456789abcdef"), data, testAppID, key)
			if err != nil {
				return
			}
			enc = string(sealed)
		}
		q := url.Values{"timestamp": {"1"}, "nonce": {"2"}, "signature": {util.Signature(testToken, "1", "2")},
			"encrypt_type": {"aes"}, "msg_signature": {util.Signature(testToken, "1", "2", enc)}}
		body := "<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>"
		rr := httptest.NewRecorder()
		cb.ServeHTTP(rr, httptest.NewRequest(http.MethodPost, "/wechat?"+q.Encode(), strings.NewReader(body)))
		if watch.panicked.Load() {
			t.Fatalf("callback panicked on %q (raw %v)", data, raw)
		}
		if unclean.Load() {
			t.Fatalf("unclean text reached the responder from %q", data)
		}
		switch rr.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d on %q (raw %v)", rr.Code, data, raw)
		}
	})
}

// The same MsgId from two residents is two messages: the second never gets
// the first one's stored answer.
func TestDedupeKeyIncludesSender(t *testing.T) {
	cb, rec := newCallback(t, nil)
	rec.reply = func(m core.Message) (string, error) { return "给" + m.From, nil }
	for _, from := range []string{"o_alice", "o_bob"} {
		got := decodeReply(t, serve(cb, wechatRequest{body: textXML(from, 42, "你好")}.build(t)), "")
		if got.Content != "给"+from {
			t.Fatalf("%s was answered %q", from, got.Content)
		}
	}
	if n := len(rec.calls()); n != 2 {
		t.Fatalf("the responder ran %d times for two residents' messages with one MsgId", n)
	}
}
