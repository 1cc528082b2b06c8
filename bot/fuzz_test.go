package bot_test

import (
	"context"
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

// panicWatch is a slog handler that notices the callback's panic report.
type panicWatch struct{ panicked atomic.Bool }

func (p *panicWatch) Enabled(context.Context, slog.Level) bool { return true }
func (p *panicWatch) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panicked") {
		p.panicked.Store(true)
	}
	return nil
}
func (p *panicWatch) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *panicWatch) WithGroup(string) slog.Handler      { return p }

// FuzzCallback feeds arbitrary signed bodies to the callback: it must answer
// 200, 400 or 413, never panic, and hand the responder only clean text.
func FuzzCallback(f *testing.F) {
	for _, s := range []string{
		textXML("o_res", 1, "路灯坏了"),
		eventXML("o_res", 1714036504, "CLICK", "REPORT"),
		"<xml><FromUserName>o</FromUserName><MsgType>location</MsgType><Location_X>x</Location_X></xml>",
		"<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>a\x01&#0;\xff]]></Content></xml>",
		"<xml><Encrypt>abc</Encrypt></xml>",
		"<!DOCTYPE xml [<!ENTITY a \"aaaa\">]><xml>&a;</xml>",
		"",
	} {
		f.Add([]byte(s))
	}
	watch := &panicWatch{}
	var unclean atomic.Bool
	cb, err := bot.NewCallback(bot.CallbackConfig{Now: func() time.Time { return time.Unix(1, 0) },
		Token: testToken,
		AppID: testAppID,
		Responder: bot.ResponderFunc(func(_ context.Context, m core.Message) (string, error) {
			if strings.ContainsAny(m.Text, "\x00\x01\r\t") || len([]rune(m.Text)) > 2000 {
				unclean.Store(true)
			}
			return m.Text + "]]>", nil
		}),
		Dedupe: &memEphemeral{},
		Log:    slog.New(watch),
	})
	if err != nil {
		f.Fatal(err)
	}
	q := url.Values{"timestamp": {"1"}, "nonce": {"2"}, "signature": {util.Signature(testToken, "1", "2")}}
	target := "/wechat?" + q.Encode()
	f.Fuzz(func(t *testing.T, body []byte) {
		rr := httptest.NewRecorder()
		cb.ServeHTTP(rr, httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(body))))
		if watch.panicked.Load() {
			t.Fatalf("callback panicked on %q", body)
		}
		if unclean.Load() {
			t.Fatalf("unclean text reached the responder from %q", body)
		}
		switch rr.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d on %q", rr.Code, body)
		}
	})
}
