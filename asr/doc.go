// Package asr hears voice notes: it sends a resident's voice to Tencent
// Cloud ASR (一句话识别, SentenceRecognition) and returns what was said, since
// WeChat no longer sends a recognition with voice messages. It is the only
// package that imports the Tencent Cloud SDK, whose CommonClient signs the
// call (TC3-HMAC-SHA256); the per-service asr module is not used.
package asr
