package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A voice note arrives as WeChat sends it today, without Recognition; the
// bot downloads it, the simulator's Tencent Cloud ASR hears it, the resident
// sees the words back to confirm, and the case is filed with them as its
// description and the voice kept. In both modes.
func TestVoiceBecomesADescription(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts rigOptions
	}{{"plain mode", rigOptions{}}, {"safe mode", rigOptions{safeMode: true}}} {
		t.Run(tt.name, func(t *testing.T) {
			r := boot(t, tt.opts)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resident := "oresident-voice-1"
			said := "石桥村口那盏路灯坏咗三日，夜晚好黑"
			r.say(resident, "报事")
			r.say(resident, "道路照明")
			reply, err := r.sim.SendVoice(ctx, resident, said)
			if err != nil || !strings.Contains(reply, said) || !strings.Contains(reply, "语音识别") {
				t.Fatalf("the voice was not heard: %q %v", reply, err)
			}
			if _, err := r.sim.SendLocation(ctx, resident, 22.355, 112.545, "石桥村口"); err != nil {
				t.Fatal(err)
			}
			r.say(resident, "跳过")
			done := r.say(resident, "确认")
			m := caseNumber.FindStringSubmatch(done)
			if m == nil {
				t.Fatalf("not filed: %q", done)
			}
			var view struct {
				Case struct {
					Text   string `json:"text"`
					Voices []any  `json:"voices"`
				} `json:"case"`
			}
			if status := r.login("gl-L10-a").get("/api/cases/"+m[1], &view); status != 200 ||
				view.Case.Text != said || len(view.Case.Voices) != 1 {
				t.Fatalf("case %s: %d %+v", m[1], status, view.Case)
			}
		})
	}
}
