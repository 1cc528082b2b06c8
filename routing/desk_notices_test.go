package routing

import (
	"strings"
	"testing"

	"gridbot/configs"
	"gridbot/core"
)

// The desk's steps, event by event: an urge and 加急 reach the handler and
// the department working on it, never the resident; a note reaches nobody;
// a merge tells the merged case's residents; a case filed for a bound
// resident tells them once it reaches its grid, and nothing is pushed to a
// resident with no WeChat.
func TestDeskNotices(t *testing.T) {
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	base := core.Case{Number: "ST0001", Category: "light", Grid: "L10", Village: "v10", Resident: "oresident",
		Assignee: "gl-L10-a", Post: core.PostA, Joined: []string{"oneighbour"}, Text: "路灯不亮"}
	offline := base
	offline.Resident, offline.Joined, offline.Channel = core.OfflineResident("ST", "13800138000"), nil, core.IntakePhone
	bound := base
	bound.Channel = core.IntakeWalkIn
	private := "居民电话13800138000，住三巷5号"
	for _, tt := range []struct {
		name string
		c    core.Case
		ev   core.Event
		want map[string]string // recipient → words that must appear
	}{
		{"a note tells nobody", base, core.Event{Kind: core.EventNoted, Actor: "v10-cadre", Text: private}, nil},
		{"an urge reaches the handler", base, core.Event{Kind: core.EventUrged, Actor: "v10-cadre", Text: "今天必须处理",
			Data: map[string]string{core.DataCount: "2"}}, map[string]string{"gl-L10-a": "第2次"}},
		{"加急 reaches the handler", base, core.Event{Kind: core.EventExpedited, Actor: "v10-cadre", Text: "学生必经之路"},
			map[string]string{"gl-L10-a": "学生必经之路"}},
		{"a merge tells who filed and who joined", base, core.Event{Kind: core.EventMerged, Actor: "v10-cadre", Text: private,
			Data: map[string]string{core.DataInto: "ST0009"}},
			map[string]string{core.ActorResident: "ST0009", "joined:oneighbour": "ST0009"}},
		{"the survivor's handler hears of the merge", base, core.Event{Kind: core.EventMergedIn, Actor: "v10-cadre",
			Data: map[string]string{core.DataFrom: "ST0002"}}, map[string]string{"gl-L10-a": "ST0002"}},
		{"a bound resident hears their case was filed", bound, core.Event{Kind: core.EventAssigned, Actor: core.ActorSystem,
			Data: map[string]string{core.DataAssignee: "gl-L10-a"}},
			map[string]string{core.ActorResident: "来访", "gl-L10-a": "新的群众诉求"}},
		{"nothing is pushed to a resident without WeChat", offline, core.Event{Kind: core.EventAccepted, Actor: "gl-L10-a"}, nil},
		{"nor when filed for them", offline, core.Event{Kind: core.EventAssigned, Actor: core.ActorSystem,
			Data: map[string]string{core.DataAssignee: "gl-L10-a"}}, map[string]string{"gl-L10-a": "新的群众诉求"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			for _, o := range noticesFor(town, tt.ev, &tt.c) {
				got[o.to] += o.notice.Title + "\n" + o.notice.Text + "\n"
				if strings.Contains(o.notice.Text, private) {
					t.Errorf("to %s: the private words %q", o.to, o.notice.Text)
				}
				if s := []rune(o.notice.Values[core.ValueState]); len(s) == 0 || len(s) > 5 {
					t.Errorf("to %s: state %q", o.to, string(s))
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("told %v, want %v", got, tt.want)
			}
			for to, w := range tt.want {
				if !strings.Contains(got[to], w) {
					t.Errorf("to %s: want %q in %q", to, w, got[to])
				}
			}
		})
	}
}
