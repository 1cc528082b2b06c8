package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gridbot/wechatsim"
)

// Hostile and odd input through the real callback, in plain and safe mode,
// outside a dialog and as the description inside one: every message gets a
// sane answer (a reply WeChat accepts, or a 4xx for what is not a message),
// never a 500, never a crash; and what is stored is clean and bounded.
func TestHostileInputThroughTheCallback(t *testing.T) {
	longText := strings.Repeat("路灯坏了😀", 2000) // 10,000 characters
	cases := []struct {
		name   string
		text   string // sent as a text message's Content
		raw    string // sent as the whole message XML instead
		status int    // the expected HTTP status
	}{
		{name: "10,000 characters", text: longText, status: 200},
		{name: "emoji", text: "🚧🔥💡 路灯 👍🏽👨‍👩‍👧", status: 200},
		{name: "mixed scripts", text: "路灯 lamp مصباح फ़ानूस 가로등 ランプ Лампа", status: 200},
		{name: "right-to-left override and zero-width", text: "路灯\u202e坏了\u200b\ufeff", status: 200},
		{name: "control characters", text: "路灯\x01\x02\x1b[31m坏了\x7f\t\r", status: 200},
		{name: "invalid UTF-8", text: "路灯\xff\xfe坏了\xc3", status: 200},
		{name: "CDATA end inside", text: "]]><xml>注入</xml>", status: 200},
		{name: "only spaces", text: "   \u3000  ", status: 200},
		{name: "empty", text: "", status: 200},
		{name: "oversized body", raw: "<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>" + strings.Repeat("a", 70<<10) + "</Content></xml>", status: 413},
		{name: "deeply nested", raw: "<xml>" + strings.Repeat("<a>", 5000) + strings.Repeat("</a>", 5000) + "</xml>", status: 400},
		{name: "entity expansion", raw: `<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>&b;</Content></xml>`, status: 400},
		{name: "not XML", raw: "{\"json\": true}", status: 400},
		{name: "truncated", raw: "<xml><FromUserName>o</FromUser", status: 400},
	}
	for _, mode := range []struct {
		name string
		safe bool
	}{{"plain", false}, {"safe", true}} {
		t.Run(mode.name, func(t *testing.T) {
			r := boot(t, rigOptions{safeMode: mode.safe})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for i, tc := range cases {
				for _, where := range []string{"outside a dialog", "as the description"} {
					openid := fmt.Sprintf("oresident-hostile-%d-%d", i, len(where))
					if where == "as the description" {
						if tc.raw != "" {
							continue
						}
						for _, text := range []string{"报事", "2"} {
							r.say(openid, text)
						}
					}
					m := wechatsim.OutgoingMessage{MsgType: "text", Content: tc.text}
					if tc.raw != "" {
						m = wechatsim.OutgoingMessage{Raw: []byte(tc.raw)}
					}
					start := time.Now()
					res, err := r.sim.Post(ctx, openid, m)
					took := time.Since(start)
					if err != nil && tc.status == 200 {
						t.Errorf("%s, %s: %v", tc.name, where, err)
						continue
					}
					if res.Status != tc.status {
						t.Errorf("%s, %s: status %d, want %d (%s)", tc.name, where, res.Status, tc.status, res.Body)
						continue
					}
					if took > 2*time.Second {
						t.Errorf("%s, %s: the answer took %s", tc.name, where, took)
					}
					if tc.status != http.StatusOK {
						continue
					}
					if res.Reply == "" || !utf8.ValidString(res.Reply) || len(res.Reply) > 2048 {
						t.Errorf("%s, %s: reply of %d bytes: %q", tc.name, where, len(res.Reply), res.Reply)
					}
					if where == "as the description" && strings.TrimSpace(strings.ToValidUTF8(tc.text, "")) != "" &&
						!strings.Contains(res.Reply, "位置") && !strings.Contains(res.Reply, "描述") {
						t.Errorf("%s, %s: the dialog did not go on: %q", tc.name, where, res.Reply)
					}
				}
			}
			// The dialog with the 10,000 characters files a clean, bounded case.
			openid := "oresident-hostile-file"
			for _, text := range []string{"报事", "2", longText + "\x01\xff"} {
				r.say(openid, text)
			}
			r.sim.SendLocation(ctx, openid, 22.355, 112.545, "石桥\x00村口")
			r.say(openid, "跳过")
			m := caseNumber.FindStringSubmatch(r.say(openid, "确认"))
			if m == nil {
				t.Fatal("the long description filed no case")
			}
			admin := r.login("town-admin")
			var view struct {
				Case struct {
					Text string `json:"text"`
				} `json:"case"`
			}
			if status := admin.get("/api/cases/"+m[1], &view); status != 200 {
				t.Fatalf("case %s: %d", m[1], status)
			}
			if n := utf8.RuneCountInString(view.Case.Text); n == 0 || n > 2000 || strings.ContainsAny(view.Case.Text, "\x00\x01\ufffd") {
				t.Errorf("stored description of %d characters: %q…", n, view.Case.Text[:min(len(view.Case.Text), 60)])
			}
		})
	}
}
