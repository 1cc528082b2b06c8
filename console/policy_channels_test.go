package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"gridbot/core"
	"gridbot/dialogs"
)

// channelTown is testTown with post B held by someone else on g1, a second
// village's cadre, a second department, and an openid for every member, so
// that the same people can act from the console and from their chat.
func channelTown(t *testing.T) *core.Town {
	t.Helper()
	base := *testTown(t)
	base.Grids = append([]core.Grid(nil), base.Grids...)
	base.Grids[0].LeaderB = "lead3"
	base.Staff = append(append([]core.Staff(nil), base.Staff...),
		core.Staff{ID: "lead3", Name: "冯网格", Role: core.RoleGridLeader, Village: "v1"},
		core.Staff{ID: "cadre2", Name: "陈主任", Role: core.RoleVillage, Village: "v2"},
		core.Staff{ID: "dept2", Name: "吴民警", Role: core.RoleDepartment, Department: "pcs"},
	)
	for i := range base.Staff {
		s := &base.Staff[i]
		s.Addresses = map[core.Channel]string{core.ChannelWeChat: "o-" + s.ID}
		if s.PasswordHash == "" {
			h, err := bcrypt.GenerateFromPassword([]byte(password(s.ID)), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			s.PasswordHash = string(h)
		}
	}
	town, err := core.NewTown(base)
	if err != nil {
		t.Fatal(err)
	}
	return town
}

// TestPolicySameOnEveryChannel runs the role × step × state table through
// the console's API and through chat commands, and requires from both what
// the pure policy decides: the step done, the case not found (it is not the
// sender's to see), or refused with the policy's own words.
func TestPolicySameOnEveryChannel(t *testing.T) {
	town := channelTown(t)
	f := newFixture(t, func(f *fixture) {
		f.town, f.srv.Town, f.ledger.Town = town, town, town
	})
	ctx := context.Background()
	roster := &core.Roster{Town: town, Records: f.store, Keys: f.store}
	desk := &dialogs.Desk{Town: town, Ledger: f.ledger, Roster: roster, Keys: f.store, Now: func() time.Time { return t0 }}
	cookies := map[string]*http.Cookie{}
	roles := []string{"admin", "cadre1", "cadre2", "lead1", "lead3", "lead2", "dept1", "dept2"}
	for _, id := range roles {
		cookies[id] = f.login(t, id)
	}

	// Each state a case can be in when someone acts on it, reached on g1
	// with 城建办 (dept1) called.
	states := []struct {
		name  string
		steps func(resident, number string) error
	}{
		{"assigned", func(string, string) error { return nil }},
		{"accepted", func(_, n string) error { _, _, err := f.ledger.Accept(ctx, n, "lead1"); return err }},
		{"signed", func(_, n string) error { _, _, err := f.ledger.Sign(ctx, n, "dept1"); return err }},
		{"returned", func(_, n string) error { _, _, err := f.ledger.Return(ctx, n, "dept1", "不归我们管"); return err }},
		{"resolved", func(_, n string) error { _, _, err := f.ledger.Resolve(ctx, n, "lead1", "已修好"); return err }},
		{"extension asked", func(_, n string) error {
			_, _, err := f.ledger.AskChange(ctx, n, "lead1", core.TermChange{Kind: core.ChangeExtend, Days: 2, Reason: "等配件"})
			return err
		}},
		{"paused", func(_, n string) error {
			if _, _, err := f.ledger.AskChange(ctx, n, "lead1", core.TermChange{Kind: core.ChangePause, Reason: "等判决"}); err != nil {
				return err
			}
			_, _, err := f.ledger.DecideChange(ctx, n, "admin", true, "")
			return err
		}},
		{"closed", func(r, n string) error {
			if _, _, err := f.ledger.Resolve(ctx, n, "lead1", "已修好"); err != nil {
				return err
			}
			_, err := f.ledger.Rate(ctx, r, 5)
			return err
		}},
		// The grid's own work (issue 19): on the meeting's list, decided with
		// a milestone, and a low rating leaving a callback due.
		{"tabled", func(_, n string) error { _, _, err := f.ledger.Table(ctx, n, "lead1", "缺资金"); return err }},
		{"convened", func(_, n string) error {
			if _, _, err := f.ledger.Table(ctx, n, "lead1", "缺资金"); err != nil {
				return err
			}
			_, _, err := f.ledger.Convene(ctx, n, "admin", core.Decision{Leader: "cadre2", Help: "镇里拨款",
				Milestones: []core.Milestone{{Text: "出方案", Due: t0.Add(72 * time.Hour)}}})
			return err
		}},
		{"callback due", func(r, n string) error {
			if _, _, err := f.ledger.Resolve(ctx, n, "lead1", "已修好"); err != nil {
				return err
			}
			_, err := f.ledger.Rate(ctx, r, 2)
			return err
		}},
	}
	residents := 0
	newCase := func(t *testing.T, state int) core.Case {
		t.Helper()
		residents++
		resident := fmt.Sprintf("o-resident-%d", residents) // each case its own, for Rate to find
		c, err := f.ledger.Submit(ctx, resident, core.Draft{Category: "road", Text: "村口路灯坏了", Grid: "g1"})
		if err != nil {
			t.Fatal(err)
		}
		n := c.Number
		if _, _, err := f.ledger.Assign(ctx, n); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.ledger.Whistle(ctx, n, "admin", "cj", "灯杆要换"); err != nil {
			t.Fatal(err)
		}
		if err := states[state].steps(resident, n); err != nil {
			t.Fatalf("to %s: %v", states[state].name, err)
		}
		c, err = f.store.Case(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	steps := []struct {
		step core.Step
		body actionBody
		chat string // %s is the case number
	}{
		{core.StepAccept, actionBody{}, "受理 %s"},
		{core.StepReply, actionBody{Text: "明天来修"}, "回复 %s 明天来修"},
		{core.StepResolve, actionBody{Result: "已更换灯泡"}, "办结 %s 已更换灯泡"},
		{core.StepWhistle, actionBody{Department: "pcs", Reason: "有人偷电缆"}, "吹哨 %s 派出所 有人偷电缆"},
		{core.StepTransfer, actionBody{}, "转B %s"},
		{core.StepSign, actionBody{}, "领办 %s"},
		{core.StepReturn, actionBody{Reason: "不归我们管"}, "退回 %s 不归我们管"},
		{core.StepAskChange, actionBody{Change: "extend", Days: 3, Reason: "等配件"}, "延期 %s 3 等配件"},
		{core.StepDecide, actionBody{Approve: true}, "同意 %s"},
		{core.StepResume, actionBody{}, "恢复 %s"},
		{core.StepCallback, actionBody{Reached: true, Satisfied: true, Note: "居民满意"}, "回访 %s 已联系 满意 居民满意"},
		{core.StepInstruct, actionBody{Text: "三天内修好"}, "批示 %s 三天内修好"},
		{core.StepTable, actionBody{Reason: "缺资金"}, "会商 %s 缺资金"},
		{core.StepMilestone, actionBody{Note: "方案已出"}, "节点完成 %s 方案已出"},
		{core.StepConvene, actionBody{Leader: "cadre2", Help: "镇里拨款", Milestones: []milestoneBody{{Text: "出方案", Due: "2026-11-28"}}},
			"会商决定 %s 挂钩领导 陈主任；帮办 镇里拨款；11-28 出方案"},
		{core.StepMediate, actionBody{Parties: "甲、乙", Mediators: "调解员", Outcome: "谈了一次"}, "调解 %s 当事人 甲、乙；调解人 调解员；谈了一次"},
		{core.StepMediationEnded, actionBody{MediationResult: core.MediationSettled}, "调解结果 %s 成功"},
	}

	// written tells whether the step left an event by the actor.
	written := func(t *testing.T, number string, before int, actor string) bool {
		t.Helper()
		evs, err := f.store.Events(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs[before:] {
			if ev.Actor == actor {
				return true
			}
		}
		return false
	}
	eventCount := func(t *testing.T, number string) int {
		evs, err := f.store.Events(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}

	seen := map[string]int{}
	for si := range states {
		for _, st := range steps {
			for _, id := range roles {
				name := fmt.Sprintf("%s/%s/%s", states[si].name, st.step, id)
				t.Run(name, func(t *testing.T) {
					staff := town.StaffMember(id)

					// What the policy decides on the case as it stands.
					c := newCase(t, si)
					want := "done"
					if err := town.Permit(staff, st.step, &c); errors.Is(err, core.ErrNotFound) {
						want = "not found"
					} else if err != nil {
						want, _ = core.RefusalReason(err)
					}
					seen[want]++

					// The console.
					before := eventCount(t, c.Number)
					resp, body := f.request(t, http.MethodPost, "/api/cases/"+c.Number+"/"+string(st.step), cookies[id], st.body)
					var gotConsole string
					switch {
					case resp.StatusCode == http.StatusOK && written(t, c.Number, before, id):
						gotConsole = "done"
					case resp.StatusCode == http.StatusNotFound:
						gotConsole = "not found"
					default:
						gotConsole = errorMessage(t, body)
					}

					// Chat, on a case in the same state.
					c = newCase(t, si)
					before = eventCount(t, c.Number)
					reply, ok, err := desk.Answer(ctx, core.Message{From: "o-" + id, Kind: core.MessageText,
						Text: fmt.Sprintf(st.chat, c.Number)})
					if err != nil || !ok {
						t.Fatalf("chat: %q %v %v", reply, ok, err)
					}
					var gotChat string
					switch {
					case written(t, c.Number, before, id):
						gotChat = "done"
					case strings.HasPrefix(reply, "没有找到编号"):
						gotChat = "not found"
					default:
						gotChat, _, _ = strings.Cut(reply, "\n")
					}

					if gotConsole != want || gotChat != want {
						t.Errorf("policy: %q\nconsole: %q\nchat:    %q (%q)", want, gotConsole, gotChat, reply)
					}
				})
			}
		}
	}
	t.Logf("outcomes: %v", seen)
	// The table is only a test if it meets every kind of answer.
	if seen["done"] == 0 || seen["not found"] == 0 || len(seen) < 6 {
		t.Errorf("the table met too few outcomes: %v", seen)
	}
}

// TestDeskPolicyOnConsole runs the desk's steps (notes, 催办, 加急, 合并)
// role × state through the console's API and requires what the pure policy
// decides: done, not found, or refused in the policy's words. They have no
// chat command: they are the desk's.
func TestDeskPolicyOnConsole(t *testing.T) {
	town := channelTown(t)
	f := newFixture(t, func(f *fixture) {
		f.town, f.srv.Town, f.ledger.Town = town, town, town
	})
	ctx := context.Background()
	roles := []string{"admin", "cadre1", "cadre2", "lead1", "lead3", "lead2", "dept1", "dept2"}
	cookies := map[string]*http.Cookie{}
	for _, id := range roles {
		cookies[id] = f.login(t, id)
	}
	residents := 0
	newCase := func(t *testing.T, state string) core.Case {
		t.Helper()
		residents++
		resident := fmt.Sprintf("o-desk-%d", residents)
		c, err := f.ledger.Submit(ctx, resident, core.Draft{Category: "road", Text: "村口路灯坏了", Grid: "g1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.ledger.Assign(ctx, c.Number); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.ledger.Whistle(ctx, c.Number, "admin", "cj", "灯杆要换"); err != nil {
			t.Fatal(err)
		}
		switch state {
		case "returned":
			_, _, err = f.ledger.Return(ctx, c.Number, "dept1", "不归我们管")
		case "resolved":
			_, _, err = f.ledger.Resolve(ctx, c.Number, "lead1", "已修好")
		case "urgent":
			_, _, err = f.ledger.MarkUrgent(ctx, c.Number, "admin", "急")
		}
		if err != nil {
			t.Fatal(err)
		}
		c, _ = f.store.Case(ctx, c.Number)
		return c
	}
	survivor := newCase(t, "assigned")
	steps := []struct {
		step core.Step
		body actionBody
	}{
		{core.StepNote, actionBody{Text: "已联系居民"}},
		{core.StepUrge, actionBody{Text: "请尽快"}},
		{core.StepUrgent, actionBody{Reason: "学生必经之路"}},
		{core.StepMerge, actionBody{Into: survivor.Number, Reason: "同一盏灯"}},
	}
	seen := map[string]int{}
	for _, state := range []string{"assigned", "returned", "resolved", "urgent"} {
		for _, st := range steps {
			for _, id := range roles {
				t.Run(state+"/"+string(st.step)+"/"+id, func(t *testing.T) {
					c := newCase(t, state)
					want := "done"
					if err := town.Permit(town.StaffMember(id), st.step, &c); errors.Is(err, core.ErrNotFound) {
						want = "not found"
					} else if err != nil {
						want, _ = core.RefusalReason(err)
					}
					seen[want]++
					evs, _ := f.store.Events(ctx, c.Number)
					resp, body := f.request(t, http.MethodPost, "/api/cases/"+c.Number+"/"+string(st.step), cookies[id], st.body)
					after, _ := f.store.Events(ctx, c.Number)
					got := errorMessage(t, body)
					switch {
					case resp.StatusCode == http.StatusOK && len(after) > len(evs) && after[len(after)-1].Actor == id:
						got = "done"
					case resp.StatusCode == http.StatusNotFound:
						got = "not found"
					}
					if got != want {
						t.Errorf("policy %q, console %q (%d)", want, got, resp.StatusCode)
					}
				})
			}
		}
	}
	t.Logf("outcomes: %v", seen)
	if seen["done"] == 0 || seen["not found"] == 0 || len(seen) < 5 {
		t.Errorf("the table met too few outcomes: %v", seen)
	}
}
