package wechatsim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
)

// Media IDs the simulator makes up start with these; /cgi-bin/media/get
// answers any other ID with 40007, as WeChat does for an unknown or expired
// one.
const (
	simImagePrefix = "sim_media_"
	simVoicePrefix = "sim_voice_"
)

// SendVoice sends a voice note saying transcript; the simulator makes up
// its MediaId. As today, the callback carries no Recognition: what was said
// is only heard through the simulator's ASR (asr.go). An empty transcript
// is a voice no one could make out.
func (s *Sim) SendVoice(ctx context.Context, openid, transcript string) (string, error) {
	return s.send(ctx, openid, s.voice(transcript))
}

// voice is a voice note saying transcript, remembered for the ASR.
func (s *Sim) voice(transcript string) OutgoingMessage {
	id := simVoicePrefix + randomHex(8)
	s.mu.Lock()
	s.transcripts[voiceKey(MediaVoice(id))] = transcript
	s.mu.Unlock()
	return OutgoingMessage{MsgType: "voice", MediaID: id, Format: "amr", Transcript: transcript}
}

// voiceKey names a voice note's bytes, as the ASR receives them.
func voiceKey(audio []byte) string {
	sum := sha256.Sum256(audio)
	return hex.EncodeToString(sum[:])
}

// serveMediaGet plays /cgi-bin/media/get: a small PNG for a photo's ID, a
// few AMR-looking bytes for a voice note's, both made from the ID so the
// same ID always gives the same bytes.
func (s *Sim) serveMediaGet(w http.ResponseWriter, r *http.Request) {
	s.mediaRequests.Add(1)
	if !s.checkToken(w, r) {
		return
	}
	id := r.URL.Query().Get("media_id")
	switch {
	case strings.HasPrefix(id, simImagePrefix):
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(MediaImage(id))
	case strings.HasPrefix(id, simVoicePrefix):
		w.Header().Set("Content-Type", "audio/amr")
		_, _ = w.Write(MediaVoice(id))
	default:
		if f, ok := s.uploaded(id); ok {
			w.Header().Set("Content-Type", f.contentType)
			_, _ = w.Write(f.data)
			return
		}
		apiError(w, 40007, "invalid media_id")
	}
}

// MediaImage is the PNG the simulator serves for photo id: 32×24 pixels in
// a colour drawn from the ID.
func MediaImage(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for y := 0; y < 24; y++ {
		for x := 0; x < 32; x++ {
			img.Set(x, y, color.RGBA{R: sum[0] ^ uint8(x*4), G: sum[1] ^ uint8(y*6), B: sum[2], A: 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// MediaVoice is what the simulator serves for voice note id: the AMR
// header and a few frames drawn from the ID.
func MediaVoice(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	out := []byte("#!AMR\n")
	for i := 0; i < 8; i++ {
		out = append(out, 0x3c)
		out = append(out, sum[:]...)
	}
	return out
}

// MediaRequests counts the media downloads the bot made.
func (s *Sim) MediaRequests() int64 { return s.mediaRequests.Load() }

// VoiceNote makes a voice note saying transcript without sending it: its
// media ID and the bytes /cgi-bin/media/get serves for it, which the
// simulated ASR hears as transcript.
func (s *Sim) VoiceNote(transcript string) (mediaID string, audio []byte) {
	m := s.voice(transcript)
	return m.MediaID, MediaVoice(m.MediaID)
}
