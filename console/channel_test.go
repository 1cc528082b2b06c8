package console

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"gridbot/core"
)

// A staff member chooses the channel their notices try first on the
// console, as in chat: only one they are bound on; the system administrator
// sets it for others and lists everyone's; nobody else may; a channel
// that does not exist is refused and nothing changes.
func TestChannelChoice(t *testing.T) {
	f := newFixture(t, withBook(t))
	ctx := context.Background()
	f.srv.Roster.Channels = []core.Channel{core.ChannelWeCom, core.ChannelWeChat}
	for _, a := range []string{"o-lead1", "wecom:zhang1", "o-lead2"} {
		id := "lead1"
		if a == "o-lead2" {
			id = "lead2"
		}
		code, err := f.srv.Roster.IssueBindCode(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.srv.Roster.Bind(ctx, a, code); err != nil {
			t.Fatal(err)
		}
	}
	lead1 := f.login(t, "lead1")
	read := func(body []byte) channelsView {
		var v channelsView
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return v
	}
	resp, body := f.request(t, http.MethodGet, "/api/me/channel", lead1, nil)
	if v := read(body); resp.StatusCode != 200 || v.First != core.ChannelWeCom || v.Prefers != "" || len(v.Channels) != 2 || !v.Channels[0].Bound || !v.Channels[1].Bound {
		t.Fatalf("lead1's channels: %d %s", resp.StatusCode, body)
	}
	resp, body = f.request(t, http.MethodPost, "/api/me/channel", lead1, map[string]string{"channel": "wechat"})
	if v := read(body); resp.StatusCode != 200 || v.First != core.ChannelWeChat || v.Prefers != core.ChannelWeChat {
		t.Fatalf("lead1 chooses WeChat: %d %s", resp.StatusCode, body)
	}
	if as, _ := f.srv.Roster.Addresses(ctx, "lead1"); len(as) != 2 || as[0].Channel != core.ChannelWeChat || as[1].Channel != core.ChannelWeCom {
		t.Errorf("lead1's addresses after choosing WeChat: %v", as)
	}
	for _, bad := range []struct {
		who, path, channel string
		want               int
		msg                string
	}{
		{"lead1", "/api/me/channel", "sms", 400, msgChannelUnknown},
		{"lead2", "/api/me/channel", "wecom", 400, msgChannelUnbound},
		{"lead2", "/api/staff/lead1/channel", "wecom", 404, ""}, // the administration is not there for them
		{"sysadm", "/api/staff/lead2/channel", "wecom", 400, msgChannelUnbound},
		{"sysadm", "/api/staff/nobody/channel", "wecom", 404, msgStaffNotFound},
	} {
		resp, body := f.request(t, http.MethodPost, bad.path, f.login(t, bad.who), map[string]string{"channel": bad.channel})
		if resp.StatusCode != bad.want || bad.msg != "" && errorMessage(t, body) != bad.msg {
			t.Errorf("%s %s %s: %d %s", bad.who, bad.path, bad.channel, resp.StatusCode, body)
		}
	}
	if p, _ := f.srv.Roster.Prefers(ctx, "lead2"); p != "" {
		t.Errorf("a refused choice was kept: %q", p)
	}
	admin := f.login(t, "sysadm")
	resp, body = f.request(t, http.MethodPost, "/api/staff/lead1/channel", admin, map[string]string{"channel": "wecom"})
	if v := read(body); resp.StatusCode != 200 || v.First != core.ChannelWeCom {
		t.Fatalf("the administrator sets lead1 to WeCom: %d %s", resp.StatusCode, body)
	}
	resp, body = f.request(t, http.MethodGet, "/api/staff/channels", admin, nil)
	var all struct{ Staff map[string]channelsView }
	if err := json.Unmarshal(body, &all); resp.StatusCode != 200 || err != nil || all.Staff["lead1"].Prefers != core.ChannelWeCom ||
		all.Staff["lead2"].First != core.ChannelWeChat || all.Staff["lead2"].Channels[0].Bound {
		t.Errorf("everyone's channels: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.request(t, http.MethodGet, "/api/staff/channels", lead1, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a grid leader lists everyone's channels: %d", resp.StatusCode)
	}
}
