package routing

import (
	"strings"

	"gridbot/core"
)

// Who is told of the desk's steps (issue 18): the handler of an urged or
// expedited case, the residents of a merged case and the handler of its
// survivor, and a bound resident a case was filed for. Internal notes are
// told to nobody.

// deskNotices lists the pushes a desk event on case c calls for.
func deskNotices(town *core.Town, ev core.Event, c *core.Case) []outgoing {
	staff := func(title, text string) []outgoing {
		var out []outgoing
		seen := map[string]bool{}
		for _, id := range handlers(town, c) {
			if !seen[id] {
				seen[id] = true
				out = append(out, outgoing{id, core.Notice{Title: title, Text: text, Case: c.Number}})
			}
		}
		return out
	}
	switch ev.Kind {
	case core.EventUrged:
		text := caseCard(town, c)
		if ev.Text != "" {
			text += "\n催办意见：" + ev.Text
		}
		return staff("催办：请尽快办理（第"+ev.Data[core.DataCount]+"次）", text+"\n"+leaderHint)
	case core.EventExpedited:
		return staff("事项已加急，办理期限提前", caseCard(town, c)+"\n加急理由："+ev.Text)
	case core.EventMergedIn:
		return staff("相同事项已并入", "编号"+ev.Data[core.DataFrom]+"与本事项是同一问题，已并入本事项，"+
			"其居民一并跟进本事项的办理。\n"+caseCard(town, c))
	case core.EventMerged:
		into := ev.Data[core.DataInto]
		n := core.Notice{Title: "您反映的事项已合并办理", Case: c.Number,
			Text: "经核实，与编号" + into + "的事项是同一问题，已合并办理。进展会继续在这里通知您，办结后请为结果评分。"}
		out := []outgoing{{core.ActorResident, withTo(n, c.Resident)}}
		for _, openid := range c.Joined {
			out = append(out, outgoing{core.ActorJoinedPrefix + openid, withTo(n, openid)})
		}
		return out
	}
	return nil
}

func withTo(n core.Notice, to string) core.Notice {
	n.To = to
	return n
}

// handlers are who work a case now: its assignee, and the departments
// called to it that have not given it back.
func handlers(town *core.Town, c *core.Case) []string {
	out := []string{c.Assignee}
	for _, a := range c.Departments {
		if a.State != core.AssistReturned {
			out = append(out, ids(town.StaffWhere(inDept(a.Department)))...)
		}
	}
	return slicesCompact(out)
}

func slicesCompact(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// filedForNotice tells a bound resident that staff filed their case (代录),
// when it reaches its grid.
func filedForNotice(town *core.Town, ev core.Event, c *core.Case) []outgoing {
	if ev.Kind != core.EventAssigned || c.Channel == "" || c.Resident == "" || core.IsOfflineResident(c.Resident) {
		return nil
	}
	how := "电话"
	if c.Channel == core.IntakeWalkIn {
		how = "来访"
	}
	return []outgoing{{core.ActorResident, core.Notice{To: c.Resident, Case: c.Number, Title: "您反映的事项已登记",
		Text: "您" + how + "反映的问题已由工作人员登记，编号" + c.Number + "，已交给" + town.PlaceName(c.Grid) +
			"办理，进展会在这里通知您。"}}}
}

// withoutOffline drops the pushes to residents with no WeChat (a case filed
// for someone who phoned or walked in and is not bound): nobody to reach.
func withoutOffline(outs []outgoing) []outgoing {
	kept := outs[:0]
	for _, o := range outs {
		toResident := o.to == core.ActorResident || strings.HasPrefix(o.to, core.ActorJoinedPrefix)
		if toResident && core.IsOfflineResident(o.notice.To) {
			continue
		}
		kept = append(kept, o)
	}
	return kept
}

// deskStateWord is what a desk event did, in at most 5 Chinese characters.
func deskStateWord(k core.EventKind) (string, bool) {
	switch k {
	case core.EventUrged:
		return "催办", true
	case core.EventExpedited:
		return "加急", true
	case core.EventMerged, core.EventMergedIn:
		return "合并办理", true
	}
	return "", false
}
