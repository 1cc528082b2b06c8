package wechatsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The simulator also plays Tencent Cloud ASR's 一句话识别 (SentenceRecognition,
// API 2019-06-14) at POST /, so the voice path runs end to end: WeChat gives
// the bot a voice note without Recognition, the bot downloads it
// (/cgi-bin/media/get) and sends it here, and the simulator answers with
// what the phone page (or SendVoice) said the voice says. A call must be
// signed with TC3-HMAC-SHA256 by ASRSecretID and ASRSecretKey.

// tc3Skew is how far a signed call's timestamp may be from the clock.
const tc3Skew = 5 * time.Minute

// cloudError answers as Tencent Cloud's API does: HTTP 200, the error in
// Response.Error.
func cloudError(w http.ResponseWriter, code, msg string) {
	apiAnswerAny(w, map[string]any{"Response": map[string]any{
		"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": randomHex(16)}})
}

func apiAnswerAny(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Sim) serveCloudAPI(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 5<<20))
	if err != nil {
		cloudError(w, "InvalidParameter", "request too large")
		return
	}
	if code, msg := s.checkTC3(r, body); code != "" {
		cloudError(w, code, msg)
		return
	}
	if a := r.Header.Get("X-TC-Action"); a != "SentenceRecognition" || r.Header.Get("X-TC-Version") != "2019-06-14" {
		cloudError(w, "InvalidAction", "the simulator plays asr SentenceRecognition 2019-06-14 only")
		return
	}
	var req struct {
		EngSerViceType string
		SourceType     int
		VoiceFormat    string
		Data           string
		DataLen        int
	}
	if err := json.Unmarshal(body, &req); err != nil {
		cloudError(w, "InvalidParameter", "body is not JSON")
		return
	}
	audio, err := base64.StdEncoding.DecodeString(req.Data)
	switch {
	case req.EngSerViceType != "16k_zh" && req.EngSerViceType != "16k_yue" && req.EngSerViceType != "8k_zh":
		cloudError(w, "InvalidParameterValue", "EngSerViceType")
		return
	case req.SourceType != 1 || err != nil || len(audio) == 0 || req.DataLen != len(audio):
		cloudError(w, "InvalidParameterValue", "Data")
		return
	case len(audio) > 3<<20:
		cloudError(w, "FailedOperation.ErrorDownFile", "audio larger than 3 MB")
		return
	case req.VoiceFormat == "":
		cloudError(w, "InvalidParameterValue", "VoiceFormat")
		return
	}
	s.mu.Lock()
	text, ok := s.transcripts[voiceKey(audio)]
	s.asrCalls++
	s.mu.Unlock()
	if !ok {
		text = "" // a voice no one said anything in
	}
	apiAnswerAny(w, map[string]any{"Response": map[string]any{
		"Result": text, "AudioDuration": 3000, "WordSize": 0, "RequestId": randomHex(16)}})
}

// checkTC3 verifies a TC3-HMAC-SHA256 signature as Tencent Cloud does;
// it returns the error code and message, or "" when the call is signed.
func (s *Sim) checkTC3(r *http.Request, body []byte) (string, string) {
	auth := r.Header.Get("Authorization")
	const algo = "TC3-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return "AuthFailure.SignatureFailure", "missing TC3 signature"
	}
	parts := map[string]string{}
	for _, p := range strings.Split(strings.TrimPrefix(auth, algo), ", ") {
		k, v, _ := strings.Cut(p, "=")
		parts[k] = v
	}
	cred := strings.Split(parts["Credential"], "/")
	if len(cred) != 4 || cred[0] != s.cfg.ASRSecretID || s.cfg.ASRSecretID == "" {
		return "AuthFailure.SecretIdNotFound", "unknown SecretId"
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	now := s.cfg.Now()
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > tc3Skew {
		return "AuthFailure.SignatureExpire", "timestamp too far from the clock"
	}
	date, service := cred[1], cred[2]
	if date != time.Unix(ts, 0).UTC().Format("2006-01-02") || parts["SignedHeaders"] != "content-type;host" {
		return "AuthFailure.SignatureFailure", "credential scope"
	}
	sum := sha256.Sum256(body)
	canonical := "POST\n/\n\ncontent-type:" + r.Header.Get("Content-Type") + "\nhost:" + r.Host + "\n\ncontent-type;host\n" +
		hex.EncodeToString(sum[:])
	csum := sha256.Sum256([]byte(canonical))
	toSign := "TC3-HMAC-SHA256\n" + r.Header.Get("X-TC-Timestamp") + "\n" + date + "/" + service + "/tc3_request\n" +
		hex.EncodeToString(csum[:])
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	k := mac(mac(mac([]byte("TC3"+s.cfg.ASRSecretKey), date), service), "tc3_request")
	want := hex.EncodeToString(mac(k, toSign))
	if !hmac.Equal([]byte(want), []byte(parts["Signature"])) {
		return "AuthFailure.SignatureFailure", "signature does not match"
	}
	return "", ""
}

// ASRCalls counts the SentenceRecognition calls answered.
func (s *Sim) ASRCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asrCalls
}
