package dialogs

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"gridbot/core"
)

// maxPassiveReply is the most a passive reply may carry: WeChat refuses a
// longer one and the resident sees "该公众号暂时无法提供服务".
const maxPassiveReply = 2048

// fuzzMessages turns a script into messages, one a line: "@lat,lng" is a
// location, "#" a photo, "!KEY" a menu click, "+" a follow, "-" an
// unfollow, anything else text (as the callback hands it over: valid UTF-8).
func fuzzMessages(script string) []core.Message {
	var out []core.Message
	for i, line := range strings.Split(script, "\n") {
		if i == 40 {
			break
		}
		m := core.Message{From: testResident, Kind: core.MessageText, Text: strings.ToValidUTF8(line, "\uFFFD")}
		switch {
		case strings.HasPrefix(line, "@"):
			var lat, lng float64
			for j, part := range strings.SplitN(line[1:], ",", 2) {
				var v float64
				json.Unmarshal([]byte(part), &v)
				if j == 0 {
					lat = v
				} else {
					lng = v
				}
			}
			m = core.Message{From: testResident, Kind: core.MessageLocation, Location: &core.Location{Point: core.Point{Lat: lat, Lng: lng}, Label: line}}
		case line == "#":
			m = core.Message{From: testResident, Kind: core.MessageImage, MediaID: "m", PicURL: "https://mmbiz.qpic.cn/x"}
		case strings.HasPrefix(line, "!"):
			m = core.Message{From: testResident, Kind: core.MessageEvent, Event: core.EventNameClick, EventKey: line[1:]}
		case line == "+":
			m = core.Message{From: testResident, Kind: core.MessageEvent, Event: core.EventNameSubscribe}
		case line == "-":
			m = core.Message{From: testResident, Kind: core.MessageEvent, Event: core.EventNameUnsubscribe}
		}
		out = append(out, m)
	}
	return out
}

// FuzzDialogInput runs arbitrary conversations through the resident's
// dialogs, with the session saved and loaded between messages as in
// production. Every message must get an answer that WeChat accepts as a
// passive reply (valid UTF-8, at most 2048 bytes; text always answered),
// without a panic or an error, and the session must survive its JSON.
func FuzzDialogInput(f *testing.F) {
	for _, s := range []string{
		"报事\n2\n路灯坏了\n@22.355,112.565\n跳过\n确认",
		"报事\n1\n" + strings.Repeat("很长的描述😀", 400) + "\n返回\n返回\n取消",
		"报事\n99\n-1\n0\n道路\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n@NaN,Inf\n@1e308,-1e308\n修改\n确认",
		"!REPORT\n!MINE\n!HELP\n!\n+\n-\n我的\n帮助",
		"报事\n2\n\x00\x01\x1b[31m\u202e\ufeff\n\u200b\n確認\nＯＫ\n１\n13812345678\n确认",
		"报事\n2\nمرحبا שלום नमस्ते 안녕 こんにちは\n1\n1\n跳过\n修改\n3\n1\n确认",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		h := newHarness(t)
		ctx := context.Background()
		for i, m := range fuzzMessages(script) {
			reply, err := h.svc.Respond(ctx, m)
			if err != nil {
				t.Fatalf("message %d (%+v): %v", i, m, err)
			}
			if !utf8.ValidString(reply) {
				t.Fatalf("message %d: reply is not valid UTF-8: %q", i, reply)
			}
			if len(reply) > maxPassiveReply {
				t.Fatalf("message %d (%q): a reply of %d bytes, over WeChat's %d", i, m.Text, len(reply), maxPassiveReply)
			}
			if m.Kind == core.MessageText && reply == "" {
				t.Fatalf("message %d: text %q got no answer", i, m.Text)
			}
			if raw, ok, _ := h.store.Get(ctx, SessionKey(testResident)); ok {
				var s Session
				if err := json.Unmarshal(raw, &s); err != nil {
					t.Fatalf("message %d: the saved session does not load: %v", i, err)
				}
			}
		}
	})
}
