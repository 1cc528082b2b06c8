package routing

import (
	"strings"
	"testing"

	"gridbot/configs"
	"gridbot/core"
)

// Who is told what, event by event, without a router: the rules are pure.
func TestNoticesFor(t *testing.T) {
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	const villageOfL10 = "v10-cadre"
	base := core.Case{Number: "ST0001", Category: "light", Grid: "L10", Village: "v10", Resident: "oresident",
		Assignee: "gl-L10-b", Post: core.PostB, Joined: []string{"oneighbour"}}
	private := "张三家门口，电话13800138000"
	for _, tt := range []struct {
		name string
		ev   core.Event
		// want and never are, per recipient, words that must (not) appear.
		want, never map[string][]string
	}{
		{"accepted by post B names B, never A",
			core.Event{Kind: core.EventAccepted, Actor: "gl-L10-b"},
			map[string][]string{core.ActorResident: {"司徒惠珍", "B岗"}, "joined:oneighbour": {"已受理"}},
			map[string][]string{core.ActorResident: {"何家豪"}, "joined:oneighbour": {"司徒惠珍"}}},
		{"accepted by post A names A",
			core.Event{Kind: core.EventAccepted, Actor: "gl-L10-a"},
			map[string][]string{core.ActorResident: {"何家豪"}},
			map[string][]string{core.ActorResident: {"司徒惠珍", "B岗"}}},
		{"a reply reaches the resident who filed, not who joined",
			core.Event{Kind: core.EventReplied, Actor: "gl-L10-b", Text: private},
			map[string][]string{core.ActorResident: {private}},
			map[string][]string{"joined:oneighbour": {""}}},
		{"a result: the joined are asked to rate, without the words",
			core.Event{Kind: core.EventResolved, Actor: "gl-L10-b", Text: private},
			map[string][]string{core.ActorResident: {private, "1-5"}, "joined:oneighbour": {"已办结", "1-5"}},
			map[string][]string{"joined:oneighbour": {private}}},
		{"a leader's extension goes to the village, not the resident",
			core.Event{Kind: core.EventChangeAsked, Actor: "gl-L10-b", Text: "等配件",
				Data: map[string]string{core.DataChange: "extend", core.DataDays: "3", core.DataAskedBy: "gl-L10-b"}},
			map[string][]string{villageOfL10: {"延期3个工作日", "等配件", "同意 ST0001"}},
			map[string][]string{core.ActorResident: {""}, "town-admin": {""}}},
		{"a village's own pause goes to the town",
			core.Event{Kind: core.EventChangeAsked, Actor: villageOfL10, Text: "等判决",
				Data: map[string]string{core.DataChange: "pause", core.DataAskedBy: villageOfL10}},
			map[string][]string{"town-admin": {"挂起", "等判决"}},
			map[string][]string{villageOfL10: {""}}},
		{"an extension: the one who asked and the resident hear the new deadline, never the reason",
			core.Event{Kind: core.EventExtended, Actor: villageOfL10, Text: "同意",
				Data: map[string]string{core.DataChange: "extend", core.DataAskedBy: "gl-L10-b"}},
			map[string][]string{"gl-L10-b": {"办理期限延至"}, core.ActorResident: {"办理期限延至"}},
			map[string][]string{core.ActorResident: {"等配件"}}},
		{"a refusal goes back to the one who asked",
			core.Event{Kind: core.EventChangeRefused, Actor: villageOfL10, Text: "先联系供电所",
				Data: map[string]string{core.DataChange: "extend", core.DataAskedBy: "gl-L10-b"}},
			map[string][]string{"gl-L10-b": {"不同意延期", "先联系供电所"}},
			map[string][]string{core.ActorResident: {""}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			got := map[string][]string{}
			for _, o := range noticesFor(town, tt.ev, &c) {
				got[o.to] = append(got[o.to], o.notice.Title+"\n"+o.notice.Text)
			}
			for to, words := range tt.want {
				all := strings.Join(got[to], "\n")
				for _, w := range words {
					if len(got[to]) == 0 || !strings.Contains(all, w) {
						t.Errorf("to %s: want %q in %q", to, w, all)
					}
				}
			}
			for to, words := range tt.never {
				all := strings.Join(got[to], "\n")
				for _, w := range words {
					if w == "" && len(got[to]) > 0 || w != "" && strings.Contains(all, w) {
						t.Errorf("to %s: %q must not be told, got %q", to, w, all)
					}
				}
			}
		})
	}
}

// Every notice names its kind (which template carries it) and offers a
// state short enough for a phrase field (5 Chinese characters).
func TestEveryNoticeHasAKindAndValues(t *testing.T) {
	town, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	c := core.Case{Number: "ST0001", Category: "light", Grid: "L10", Village: "v10", Resident: "oresident",
		Assignee: "gl-L10-a", Post: core.PostA, Joined: []string{"oneighbour"}, Text: "路灯不亮"}
	kinds := []core.EventKind{core.EventAssigned, core.EventTransferred, core.EventReopened, core.EventAccepted,
		core.EventReplied, core.EventResolved, core.EventWhistled, core.EventSigned, core.EventSupplemented,
		core.EventWithdrawn, core.EventReturned, core.EventWarned, core.EventEscalated, core.EventClosed,
		core.EventChangeAsked, core.EventChangeRefused, core.EventExtended, core.EventPaused, core.EventResumed}
	seen := 0
	for _, k := range kinds {
		ev := core.Event{Kind: k, Actor: "gl-L10-a", Text: "已处理", Data: map[string]string{core.DataLevel: "grid"}}
		for _, o := range noticesFor(town, ev, &c) {
			seen++
			n := o.notice
			state := []rune(n.Values[core.ValueState])
			if n.Kind == "" || n.Values[core.ValueNumber] != "ST0001" || len(state) == 0 || len(state) > 5 {
				t.Errorf("%s to %s: kind %q values %v", k, o.to, n.Kind, n.Values)
			}
			toStaff := o.to != core.ActorResident && !strings.HasPrefix(o.to, core.ActorJoinedPrefix)
			if toStaff == (n.Kind == core.NoticeResidentProgress || n.Kind == core.NoticeRating) {
				t.Errorf("%s to %s went as %s", k, o.to, n.Kind)
			}
		}
	}
	if seen < len(kinds) {
		t.Fatalf("only %d notices for %d kinds of event", seen, len(kinds))
	}
}
