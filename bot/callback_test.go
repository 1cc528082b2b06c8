package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"gridbot/bot"
	"gridbot/core"
)

func TestHandshake(t *testing.T) {
	// The documented example: Token AAAAA.
	cb, _ := newCallback(t, func(c *bot.CallbackConfig) {
		c.Token = "AAAAA"
		c.Now = func() time.Time { return time.Unix(1714036504, 0) }
	})
	const docSig = "f464b24fc39322e44b38aa78f5edd27bd1441696"
	if got := util.Signature("AAAAA", "1714036504", "1514711492"); got != docSig {
		t.Fatalf("signature of the documented example = %s", got)
	}
	tests := []struct {
		name, query string
		status      int
		body        string
	}{
		{"documented example", "signature=" + docSig + "&timestamp=1714036504&nonce=1514711492&echostr=8245472291540148201", 200, "8245472291540148201"},
		{"wrong signature", "signature=f464b24fc39322e44b38aa78f5edd27bd1441697&timestamp=1714036504&nonce=1514711492&echostr=x", 403, ""},
		{"other nonce", "signature=" + docSig + "&timestamp=1714036504&nonce=1&echostr=x", 403, ""},
		{"no signature", "timestamp=1714036504&nonce=1514711492&echostr=x", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := serve(cb, httptest.NewRequest(http.MethodGet, "/wechat?"+tt.query, nil))
			if rr.Code != tt.status {
				t.Fatalf("status %d, want %d", rr.Code, tt.status)
			}
			if tt.status == 200 && rr.Body.String() != tt.body {
				t.Fatalf("body %q, want %q", rr.Body.String(), tt.body)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	cb, rec := newCallback(t, nil)
	for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
		rr := serve(cb, httptest.NewRequest(m, "/wechat", strings.NewReader("<xml/>")))
		if rr.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d", m, rr.Code)
		}
	}
	if n := len(rec.calls()); n != 0 {
		t.Fatalf("responder called %d times", n)
	}
}

func TestMessageKinds(t *testing.T) {
	head := `<ToUserName><![CDATA[gh_gridbot]]></ToUserName><FromUserName><![CDATA[o_res]]></FromUserName><CreateTime>1714036504</CreateTime>`
	tests := []struct {
		name string
		body string
		want core.Message
	}{
		{"text", `<xml>` + head + `<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[  路灯坏了
第二行	好 ]]></Content><MsgId>1</MsgId></xml>`,
			core.Message{From: "o_res", Kind: core.MessageText, Text: "路灯坏了\n第二行 好"}},
		{"text with CRLF", `<xml>` + head + `<MsgType>text</MsgType><Content>a&#13;
b</Content><MsgId>2</MsgId></xml>`,
			core.Message{From: "o_res", Kind: core.MessageText, Text: "a\nb"}},
		{"image", `<xml>` + head + `<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl><MediaId><![CDATA[media1]]></MediaId><MsgId>3</MsgId></xml>`,
			core.Message{From: "o_res", Kind: core.MessageImage, MediaID: "media1", PicURL: "http://mmbiz.qpic.cn/x"}},
		{"voice", `<xml>` + head + `<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[v1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[门口有垃圾]]></Recognition><MsgId>4</MsgId></xml>`,
			core.Message{From: "o_res", Kind: core.MessageVoice, Text: "门口有垃圾", MediaID: "v1"}},
		{"location", `<xml>` + head + `<MsgType><![CDATA[location]]></MsgType><Location_X>22.351</Location_X><Location_Y>112.562</Location_Y><Scale>15</Scale><Label><![CDATA[某村村委会]]></Label><MsgId>5</MsgId></xml>`,
			core.Message{From: "o_res", Kind: core.MessageLocation, Location: &core.Location{Point: core.Point{Lat: 22.351, Lng: 112.562}, Label: "某村村委会"}}},
		{"click", `<xml>` + head + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[REPORT]]></EventKey></xml>`,
			core.Message{From: "o_res", Kind: core.MessageEvent, Event: core.EventNameClick, EventKey: "REPORT"}},
		{"subscribe by QR", `<xml>` + head + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_grid7]]></EventKey><Ticket><![CDATA[t]]></Ticket></xml>`,
			core.Message{From: "o_res", Kind: core.MessageEvent, Event: core.EventNameSubscribe, EventKey: "qrscene_grid7"}},
		{"location event", `<xml>` + head + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event><Latitude>22.3</Latitude><Longitude>112.5</Longitude><Precision>30</Precision></xml>`,
			core.Message{From: "o_res", Kind: core.MessageEvent, Event: "LOCATION", Location: &core.Location{Point: core.Point{Lat: 22.3, Lng: 112.5}}}},
		{"video is other", `<xml>` + head + `<MsgType><![CDATA[video]]></MsgType><MediaId><![CDATA[m]]></MediaId><ThumbMediaId><![CDATA[t]]></ThumbMediaId><MsgId>6</MsgId></xml>`,
			core.Message{From: "o_res", Kind: core.MessageOther}},
		{"unknown type is other", `<xml>` + head + `<MsgType><![CDATA[hologram]]></MsgType><MsgId>7</MsgId></xml>`,
			core.Message{From: "o_res", Kind: core.MessageOther}},
		{"control characters", `<xml>` + head + "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[水管\x01爆了\x1b\x7f]]></Content><MsgId>8</MsgId></xml>",
			core.Message{From: "o_res", Kind: core.MessageText, Text: "水管爆了"}},
		{"control character reference", `<xml>` + head + "<MsgType>text</MsgType><Content>水管&#1;&#x0;爆了</Content><MsgId>9</MsgId></xml>",
			core.Message{From: "o_res", Kind: core.MessageText, Text: "水管爆了"}},
		{"invalid UTF-8", `<xml>` + head + "<MsgType>text</MsgType><Content>水管\xff\xfe爆了</Content><MsgId>10</MsgId></xml>",
			core.Message{From: "o_res", Kind: core.MessageText, Text: "水管爆了"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb, rec := newCallback(t, nil)
			rr := serve(cb, wechatRequest{body: tt.body}.build(t))
			p := decodeReply(t, rr, "")
			calls := rec.calls()
			if len(calls) != 1 {
				t.Fatalf("responder called %d times", len(calls))
			}
			if !reflect.DeepEqual(calls[0], tt.want) {
				t.Fatalf("message\n got %+v\nwant %+v", calls[0], tt.want)
			}
			if p.ToUserName != "o_res" || p.CreateTime != fixedNow.Unix() {
				t.Fatalf("reply %+v", p)
			}
		})
	}
}

func TestLongTextIsCapped(t *testing.T) {
	cb, rec := newCallback(t, nil)
	rr := serve(cb, wechatRequest{body: textXML("o_res", 1, strings.Repeat("路", 5000))}.build(t))
	decodeReply(t, rr, "")
	if n := len([]rune(rec.calls()[0].Text)); n != 2000 {
		t.Fatalf("text has %d runes, want 2000", n)
	}
}

func TestReplyContent(t *testing.T) {
	tests := []struct {
		name, reply string
	}{
		{"plain", "您好，已收到。"},
		{"CDATA end inside", "a]]>b]]>c"},
		{"markup", "<b>&amp;</b>"},
		{"multi-line", "第一行\n第二行"},
	}
	for _, mode := range []string{"", keyCurrent} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/aes=%v", tt.name, mode != ""), func(t *testing.T) {
				cb, _ := newCallback(t, func(c *bot.CallbackConfig) {
					c.AESKey = mode
					c.Responder = bot.ResponderFunc(func(context.Context, core.Message) (string, error) { return tt.reply, nil })
				})
				p := decodeReply(t, serve(cb, wechatRequest{body: textXML("o_res", 1, "hi"), aesKey: mode}.build(t)), mode)
				if p.Content != tt.reply {
					t.Fatalf("content %q, want %q", p.Content, tt.reply)
				}
			})
		}
	}
}

func TestNothingToSay(t *testing.T) {
	for _, key := range []string{"", keyCurrent} {
		cb, rec := newCallback(t, func(c *bot.CallbackConfig) { c.AESKey = key })
		rec.reply = func(core.Message) (string, error) { return "", nil }
		rr := serve(cb, wechatRequest{body: textXML("o_res", 1, "hi"), aesKey: key}.build(t))
		if rr.Code != 200 || rr.Body.String() != "success" {
			t.Fatalf("aes=%v: %d %q, want 200 success", key != "", rr.Code, rr.Body.String())
		}
	}
}

func TestSafeModeKeyRotation(t *testing.T) {
	cb, rec := newCallback(t, func(c *bot.CallbackConfig) {
		c.AESKey = keyCurrent
		c.PrevAESKey = keyPrevious
	})
	tests := []struct {
		name   string
		key    string
		status int
	}{
		{"current key", keyCurrent, 200},
		{"previous key", keyPrevious, 200},
		{"unknown key", keyUnknown, 400},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.calls())
			rr := serve(cb, wechatRequest{body: textXML("o_res", int64(100+i), "漏水"), aesKey: tt.key}.build(t))
			if rr.Code != tt.status {
				t.Fatalf("status %d, want %d", rr.Code, tt.status)
			}
			if tt.status != 200 {
				if len(rec.calls()) != before {
					t.Fatal("responder called for a message that did not decrypt")
				}
				return
			}
			// The reply is sealed with the key the message came with.
			if p := decodeReply(t, rr, tt.key); p.Content != "收到：漏水" {
				t.Fatalf("content %q", p.Content)
			}
		})
	}
}

func TestBadInputHasNoEffect(t *testing.T) {
	good := textXML("o_res", 1, "hi")
	tests := []struct {
		name   string
		aes    string // configured key
		req    func(t testing.TB) *http.Request
		status int
	}{
		{"wrong signature", "", wechatRequest{body: good, badSig: true}.build, 403},
		{"missing signature", "", wechatRequest{body: good, noSig: true}.build, 403},
		{"wrong signature safe", keyCurrent, wechatRequest{body: good, aesKey: keyCurrent, badSig: true}.build, 403},
		{"wrong msg_signature", keyCurrent, wechatRequest{body: good, aesKey: keyCurrent, badMsgSig: true}.build, 403},
		{"wrong AppID in ciphertext", keyCurrent, wechatRequest{body: good, aesKey: keyCurrent, appID: "wxother"}.build, 400},
		{"plain body in safe mode", keyCurrent, wechatRequest{body: good}.build, 400},
		{"encrypted body in plain mode", "", wechatRequest{body: good, aesKey: keyCurrent}.build, 400},
		{"malformed XML", "", wechatRequest{body: "<xml><Content>unclosed"}.build, 400},
		{"not XML", "", wechatRequest{body: "hello"}.build, 400},
		{"wrong root", "", wechatRequest{body: "<msg><FromUserName>o</FromUserName></msg>"}.build, 400},
		{"empty body", "", wechatRequest{body: ""}.build, 400},
		{"no sender", "", wechatRequest{body: "<xml><MsgType>text</MsgType><Content>x</Content></xml>"}.build, 400},
		{"malformed inner XML", keyCurrent, wechatRequest{body: "<xml><Content>", aesKey: keyCurrent}.build, 400},
		{"huge body", "", wechatRequest{body: textXML("o_res", 1, strings.Repeat("x", 70<<10))}.build, 413},
		{"envelope without Encrypt", keyCurrent, func(t testing.TB) *http.Request {
			r := wechatRequest{body: good}.build(t)
			q := r.URL.Query()
			q.Set("encrypt_type", "aes")
			q.Set("msg_signature", util.Signature(testToken, q.Get("timestamp"), q.Get("nonce"), ""))
			r.URL.RawQuery = q.Encode()
			return r
		}, 400},
		{"ciphertext not base64", keyCurrent, func(t testing.TB) *http.Request {
			enc := "!!!notbase64"
			ts := strconv.FormatInt(fixedNow.Unix(), 10)
			q := url.Values{"timestamp": {ts}, "nonce": {"2"}, "encrypt_type": {"aes"},
				"signature":     {util.Signature(testToken, ts, "2")},
				"msg_signature": {util.Signature(testToken, ts, "2", enc)}}
			return httptest.NewRequest(http.MethodPost, "/wechat?"+q.Encode(),
				strings.NewReader("<xml><Encrypt>"+enc+"</Encrypt></xml>"))
		}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb, rec := newCallback(t, func(c *bot.CallbackConfig) { c.AESKey = tt.aes })
			rr := serve(cb, tt.req(t))
			if rr.Code != tt.status {
				t.Fatalf("status %d, want %d (body %q)", rr.Code, tt.status, rr.Body.String())
			}
			if n := len(rec.calls()); n != 0 {
				t.Fatalf("responder called %d times", n)
			}
		})
	}
}

func TestRetriesAnsweredOnce(t *testing.T) {
	tests := []struct {
		name  string
		first string
		retry string
		other string // a different message: must be answered anew
	}{
		{"same MsgId", textXML("o_res", 42, "路灯坏了"), textXML("o_res", 42, "路灯坏了"), textXML("o_res", 43, "路灯坏了")},
		{"same event", eventXML("o_res", 1714036504, "CLICK", "REPORT"), eventXML("o_res", 1714036504, "CLICK", "REPORT"), eventXML("o_res", 1714036505, "CLICK", "REPORT")},
	}
	for _, key := range []string{"", keyCurrent} {
		for _, tt := range tests {
			for _, batched := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/aes=%v/batched=%v", tt.name, key != "", batched), func(t *testing.T) {
					cb, rec := newCallback(t, func(c *bot.CallbackConfig) {
						c.AESKey, c.Window = key, &bot.Window{Store: &memEphemeral{}}
						if batched {
							c.Dedupe = &batchingEphemeral{memEphemeral: &memEphemeral{}}
						}
					})
					n := 0
					rec.reply = func(core.Message) (string, error) { n++; return fmt.Sprintf("第%d次回答", n), nil }
					a := decodeReply(t, serve(cb, wechatRequest{body: tt.first, aesKey: key}.build(t)), key)
					b := decodeReply(t, serve(cb, wechatRequest{body: tt.retry, aesKey: key, nonce: "999"}.build(t)), key)
					if a.Content != "第1次回答" || b.Content != a.Content {
						t.Fatalf("answers %q then %q", a.Content, b.Content)
					}
					c := decodeReply(t, serve(cb, wechatRequest{body: tt.other, aesKey: key}.build(t)), key)
					if c.Content != "第2次回答" || len(rec.calls()) != 2 {
						t.Fatalf("other message answered %q after %d calls", c.Content, len(rec.calls()))
					}
				})
			}
		}
	}
}

func TestRetryWhileFirstIsRunning(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	cb, rec := newCallback(t, nil)
	rec.reply = func(core.Message) (string, error) {
		close(started)
		<-release
		return "处理好了", nil
	}
	var wg sync.WaitGroup
	var first, second *httptest.ResponseRecorder
	wg.Go(func() { first = serve(cb, wechatRequest{body: textXML("o_res", 7, "x")}.build(t)) })
	<-started
	wg.Go(func() { second = serve(cb, wechatRequest{body: textXML("o_res", 7, "x")}.build(t)) })
	time.Sleep(100 * time.Millisecond) // let the retry find the pending mark
	close(release)
	wg.Wait()
	if a, b := decodeReply(t, first, ""), decodeReply(t, second, ""); a.Content != "处理好了" || b.Content != a.Content {
		t.Fatalf("answers %q and %q", a.Content, b.Content)
	}
	if n := len(rec.calls()); n != 1 {
		t.Fatalf("responder called %d times", n)
	}
}

func TestRetryFindsPendingUntilDeadline(t *testing.T) {
	store := &memEphemeral{}
	_ = store.Set(context.Background(), "wx:msg:o_res:7", []byte("p"), time.Minute)
	cb, rec := newCallback(t, func(c *bot.CallbackConfig) {
		c.Dedupe = store
		c.ReplyTimeout = 150 * time.Millisecond
	})
	rr := serve(cb, wechatRequest{body: textXML("o_res", 7, "x")}.build(t))
	if rr.Code != 200 || rr.Body.String() != "success" {
		t.Fatalf("%d %q, want success", rr.Code, rr.Body.String())
	}
	if n := len(rec.calls()); n != 0 {
		t.Fatalf("responder called %d times", n)
	}
}

func TestResponderFailure(t *testing.T) {
	tests := []struct {
		name    string
		respond bot.ResponderFunc
	}{
		{"error", func(context.Context, core.Message) (string, error) {
			return "", errors.New("store down: secret detail")
		}},
		{"ignores deadline", func(context.Context, core.Message) (string, error) {
			time.Sleep(time.Second)
			return "太迟了", nil
		}},
		{"honours deadline", func(ctx context.Context, _ core.Message) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		}},
		{"panics", func(context.Context, core.Message) (string, error) { panic("boom") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			var mu sync.Mutex
			cb, _ := newCallback(t, func(c *bot.CallbackConfig) {
				c.ReplyTimeout = 100 * time.Millisecond
				c.Responder = bot.ResponderFunc(func(ctx context.Context, m core.Message) (string, error) {
					mu.Lock()
					calls++
					mu.Unlock()
					return tt.respond(ctx, m)
				})
			})
			start := time.Now()
			p := decodeReply(t, serve(cb, wechatRequest{body: textXML("o_res", 5, "x")}.build(t)), "")
			if p.Content != bot.BusyReply {
				t.Fatalf("content %q, want the busy text", p.Content)
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Fatalf("answered after %v", d)
			}
			// The mark is gone, so WeChat's retry may try again.
			serve(cb, wechatRequest{body: textXML("o_res", 5, "x")}.build(t))
			mu.Lock()
			defer mu.Unlock()
			if calls != 2 {
				t.Fatalf("responder called %d times, want 2", calls)
			}
		})
	}
}

// failingStore is a dedupe store that is down.
type failingStore struct{ memEphemeral }

func (*failingStore) SetNX(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, errors.New("connection refused")
}

func TestDedupeStoreDown(t *testing.T) {
	cb, rec := newCallback(t, func(c *bot.CallbackConfig) { c.Dedupe = &failingStore{} })
	p := decodeReply(t, serve(cb, wechatRequest{body: textXML("o_res", 5, "x")}.build(t)), "")
	if p.Content != bot.BusyReply || len(rec.calls()) != 0 {
		t.Fatalf("content %q after %d calls", p.Content, len(rec.calls()))
	}
}

func TestNewCallbackChecksConfig(t *testing.T) {
	ok := bot.CallbackConfig{Token: "t", AppID: "wx1", Responder: &recorder{}}
	tests := []struct {
		name   string
		mutate func(*bot.CallbackConfig)
		valid  bool
	}{
		{"plain", func(*bot.CallbackConfig) {}, true},
		{"safe", func(c *bot.CallbackConfig) { c.AESKey = keyCurrent }, true},
		{"no token", func(c *bot.CallbackConfig) { c.Token = "" }, false},
		{"no responder", func(c *bot.CallbackConfig) { c.Responder = nil }, false},
		{"short key", func(c *bot.CallbackConfig) { c.AESKey = "abc" }, false},
		{"bad key", func(c *bot.CallbackConfig) { c.AESKey = strings.Repeat("!", 43) }, false},
		{"previous key alone", func(c *bot.CallbackConfig) { c.PrevAESKey = keyPrevious }, false},
		{"safe without AppID", func(c *bot.CallbackConfig) { c.AESKey = keyCurrent; c.AppID = "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mutate(&cfg)
			_, err := bot.NewCallback(cfg)
			if (err == nil) != tt.valid {
				t.Fatalf("err = %v, valid = %v", err, tt.valid)
			}
		})
	}
}

// panickingStore makes the handler itself panic.
type panickingStore struct{ memEphemeral }

func (*panickingStore) SetNX(context.Context, string, []byte, time.Duration) (bool, error) {
	panic("store bug")
}

func TestPanicIsAnswered(t *testing.T) {
	cb, _ := newCallback(t, func(c *bot.CallbackConfig) { c.Dedupe = &panickingStore{} })
	rr := serve(cb, wechatRequest{body: textXML("o_res", 5, "x")}.build(t))
	if rr.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rr.Code)
	}
}

func TestLogsCarryNoPersonalData(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	const secret = "13800138000 幸福路8号"
	cb, rec := newCallback(t, func(c *bot.CallbackConfig) {
		c.Log = log
		c.AESKey = keyCurrent
		c.PrevAESKey = keyPrevious
	})
	rec.reply = func(core.Message) (string, error) { return "", errors.New("dialog failed") }
	for _, r := range []wechatRequest{
		{body: textXML("o_res", 1, secret), aesKey: keyCurrent},
		{body: textXML("o_res", 2, secret), aesKey: keyPrevious},
		{body: textXML("o_res", 3, secret), aesKey: keyUnknown},
		{body: textXML("o_res", 4, secret), aesKey: keyCurrent, badMsgSig: true},
		{body: "<xml>" + secret, aesKey: keyCurrent},
	} {
		serve(cb, r.build(t))
	}
	mu.Lock()
	defer mu.Unlock()
	if buf.Len() == 0 {
		t.Fatal("nothing logged")
	}
	for _, s := range []string{"13800138000", "幸福路", keyCurrent, keyPrevious} {
		if strings.Contains(buf.String(), s) {
			t.Fatalf("log contains %q:\n%s", s, buf.String())
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// A message opens the user's 48-hour window, a menu click only the
// 1-minute one; an unfollow opens nothing (window_internal_test.go has every way).
func TestCallbackOpensTheWindow(t *testing.T) {
	store := &memEphemeral{Now: func() time.Time { return fixedNow }}
	window := &bot.Window{Store: store, Now: func() time.Time { return fixedNow }}
	cb, _ := newCallback(t, func(c *bot.CallbackConfig) { c.Window = window })
	serve(cb, wechatRequest{body: eventXML("o_gone", 1714036504, "unsubscribe", "")}.build(t))
	serve(cb, wechatRequest{body: textXML("o_res", 42, "你好")}.build(t))
	serve(cb, wechatRequest{body: eventXML("o_click", 1714036504, "CLICK", "MINE")}.build(t))
	for openid, want := range map[string]string{"o_gone": "", "o_res": "wxwindow:", "o_click": "wxtap:"} {
		for _, kind := range []string{"wxwindow:", "wxtap:"} {
			_, ok, _ := store.Get(context.Background(), kind+openid)
			if ok != (kind == want) {
				t.Errorf("%s: %s recorded %t, want %t", openid, kind, ok, kind == want)
			}
		}
	}
}

// sessionResponder reads a key ahead and leaves its write to the callback,
// as dialogs.Service does.
type sessionResponder struct {
	sawAhead bool
}

func (r *sessionResponder) ReadsFirst(m core.Message) []string { return []string{"session:" + m.From} }

func (r *sessionResponder) Respond(ctx context.Context, m core.Message) (string, error) {
	op, ok := core.ReadAhead(ctx, "session:"+m.From)
	r.sawAhead = ok && op.OK && string(op.Got) == "step 1"
	if !core.DeferKeyWrite(ctx, core.KeyOp{Kind: core.KeySet, Key: "session:" + m.From, Value: []byte("step 2"), TTL: time.Hour}) {
		return "", errors.New("write not deferred")
	}
	return "好的", nil
}

// A message costs the store two batches, whatever it reads and writes: the
// retry mark, the window and the session read before the answer; the
// session and the stored reply after it. With Valkey each is one round trip.
func TestMessageCostsTwoBatches(t *testing.T) {
	store := &batchingEphemeral{memEphemeral: &memEphemeral{}}
	ctx := context.Background()
	if err := store.Set(ctx, "session:o_res", []byte("step 1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	resp := &sessionResponder{}
	cb, _ := newCallback(t, func(c *bot.CallbackConfig) {
		c.Dedupe, c.Responder, c.Window = store, resp, &bot.Window{Store: store, Now: func() time.Time { return fixedNow }}
	})
	if got := decodeReply(t, serve(cb, wechatRequest{body: textXML("o_res", 1, "x")}.build(t)), "").Content; got != "好的" {
		t.Fatalf("reply %q", got)
	}
	want := [][]core.KeyOpKind{{core.KeySetNX, core.KeyGet, core.KeySet}, {core.KeySet, core.KeySet}}
	if got := store.ran(); !reflect.DeepEqual(got, want) {
		t.Fatalf("batches %v, want %v", got, want)
	}
	if !resp.sawAhead {
		t.Error("the responder did not find the session read ahead")
	}
	if v, _, _ := store.Get(ctx, "session:o_res"); string(v) != "step 2" {
		t.Errorf("session %q after the answer", v)
	}
	// The retry is answered from the stored reply, in one batch.
	if got := decodeReply(t, serve(cb, wechatRequest{body: textXML("o_res", 1, "x"), nonce: "2"}.build(t)), "").Content; got != "好的" {
		t.Fatalf("retry answered %q", got)
	}
	if n := len(store.ran()); n != 3 {
		t.Errorf("%d batches after the retry, want 3", n)
	}
}

// A deferred write that fails fails the answer: the resident is told we
// are busy, and the retry mark is cleared so that WeChat's retry runs the
// step again instead of replaying an answer whose session was not saved.
func TestDeferredWriteFailureIsBusy(t *testing.T) {
	store := &failingSets{batchingEphemeral: &batchingEphemeral{memEphemeral: &memEphemeral{}}, failKey: "session:o_res"}
	resp := &sessionResponder{}
	cb, _ := newCallback(t, func(c *bot.CallbackConfig) { c.Dedupe, c.Responder = store, resp })
	if got := decodeReply(t, serve(cb, wechatRequest{body: textXML("o_res", 1, "x")}.build(t)), "").Content; got != bot.BusyReply {
		t.Fatalf("reply %q, want the busy text", got)
	}
	store.failKey = ""
	if got := decodeReply(t, serve(cb, wechatRequest{body: textXML("o_res", 1, "x"), nonce: "2"}.build(t)), "").Content; got != "好的" {
		t.Fatalf("retry answered %q, want the step run again", got)
	}
}

// failingSets fails every batched Set of failKey.
type failingSets struct {
	*batchingEphemeral
	failKey string
}

func (f *failingSets) Batch(ctx context.Context, ops []core.KeyOp) {
	f.batchingEphemeral.Batch(ctx, ops)
	for i := range ops {
		if ops[i].Kind == core.KeySet && ops[i].Key == f.failKey {
			ops[i].Err = errors.New("server gone")
		}
	}
}
