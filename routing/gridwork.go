package routing

import (
	"context"
	"errors"
	"strconv"
	"time"

	"gridbot/core"
)

// Notices of the grid's own work (issue 19): patrol reports, and what
// follows in core's gridwork files.

// withoutResident drops the pushes to the resident who filed: a case with
// no resident (a patrol report) has nobody to tell.
func withoutResident(outs []outgoing) []outgoing {
	kept := outs[:0]
	for _, o := range outs {
		if o.to != core.ActorResident {
			kept = append(kept, o)
		}
	}
	return kept
}

// foundTitle heads the push of a patrol report to whoever handles it.
func foundTitle(town *core.Town, c *core.Case) string {
	who := "网格"
	if s := town.StaffMember(c.Finder); s != nil {
		who = s.Name
	}
	return "网格主动发现的问题（" + who + "上报），请及时处理"
}

// gridWorkNotices lists the pushes the grid's own events call for.
func gridWorkNotices(town *core.Town, ev core.Event, c *core.Case) []outgoing {
	staff := func(ids []string, title, text string) []outgoing { return toStaff(c.Number, ids, title, text) }
	switch ev.Kind {
	case core.EventCallbackDue:
		due := ev.At
		if t, err := time.Parse(time.RFC3339, ev.Data[core.DataDue]); err == nil {
			due = t
		}
		return staff(villageOrTown(town, c), "回访任务："+core.CallbackLabel(ev.Data[core.DataReason]),
			caseCard(town, c)+"\n请在"+when(town, due)+"前联系居民回访。\n回复“回访 "+c.Number+" 已联系 满意”"+
				"或“回访 "+c.Number+" 已联系 不满意 情况”，联系不上回复“回访 "+c.Number+" 未联系上 原因”。")
	case core.EventInstructed:
		who := "镇领导"
		if s := town.StaffMember(ev.Actor); s != nil {
			who = s.Name
		}
		return staff(handlers(town, c), "督办批示："+who+"对事项作出批示，请抓紧办理",
			caseCard(town, c)+"\n批示："+ev.Text+"\n办理期限："+when(town, c.Deadline))
	case core.EventTabled:
		return staff(ids(town.StaffWhere(isRole(core.RoleTown))), "提请会商："+town.PlaceName(c.Grid),
			caseCard(town, c)+"\n提请理由："+ev.Text+"\n已列入镇工作会商议程。")
	case core.EventConvened:
		text := meetingText(town, c)
		return append(staff([]string{ev.Data[core.DataLeader]}, "会商决定：您是此事项的挂钩领导", text),
			staff(handlers(town, c), "会商决定：请按时间节点办理", text)...)
	case core.EventHouseholdLinked:
		return staff([]string{ev.Data[core.DataCadre]}, "您包联的农户反映了问题："+ev.Text,
			caseCard(town, c)+"\n包联户："+ev.Text+"\n可在工作台的包联农户里查看这户的走访和事项。")
	case core.EventMilestoneWarned:
		return staff(handlers(town, c), "时间节点临近："+ev.Text,
			"编号："+c.Number+"\n时间节点："+ev.Text+"，"+dueOf(town, ev)+"前完成。\n完成后请在工作台标记。")
	case core.EventMilestoneOverdue:
		who := append(handlers(town, c), ids(town.StaffWhere(isRole(core.RoleTown)))...)
		if c.Meeting != nil {
			who = append(who, c.Meeting.Leader)
		}
		return staff(who, "时间节点逾期："+ev.Text,
			"编号："+c.Number+"\n时间节点："+ev.Text+"，应于"+dueOf(town, ev)+"前完成，已逾期。\n请督促办理。")
	}
	return nil
}

// meetingText is the meeting's decision as its people read it.
func meetingText(town *core.Town, c *core.Case) string {
	text := caseCard(town, c)
	if m := c.Meeting; m != nil {
		leader := m.Leader
		if s := town.StaffMember(m.Leader); s != nil {
			leader = s.Name
		}
		text += "\n挂钩领导：" + leader + "\n帮办措施：" + m.Help
		for i, ms := range m.Milestones {
			text += "\n节点" + strconv.Itoa(i+1) + "：" + ms.Text + "（" + when(town, ms.Due) + "）"
		}
	}
	return text
}

func dueOf(town *core.Town, ev core.Event) string {
	if t, err := time.Parse(time.RFC3339, ev.Data[core.DataDue]); err == nil {
		return when(town, t)
	}
	return ""
}

// villageOrTown are the staff of the case's village, or the town's when
// the village has nobody.
func villageOrTown(town *core.Town, c *core.Case) []string {
	if v := ids(town.StaffWhere(inVillage(c.Village))); len(v) > 0 {
		return v
	}
	return ids(town.StaffWhere(isRole(core.RoleTown)))
}

// linkHousehold marks a new case that comes from a linked household (by
// the registered resident's phone or the address, core.LinkBook.Match), so
// its cadre is told (EventHouseholdLinked, above) and the household's file
// lists it. A redelivery finds it marked and does nothing.
func (h *Handlers) linkHousehold(ctx context.Context, ev core.Event) error {
	c, err := h.Ledger.Case(ctx, ev.Case)
	if err != nil {
		return err
	}
	hh, err := h.Links.Match(ctx, &c)
	if err != nil || hh == nil {
		return err
	}
	_, _, err = h.Ledger.LinkHousehold(ctx, c.Number, hh)
	if errors.Is(err, core.ErrNoChange) {
		return nil
	}
	return err
}
