package dialogs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gridbot/core"
)

// fakeBridge stands in for wecom.Photos.
type fakeBridge struct {
	asked []string // the case each photo was for
	fail  error
}

func (b *fakeBridge) Bridge(_ context.Context, m core.Message, number string) (core.Media, error) {
	b.asked = append(b.asked, number)
	if b.fail != nil {
		return core.Media{}, b.fail
	}
	return core.Media{MediaID: "wx-" + m.MediaID}, nil
}

// A staff member chooses their channel in either channel's chat: only one
// they are bound on and that runs here; the choice orders their addresses,
// the other channel staying the fallback; 帮助 tells of it only where
// there are two channels. Photos from WeCom go through the bridge, and
// reach the ledger as WeChat's; without a bridge, or when it fails, the
// sender is told and nothing is relayed.
func TestChannelChoiceAndWeComPhotos(t *testing.T) {
	r := newStaffRig(t)
	ctx := context.Background()
	desk := r.svc.Desk
	say := func(from, text string) string {
		t.Helper()
		reply, ok, err := desk.Answer(ctx, core.Message{From: from, Kind: core.MessageText, Text: text})
		if err != nil || !ok {
			t.Fatalf("%s %q: ok %v err %v", from, text, ok, err)
		}
		return reply
	}
	if got := say("o-zhang", "帮助"); strings.Contains(got, "通知走") {
		t.Errorf("帮助 where WeChat alone runs: %q", got)
	}
	if got := say("o-zhang", "通知走企业微信"); !strings.Contains(got, "没有开通企业微信") {
		t.Errorf("WeCom where it does not run: %q", got)
	}
	r.roster.Channels = []core.Channel{core.ChannelWeCom, core.ChannelWeChat}
	if got := say("o-zhang", "帮助"); !strings.Contains(got, "通知走企业微信 / 通知走微信") {
		t.Errorf("帮助 with two channels: %q", got)
	}
	if got := say("o-zhang", "通知走企业微信"); !strings.Contains(got, "还没有绑定企业微信") {
		t.Errorf("WeCom before binding it: %q", got)
	}
	code, err := r.roster.IssueBindCode(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	wecom := core.Address{Channel: core.ChannelWeCom, ID: "zhangwei"}.String()
	if got := say(wecom, "绑定 "+code); !strings.Contains(got, "绑定成功") {
		t.Fatalf("bind on WeCom: %q", got)
	}
	order := func() []core.Channel {
		as, err := r.roster.Addresses(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		var out []core.Channel
		for _, a := range as {
			out = append(out, a.Channel)
		}
		return out
	}
	if o := order(); len(o) != 2 || o[0] != core.ChannelWeCom {
		t.Errorf("bound on WeCom, no choice: %v", o)
	}
	for _, step := range []struct {
		from, say, want string
		first           core.Channel
	}{
		{"o-zhang", "通知走微信", "先发到微信；微信发不出时改发企业微信", core.ChannelWeChat},
		{wecom, "通知走企业微信", "先发到企业微信；企业微信发不出时改发微信", core.ChannelWeCom},
		{wecom, "通知走微信", "先发到微信", core.ChannelWeChat},
	} {
		if got := say(step.from, step.say); !strings.Contains(got, step.want) {
			t.Errorf("%s: %q", step.say, got)
		}
		if o := order(); o[0] != step.first {
			t.Errorf("after %s: %v", step.say, o)
		}
	}
	// Someone not staff gets no desk at all.
	if _, ok, _ := desk.Answer(ctx, core.Message{From: "wecom:stranger", Kind: core.MessageText, Text: "通知走微信"}); ok {
		t.Error("a stranger's 通知走微信 reached the desk")
	}

	// Photos from WeCom after 回复.
	c, err := r.ledger.Submit(ctx, testResident, core.Draft{Grid: "g1", Category: "env", Text: "路灯不亮"})
	if err != nil {
		t.Fatal(err)
	}
	if c, _, err = r.ledger.Assign(ctx, c.Number); err != nil || c.Assignee != "s1" {
		t.Fatalf("assign: %v %v", c.Assignee, err)
	}
	say(wecom, "受理 "+c.Number)
	if got := say(wecom, "回复 "+c.Number+" 马上到"); !strings.Contains(got, "已回复群众") {
		t.Fatalf("回复: %q", got)
	}
	photo := core.Message{From: wecom, Kind: core.MessageImage, MediaID: "2-abc", PicURL: "https://wework.qpic.cn/x"}
	if got, _, _ := desk.Answer(ctx, photo); !strings.Contains(got, "不能转给群众") {
		t.Errorf("a WeCom photo without a bridge: %q", got)
	}
	bridge := &fakeBridge{}
	desk.Photos = bridge
	if got, _, _ := desk.Answer(ctx, photo); !strings.Contains(got, "已把照片转给群众") {
		t.Errorf("a WeCom photo: %q", got)
	}
	bridge.fail = core.ErrInvalid
	if got, _, _ := desk.Answer(ctx, photo); !strings.Contains(got, "没能收下") {
		t.Errorf("a photo WeCom no longer has: %q", got)
	}
	bridge.fail = errors.New("wechat down")
	if got, _, _ := desk.Answer(ctx, photo); !strings.Contains(got, "稍后再发") {
		t.Errorf("WeChat down: %q", got)
	}
	bridge.fail = nil
	// A WeChat photo needs no bridge.
	say("o-zhang", "回复 "+c.Number+" 再补一张")
	if got, _, _ := desk.Answer(ctx, core.Message{From: "o-zhang", Kind: core.MessageImage, MediaID: "wxm"}); !strings.Contains(got, "已把照片转给群众") {
		t.Errorf("a WeChat photo: %q", got)
	}
	if len(bridge.asked) != 3 || bridge.asked[0] != c.Number {
		t.Errorf("the bridge was asked for %v", bridge.asked)
	}
	evs, err := r.ledger.CaseEvents(ctx, c.Number)
	if err != nil {
		t.Fatal(err)
	}
	var media []string
	for _, e := range evs {
		if e.Kind == core.EventReplied && e.Data[core.DataMedia] != "" {
			media = append(media, e.Data[core.DataMedia])
		}
	}
	if strings.Join(media, " ") != "wx-2-abc wxm" {
		t.Errorf("photos relayed: %v", media)
	}
}
