package core_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"gridbot/core"
)

// An address reads back as written; a WeChat openid stays bare, as every
// record made before other channels has it.
func TestAddressRoundTrip(t *testing.T) {
	for _, a := range []core.Address{
		{Channel: core.ChannelWeChat, ID: "o-abc"},
		{Channel: core.ChannelWeCom, ID: "ZhangWei"},
		{Channel: "hotline", ID: "12345"},
	} {
		if got := core.ParseAddress(a.String()); got != a {
			t.Errorf("%+v → %q → %+v", a, a.String(), got)
		}
	}
	if s := (core.Address{Channel: core.ChannelWeChat, ID: "o-abc"}).String(); s != "o-abc" {
		t.Errorf("a WeChat address is written %q, want the bare openid", s)
	}
}

// A staff member is reached where they prefer, else in the wiring's order,
// on the directory's addresses and the ones they bound with a code; a
// WeCom userid and a WeChat openid lead to the same person.
func TestRosterAddressesByPreference(t *testing.T) {
	ctx := context.Background()
	l, _, st := residentLedger(t)
	base := *l.Town.Town()
	base.Staff = slices.Clone(base.Staff)
	var leader, cadre *core.Staff
	for i := range base.Staff {
		switch base.Staff[i].ID {
		case "gl-L10-a":
			leader = &base.Staff[i]
		case "v01-cadre":
			cadre = &base.Staff[i]
		}
	}
	leader.Addresses = map[core.Channel]string{core.ChannelWeChat: "o-leader", core.ChannelWeCom: "leader10"}
	cadre.Addresses = map[core.Channel]string{core.ChannelWeChat: "o-cadre", core.ChannelWeCom: "cadre01"}
	cadre.Prefers = core.ChannelWeChat
	town, err := core.NewTown(base)
	if err != nil {
		t.Fatal(err)
	}
	r := &core.Roster{Town: town, Records: st, Keys: st, Channels: []core.Channel{core.ChannelWeCom, core.ChannelWeChat}}

	want := map[string][]core.Address{
		"gl-L10-a":  {{Channel: core.ChannelWeCom, ID: "leader10"}, {Channel: core.ChannelWeChat, ID: "o-leader"}},
		"v01-cadre": {{Channel: core.ChannelWeChat, ID: "o-cadre"}, {Channel: core.ChannelWeCom, ID: "cadre01"}},
	}
	for id, w := range want {
		got, err := r.Addresses(ctx, id)
		if err != nil || !slices.Equal(got, w) {
			t.Errorf("%s: %v %v, want %v", id, got, err, w)
		}
	}
	// Where WeCom does not run, only WeChat is tried.
	wechatOnly := &core.Roster{Town: town, Records: st, Keys: st}
	if got, _ := wechatOnly.Addresses(ctx, "gl-L10-a"); !slices.Equal(got, want["gl-L10-a"][1:]) {
		t.Errorf("WeChat alone: %v", got)
	}
	for from, id := range map[string]string{"wecom:leader10": "gl-L10-a", "o-leader": "gl-L10-a", "wecom:o-leader": "", "leader10": ""} {
		s, err := r.StaffFrom(ctx, from)
		if err != nil || (s == nil) != (id == "") || (s != nil && s.ID != id) {
			t.Errorf("from %q: %v %v, want %q", from, s, err, id)
		}
	}

	// A member without a WeCom userid binds one with a code from the town;
	// the same code cannot bind it again, another member's userid cannot be
	// taken, and the directory's userid cannot be replaced.
	code, err := r.IssueBindCode(ctx, "gl-L11-a")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := r.Bind(ctx, "wecom:li11", code); err != nil || s.ID != "gl-L11-a" {
		t.Fatalf("bind on WeCom: %v %v", s, err)
	}
	if got, _ := r.Addresses(ctx, "gl-L11-a"); len(got) == 0 || got[0] != (core.Address{Channel: core.ChannelWeCom, ID: "li11"}) {
		t.Errorf("after binding WeCom: %v", got)
	}
	if s, _ := r.StaffFrom(ctx, "wecom:li11"); s == nil || s.ID != "gl-L11-a" {
		t.Errorf("the bound userid reads as %v", s)
	}
	if _, err := r.Bind(ctx, "wecom:li11-other", code); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("a spent code: %v", err)
	}
	code, _ = r.IssueBindCode(ctx, "gl-L12-a")
	if _, err := r.Bind(ctx, "wecom:leader10", code); !errors.Is(err, core.ErrConflict) {
		t.Errorf("another member's userid: %v", err)
	}
	code, _ = r.IssueBindCode(ctx, "gl-L10-a")
	if _, err := r.Bind(ctx, "wecom:someone-else", code); !errors.Is(err, core.ErrConflict) {
		t.Errorf("replacing the directory's userid: %v", err)
	}
	// A member chooses their channel (通知走微信 / 通知走企业微信): it
	// outranks the directory's order and prefers, the other stays the
	// fallback; a channel they have no address on, or that does not run,
	// is refused and changes nothing.
	if err := r.SetPrefers(ctx, "gl-L10-a", core.ChannelWeChat); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Addresses(ctx, "gl-L10-a"); !slices.Equal(got, []core.Address{want["gl-L10-a"][1], want["gl-L10-a"][0]}) {
		t.Errorf("after choosing WeChat: %v", got)
	}
	if err := r.SetPrefers(ctx, "v01-cadre", core.ChannelWeCom); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Addresses(ctx, "v01-cadre"); !slices.Equal(got, []core.Address{want["v01-cadre"][1], want["v01-cadre"][0]}) {
		t.Errorf("the directory's prefers: wechat, then the choice of WeCom: %v", got)
	}
	if err := r.SetPrefers(ctx, "gl-L12-a", core.ChannelWeCom); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("WeCom without a userid: %v", err)
	}
	if err := wechatOnly.SetPrefers(ctx, "v01-cadre", core.ChannelWeCom); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("WeCom where it does not run: %v", err)
	}
	if err := r.SetPrefers(ctx, "nobody", core.ChannelWeChat); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("no such member: %v", err)
	}
	if p, _ := r.Prefers(ctx, "gl-L12-a"); p != "" {
		t.Errorf("a refused choice was kept: %q", p)
	}
	// The case last pushed is the person's, whichever channel asks.
	if err := r.SetLastCase(ctx, "gl-L10-a", "ST1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.LastCase(ctx, "gl-L10-a"); got != "ST1" {
		t.Errorf("last case %q", got)
	}
}

// The directory refuses an address two members share, or one with a colon
// (it would read as another channel).
func TestTownRefusesBadAddresses(t *testing.T) {
	l, _, _ := residentLedger(t)
	for name, edit := range map[string]func(s []core.Staff){
		"shared userid": func(s []core.Staff) {
			s[0].Addresses = map[core.Channel]string{core.ChannelWeCom: "same"}
			s[1].Addresses = map[core.Channel]string{core.ChannelWeCom: "same"}
		},
		"colon": func(s []core.Staff) { s[0].Addresses = map[core.Channel]string{core.ChannelWeCom: "wecom:x"} },
	} {
		base := *l.Town.Town()
		base.Staff = slices.Clone(base.Staff)
		edit(base.Staff)
		if _, err := core.NewTown(base); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
