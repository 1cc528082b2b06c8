package wecom_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"gridbot/core"
	"gridbot/store/embedded"
	"gridbot/wecom"
	"gridbot/wecomsim"
)

// signedMessage is a member's text message as WeCom posts it: the query and
// the encrypted envelope.
func signedMessage(tb testing.TB, msgID int, content string) (string, string) {
	tb.Helper()
	inner := "<xml><ToUserName><![CDATA[" + corpID + "]]></ToUserName><FromUserName><![CDATA[zhangwei]]></FromUserName><CreateTime>" +
		strconv.FormatInt(time.Now().Unix(), 10) + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + content +
		"]]></Content><MsgId>" + strconv.Itoa(msgID) + "</MsgId><AgentID>1000002</AgentID></xml>"
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(inner), corpID, aesKey)
	if err != nil {
		tb.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	q := "msg_signature=" + util.Signature(token, ts, "nonce", string(enc)) + "&timestamp=" + ts + "&nonce=nonce"
	return q, "<xml><ToUserName><![CDATA[" + corpID + "]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[" +
		string(enc) + "]]></Encrypt></xml>"
}

// BenchmarkCallback is the WeCom callback's own cost for one new message:
// signature, decryption, the dedupe mark, a trivial desk, the sealed reply.
func BenchmarkCallback(b *testing.B) {
	app, err := wecom.NewApp(wecom.Config{CorpID: corpID, AgentID: "1000002", Secret: secret, Token: token, AESKey: aesKey})
	if err != nil {
		b.Fatal(err)
	}
	cb, err := wecom.NewCallback(wecom.CallbackConfig{App: app, Desk: &fakeDesk{}, Dedupe: &embedded.MemoryKeys{}})
	if err != nil {
		b.Fatal(err)
	}
	reqs := make([][2]string, b.N)
	for i := range reqs {
		reqs[i][0], reqs[i][1] = signedMessage(b, i+1, "受理")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		w := httptest.NewRecorder()
		cb.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wecom?"+reqs[i][0], strings.NewReader(reqs[i][1])))
		if w.Code != http.StatusOK || w.Body.Len() == 0 {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkDigestText is writing one group's digest of 200 open cases.
func BenchmarkDigestText(b *testing.B) {
	r := newGroupRig(b, time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC))
	var cases []core.Case
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	for i := range 200 {
		cases = append(cases, core.Case{Number: "ST2026120" + strconv.Itoa(10000+i), Grid: "L10", Category: "light",
			State: core.StateAssigned, CreatedAt: now.Add(-time.Duration(i) * time.Hour), Deadline: now.Add(time.Duration(i-100) * time.Hour),
			Warning: []core.Warning{"", core.WarningYellow, core.WarningRed}[i%3]})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		d := core.DigestOf(r.town, cases, now)
		if text := r.groups.DigestText(r.town, "石桥", d, now); len(text) > wecom.MaxMarkdown {
			b.Fatal(len(text))
		}
	}
}

// noLimit counts nothing, so a benchmark is not held to 30 a minute.
type noLimit struct{}

func (noLimit) Incr(context.Context, string, time.Duration) (int64, error) { return 1, nil }

func (noLimit) Get(context.Context, string) ([]byte, bool, error) { return nil, false, nil }

// BenchmarkSenderNotify is one card to a member through the simulator over
// loopback HTTP: the JSON, the call, the answer (the simulator drops what is
// over 30 a minute and says nothing, as WeCom does).
func BenchmarkSenderNotify(b *testing.B) {
	r := newRig(b)
	s := &wecom.Sender{App: r.app, Counts: noLimit{}, PublicBase: "https://grid.example.org"}
	n := core.Notice{To: "zhangwei", Title: "新事项：道路照明", Case: "ST202612030001", Text: "地点：石桥村 · 石桥大网格\n请回复“受理”接单。"}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := s.Notify(context.Background(), n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPhotosBridge is one photo from the app's chat made WeChat's:
// media/get from the simulated WeCom over loopback (a 48×32 JPEG), the
// upload (a stand-in), and the photo kept in an embedded store.
func BenchmarkPhotosBridge(b *testing.B) {
	r := newRig(b)
	quiet := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	b.Cleanup(quiet.Close)
	r.sim.SetCallbackURL(quiet.URL)
	photo := wecomsim.Photo("bench")
	_, id, err := r.sim.SendImage(context.Background(), "zhangwei", "image/jpeg", photo)
	if err != nil {
		b.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(b.TempDir(), "s.db"), embedded.Options{CasePrefix: "ST", NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	p := &wecom.Photos{App: r.app, WeChat: &fakeUploader{}, Media: &core.MediaStore{Records: st}}
	m := core.Message{From: "wecom:zhangwei", Kind: core.MessageImage, MediaID: id}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Bridge(ctx, m, "ST0001"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGroupsQueue is a burst of new cases through the durable queue:
// each case queued in an embedded store (fsync on), and with flush=50 one
// flush every 50 that posts them batched to the simulated robot.
func BenchmarkGroupsQueue(b *testing.B) {
	for _, every := range []int{0, 50} {
		b.Run("flush="+strconv.Itoa(every), func(b *testing.B) { benchmarkGroupsQueue(b, every) })
	}
}

func benchmarkGroupsQueue(b *testing.B, every int) {
	r := newGroupRig(b, time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := r.groups.NewCase(ctx, core.Case{Number: "ST2026120" + strconv.Itoa(10000+i), Grid: "L10", Category: "light"}); err != nil {
			b.Fatal(err)
		}
		if every > 0 && i%every == 0 {
			r.clock.Add(time.Minute) // the robot's minute, so every flush posts
			r.groups.Flush(ctx)
		}
	}
}
