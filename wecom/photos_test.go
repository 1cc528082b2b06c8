package wecom_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"gridbot/core"
	"gridbot/store/embedded"
	"gridbot/wecom"
	"gridbot/wecomsim"
)

// fakeUploader stands in for WeChat's media/upload.
type fakeUploader struct {
	got  [][]byte
	fail error
}

func (u *fakeUploader) Upload(_ context.Context, kind, ctype string, data []byte) (string, error) {
	if u.fail != nil {
		return "", u.fail
	}
	if kind != core.MediaImage || ctype != "image/jpeg" {
		return "", errors.New("unexpected kind or type " + kind + " " + ctype)
	}
	u.got = append(u.got, data)
	return "wx_upload_1", nil
}

// A photo a member sent in the app's chat is fetched from WeCom
// (media/get), uploaded to WeChat and kept with its case under WeChat's
// media ID; one WeCom no longer has is refused for good; a photo from
// WeChat passes as it is.
func TestPhotosBridge(t *testing.T) {
	r := newRig(t)
	quiet := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(quiet.Close)
	r.sim.SetCallbackURL(quiet.URL)
	photo := wecomsim.Photo("pole")
	_, id, err := r.sim.SendImage(context.Background(), "zhangwei", "image/jpeg", photo)
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "s.db"), embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	up := &fakeUploader{}
	media := &core.MediaStore{Records: st}
	p := &wecom.Photos{App: r.app, WeChat: up, Media: media}
	ctx := context.Background()
	from := core.Address{Channel: core.ChannelWeCom, ID: "zhangwei"}.String()
	got, err := p.Bridge(ctx, core.Message{From: from, Kind: core.MessageImage, MediaID: id, PicURL: "https://wework.qpic.cn/x"}, "ST0001")
	if err != nil || got.MediaID != "wx_upload_1" || got.URL != "" {
		t.Fatalf("bridge: %+v %v", got, err)
	}
	if len(up.got) != 1 || !bytes.Equal(up.got[0], photo) {
		t.Errorf("uploaded %d files, the first the photo: %v", len(up.got), len(up.got) == 1 && bytes.Equal(up.got[0], photo))
	}
	f, ok, err := media.Get(ctx, "wx_upload_1")
	if err != nil || !ok || f.Case != "ST0001" || f.Kind != core.MediaImage || !bytes.Equal(f.Data, photo) {
		t.Errorf("kept: %+v %v %v", f.Case, ok, err)
	}
	// Waiting for a patrol report: uploaded, kept when the report is filed.
	if _, err := p.Bridge(ctx, core.Message{From: from, Kind: core.MessageImage, MediaID: id}, ""); err != nil || len(up.got) != 2 {
		t.Errorf("patrol photo: %v, %d uploads", err, len(up.got))
	}
	if _, err := p.Bridge(ctx, core.Message{From: from, Kind: core.MessageImage, MediaID: "2-gone"}, "ST0001"); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("a media ID WeCom does not have: %v", err)
	}
	// Over the media store's bound: refused for good, nothing uploaded.
	_, big, err := r.sim.SendImage(ctx, "zhangwei", "image/jpeg", bytes.Repeat([]byte{0xff}, core.DefaultMaxMediaBytes+1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Bridge(ctx, core.Message{From: from, Kind: core.MessageImage, MediaID: big}, "ST0001"); !errors.Is(err, core.ErrInvalid) || len(up.got) != 2 {
		t.Errorf("a photo over 2 MB: %v, %d uploads", err, len(up.got))
	}
	if r.sim.MediaGets() != 4 {
		t.Errorf("%d downloads from WeCom", r.sim.MediaGets())
	}
	up.fail = errors.New("wechat down")
	if _, err := p.Bridge(ctx, core.Message{From: from, Kind: core.MessageImage, MediaID: id}, "ST0001"); err == nil || errors.Is(err, core.ErrInvalid) {
		t.Errorf("WeChat down must be worth another try: %v", err)
	}
	wx, err := p.Bridge(ctx, core.Message{From: "oopenid", Kind: core.MessageImage, MediaID: "wxmedia", PicURL: "u"}, "ST0001")
	if err != nil || wx.MediaID != "wxmedia" || wx.URL != "u" || r.sim.MediaGets() != 5 {
		t.Errorf("a WeChat photo: %+v %v (downloads %d)", wx, err, r.sim.MediaGets())
	}
}
