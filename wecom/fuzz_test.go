package wecom_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/util"

	"gridbot/store/embedded"
	"gridbot/wecom"
)

// FuzzCallback sends the callback what a member's WeCom could be made to
// sign and encrypt — any inner XML — and raw bodies nobody signed: the
// callback never panics, never answers 5xx, and lets only signed messages
// reach the desk.
func FuzzCallback(f *testing.F) {
	for _, seed := range []string{
		"<xml><FromUserName>zhangwei</FromUserName><MsgType>text</MsgType><Content>受理</Content><MsgId>1</MsgId></xml>",
		"<xml><FromUserName>zhangwei</FromUserName><MsgType>location</MsgType><Location_X>abc</Location_X></xml>",
		"<xml><FromUserName>zhangwei</FromUserName><MsgType>event</MsgType><Event>enter_agent</Event></xml>",
		"<xml><FromUserName></FromUserName></xml>",
		"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><xml><FromUserName>&a;</FromUserName></xml>",
		"<xml><FromUserName>z\x01w</FromUserName><MsgType>text</MsgType><Content>\x00\x1f</Content></xml>",
		strings.Repeat("<a>", 1000),
		"",
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	app, err := wecom.NewApp(wecom.Config{CorpID: corpID, AgentID: "1000002", Secret: secret, Token: token, AESKey: aesKey})
	if err != nil {
		f.Fatal(err)
	}
	desk := &fakeDesk{}
	cb, err := wecom.NewCallback(wecom.CallbackConfig{App: app, Desk: desk, Dedupe: &embedded.MemoryKeys{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, inner string, signed bool) {
		query, body := "msg_signature=00&timestamp=1&nonce=n", inner
		if signed {
			query, body = signedRaw(t, inner)
		}
		before := desk.count()
		w := httptest.NewRecorder()
		cb.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wecom?"+query, strings.NewReader(body)))
		if w.Code >= 500 {
			t.Fatalf("status %d for %q", w.Code, inner)
		}
		if !signed && desk.count() != before {
			t.Fatalf("an unsigned body reached the desk: %q", inner)
		}
	})
}

// signedRaw encrypts and signs inner as WeCom would.
func signedRaw(t *testing.T, inner string) (string, string) {
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(inner), corpID, aesKey)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := signedMessage(t, 1, "")
	ts := q[strings.Index(q, "timestamp=")+len("timestamp=") : strings.Index(q, "&nonce")]
	return "msg_signature=" + util.Signature(token, ts, "nonce", string(enc)) + "&timestamp=" + ts + "&nonce=nonce",
		"<xml><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>"
}
