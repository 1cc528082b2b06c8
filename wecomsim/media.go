package wecomsim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"time"
)

// mediaLife is how long WeCom keeps a temporary media file.
const mediaLife = 72 * time.Hour

// mediaFile is a file a member sent, as media/get serves it.
type mediaFile struct {
	contentType string
	data        []byte
	at          time.Time
}

// SendImage sends a photo from userid to the app, as WeCom does: the
// message carries a MediaId (and a PicUrl) and the bytes are fetched with
// media/get within three days. It returns the app's answer and the
// photo's media ID.
func (s *Sim) SendImage(ctx context.Context, userid, contentType string, data []byte) (Result, string, error) {
	id := s.keepMedia(contentType, data)
	res, err := s.Post(ctx, userid, Message{MsgType: "image", MediaID: id, PicURL: "https://wework.qpic.cn/wwpic/sim/" + id})
	return res, id, err
}

// keepMedia keeps a file as media/get will serve it and returns its ID.
func (s *Sim) keepMedia(contentType string, data []byte) string {
	// WeCom's media IDs are long strings of letters, digits, - and _.
	id := "2-" + randomHex(16) + "_wx"
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.media == nil {
		s.media = map[string]mediaFile{}
	}
	s.media[id] = mediaFile{contentType: contentType, data: data, at: s.cfg.Now()}
	return id
}

// Photo is the JPEG the simulator's page sends as a member's photo: 48×32
// pixels in a colour drawn from seed.
func Photo(seed string) []byte {
	sum := sha256.Sum256([]byte(seed))
	img := image.NewRGBA(image.Rect(0, 0, 48, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 48; x++ {
			img.Set(x, y, color.RGBA{R: sum[0] ^ uint8(x*3), G: sum[1] ^ uint8(y*5), B: sum[2], A: 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, nil)
	return b.Bytes()
}

// serveMediaGet plays GET /cgi-bin/media/get: the file itself with its
// Content-Type and a Content-disposition naming it, or JSON with an errcode
// (40007 for an unknown or expired media ID), as WeCom answers.
func (s *Sim) serveMediaGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if !s.tokenOK(w, r) {
		s.mu.Unlock()
		return
	}
	s.mediaGets++
	id := r.URL.Query().Get("media_id")
	f, ok := s.media[id]
	if ok && !s.cfg.Now().Before(f.at.Add(mediaLife)) {
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		apiError(w, 40007, "invalid media_id")
		return
	}
	ext := ".jpg"
	if f.contentType == "image/png" {
		ext = ".png"
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Content-disposition", `attachment; filename="`+id+ext+`"`)
	w.Header().Set("Cache-Control", "no-cache, must-revalidate")
	_, _ = w.Write(f.data)
}

// MediaGets counts the media downloads the app made.
func (s *Sim) MediaGets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mediaGets
}
