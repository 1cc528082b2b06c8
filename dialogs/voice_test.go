package dialogs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gridbot/core"
)

// fakeHearer hears each voice note as its words, or fails.
type fakeHearer struct {
	words map[string]string
	err   error
}

func (f fakeHearer) Hear(_ context.Context, id string) (string, error) { return f.words[id], f.err }

func voice(id string) core.Message {
	return core.Message{From: testResident, Kind: core.MessageVoice, MediaID: id}
}

// A voice note without WeChat's recognition (as today) is heard: its words
// start the report and are shown back to confirm or correct, and the voice
// stays with the case. One that could not be heard is kept and the
// resident is asked to write.
func TestVoiceIsHeard(t *testing.T) {
	for _, tt := range []struct {
		name   string
		hear   core.Hearer
		want   string
		voices int
		text   string
	}{
		{"heard", fakeHearer{words: map[string]string{"v1": "报事"}}, "我们一步一步来", 0, ""},
		{"heard as a description", fakeHearer{words: map[string]string{"v1": "村口的路灯坏了三天了，晚上很黑"}},
			"以上是语音识别的文字", 1, "村口的路灯坏了三天了，晚上很黑"},
		{"nothing made out", fakeHearer{words: map[string]string{}}, "没能听清您的语音", 1, ""},
		{"hearing failed", fakeHearer{err: errors.New("asr: AuthFailure")}, "没能听清您的语音", 1, ""},
		{"no hearer", nil, "没能听清您的语音", 1, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, _, _ := newEngine(t)
			e.Hear = tt.hear
			s := &Session{}
			got := say(t, e, s, voice("v1"))
			if !strings.Contains(got, tt.want) {
				t.Fatalf("reply %q, want %q in it", got, tt.want)
			}
			if len(s.Draft.Voices) != tt.voices || tt.voices == 1 && s.Draft.Voices[0].MediaID != "v1" {
				t.Fatalf("voices %+v, want %d", s.Draft.Voices, tt.voices)
			}
			if tt.text != "" && s.Draft.Text != tt.text {
				t.Fatalf("description %q", s.Draft.Text)
			}
		})
	}
}
