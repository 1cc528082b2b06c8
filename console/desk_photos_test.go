package console

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"gridbot/core"
)

// pngPhoto is a small real PNG.
func pngPhoto(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func newMultipart(b *bytes.Buffer) *multipart.Writer { return multipart.NewWriter(b) }

// multipartBody is fields and photo files as a browser's FormData sends
// them.
func multipartBody(t *testing.T, fields map[string]string, photos ...[]byte) ([]byte, func(*http.Request)) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range photos {
		fw, err := mw.CreateFormFile("photo", "p"+string(rune('0'+i))+".png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(p)
	}
	mw.Close()
	return b.Bytes(), withHeader("Content-Type", mw.FormDataContentType())
}

// TestResolveWithPhotoAPI: the photo of the fix is kept with the case and
// named on the resolved event; whoever may not resolve it, or sends what is
// not a photo, changes nothing and leaves nothing kept.
func TestResolveWithPhotoAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.srv.Media = &core.MediaStore{Records: f.store}
	lead1, lead2, dept1 := f.login(t, "lead1"), f.login(t, "lead2"), f.login(t, "dept1")
	g1 := f.cases["g1"]
	photo := pngPhoto(t)
	path := "/api/cases/" + g1 + "/resolve-photo"

	body, ct := multipartBody(t, map[string]string{"result": "已更换灯泡"}, photo)
	for _, tt := range []struct {
		who    *http.Cookie
		body   []byte
		ct     func(*http.Request)
		status int
	}{
		{lead2, body, ct, http.StatusNotFound},
		{dept1, body, ct, http.StatusNotFound},
	} {
		if resp, raw := f.request(t, http.MethodPost, path, tt.who, tt.body, tt.ct); resp.StatusCode != tt.status {
			t.Errorf("%d %s, want %d", resp.StatusCode, raw, tt.status)
		}
	}
	notPhoto, ct2 := multipartBody(t, map[string]string{"result": "已修"}, []byte("<html><script>alert(1)</script>"))
	if resp, raw := f.request(t, http.MethodPost, path, lead1, notPhoto, ct2); resp.StatusCode != 400 || !strings.Contains(string(raw), "JPG") {
		t.Errorf("not a photo: %d %s", resp.StatusCode, raw)
	}
	two, ct3 := multipartBody(t, map[string]string{"result": "已修"}, photo, photo)
	if resp, _ := f.request(t, http.MethodPost, path, lead1, two, ct3); resp.StatusCode != 400 {
		t.Errorf("two photos: %d", resp.StatusCode)
	}
	noResult, ct4 := multipartBody(t, map[string]string{"result": " "}, photo)
	if resp, _ := f.request(t, http.MethodPost, path, lead1, noResult, ct4); resp.StatusCode != 400 {
		t.Errorf("no result: %d", resp.StatusCode)
	}
	if kept, _ := f.store.RecordsIn(ctx, "media"); len(kept) != 0 {
		t.Errorf("refused steps left %d photos", len(kept))
	}

	resp, raw := f.request(t, http.MethodPost, path, lead1, body, ct)
	if resp.StatusCode != 200 {
		t.Fatalf("resolve with photo: %d %s", resp.StatusCode, raw)
	}
	c, _ := f.store.Case(ctx, g1)
	evs, _ := f.store.Events(ctx, g1)
	last := evs[len(evs)-1]
	id := last.Data[core.DataMedia]
	if c.State != core.StateResolved || last.Kind != core.EventResolved || id == "" {
		t.Fatalf("resolved %s, last event %+v", c.State, last)
	}
	if kind, held := c.Holds(id); !held || kind != core.MediaImage {
		t.Errorf("the case does not hold the fix's photo")
	}
	kept, ok, _ := f.srv.Media.Get(ctx, id)
	if !ok || kept.Case != g1 || !bytes.Equal(kept.Data, photo) {
		t.Errorf("kept %+v %v", kept.Case, ok)
	}
}

// TestFileForWithPhotos: photos a resident brought to the desk are kept
// under the case filed, and a refused filing keeps none.
func TestFileForWithPhotos(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.srv.Media = &core.MediaStore{Records: f.store}
	lead1, lead2 := f.login(t, "lead1"), f.login(t, "lead2")
	filing, _ := json.Marshal(map[string]any{"channel": "walk_in", "category": "road", "grid": "g1", "text": "井盖坏了"})
	body, ct := multipartBody(t, map[string]string{"filing": string(filing)}, pngPhoto(t), pngPhoto(t))
	if resp, raw := f.request(t, http.MethodPost, "/api/cases", lead2, body, ct); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another grid: %d %s", resp.StatusCode, raw)
	}
	if kept, _ := f.store.RecordsIn(ctx, "media"); len(kept) != 0 {
		t.Errorf("a refused filing kept %d photos", len(kept))
	}
	resp, raw := f.request(t, http.MethodPost, "/api/cases", lead1, body, ct)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("file with photos: %d %s", resp.StatusCode, raw)
	}
	c, _ := f.store.Case(ctx, decode[deskAnswer](t, raw).Case.Number)
	if len(c.Photos) != 2 {
		t.Fatalf("photos %v", c.Photos)
	}
	for _, p := range c.Photos {
		if m, ok, _ := f.srv.Media.Get(ctx, p.MediaID); !ok || m.Case != c.Number {
			t.Errorf("photo %s kept under %q", p.MediaID, m.Case)
		}
	}
	five, ct5 := multipartBody(t, map[string]string{"filing": string(filing)}, pngPhoto(t), pngPhoto(t), pngPhoto(t), pngPhoto(t), pngPhoto(t))
	if resp, _ := f.request(t, http.MethodPost, "/api/cases", lead1, five, ct5); resp.StatusCode != 400 {
		t.Errorf("five photos: %d", resp.StatusCode)
	}
	// Without photos uploads on, the JSON body stays bounded.
	huge := append([]byte(`{"text":"`), bytes.Repeat([]byte("x"), MaxBodyBytes+1)...)
	if resp, _ := f.request(t, http.MethodPost, "/api/cases/"+c.Number+"/note", lead1, huge); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a huge note body: %d", resp.StatusCode)
	}
}
