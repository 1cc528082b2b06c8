package routing

import (
	"fmt"
	"strings"
	"time"

	"gridbot/core"
)

// Who is told what (过程通报): the pure rules that turn a case event into
// the notices it calls for. How they are delivered is in delivery.go.

// outgoing is one push an event calls for: to the resident
// (core.ActorResident) or to a staff ID.
type outgoing struct {
	to     string
	notice core.Notice
}

// noticesFor lists the pushes event ev on case c calls for in town: to
// staff, to the resident who filed it and to those who joined it.
func noticesFor(town *core.Town, ev core.Event, c *core.Case) []outgoing {
	outs := notices(town, ev, c)
	outs = append(outs, deskNotices(town, ev, c)...)
	outs = append(outs, filedForNotice(town, ev, c)...)
	if c.Resident == "" {
		outs = withoutResident(outs) // a patrol report has nobody to tell (gridwork.go)
	}
	outs = append(outs, joinedNotices(ev, c, outs)...)
	outs = withoutOffline(outs)
	for i := range outs {
		withTemplate(town, ev, c, &outs[i])
	}
	return outs
}

// withTemplate gives o its kind of notice and the values a template may
// show: short, because a template field holds 20 characters at most; the
// whole story is on the case's page the template links to.
func withTemplate(town *core.Town, ev core.Event, c *core.Case, o *outgoing) {
	toStaff := o.to != core.ActorResident && !strings.HasPrefix(o.to, core.ActorJoinedPrefix)
	n := &o.notice
	cat := c.Category
	if k := town.Category(c.Category); k != nil {
		cat = k.Name
	}
	grid := c.Grid
	if g := town.Grid(c.Grid); g != nil {
		grid = g.Name
	}
	place := town.PlaceName(c.Grid)
	if c.Location != nil && c.Location.Label != "" {
		place += " " + c.Location.Label
	}
	v := map[string]string{
		core.ValueNumber:   c.Number,
		core.ValueCategory: cat,
		core.ValuePlace:    place,
		core.ValueGrid:     grid,
		core.ValueState:    stateWord(ev),
		core.ValueDeadline: c.Deadline.In(town.Zone()).Format(core.NoticeTimeLayout),
		core.ValueTime:     ev.At.In(town.Zone()).Format(core.NoticeTimeLayout),
		core.ValueHandler:  town.PlaceName(c.Grid),
	}
	switch ev.Kind {
	case core.EventAccepted:
		v[core.ValueHandler] = acceptedBy(town, ev, c)
	case core.EventWhistled, core.EventSigned, core.EventReturned:
		v[core.ValueHandler] = deptName(town, ev.Data[core.DataDept])
	}
	switch {
	case toStaff && (ev.Kind == core.EventWarned || ev.Kind == core.EventEscalated):
		n.Kind = core.NoticeWarning
		v[core.ValueSummary] = c.Text
	case toStaff:
		n.Kind = core.NoticeStaffCase
		v[core.ValueSummary] = c.Text
	case ev.Kind == core.EventResolved:
		n.Kind = core.NoticeRating
		v[core.ValueSummary] = "请为办理结果评分"
		v[core.ValueResult] = ev.Text
		if o.to != core.ActorResident {
			v[core.ValueResult] = "已办结" // never the words written to the resident who filed
		}
	default:
		n.Kind = core.NoticeResidentProgress
		v[core.ValueSummary] = firstLine(n.Text)
	}
	n.Values = v
}

// stateWord is what ev did, in at most 5 Chinese characters (a template's
// phrase field).
func stateWord(ev core.Event) string {
	switch ev.Kind {
	case core.EventAssigned:
		return "新交办"
	case core.EventTransferred:
		return "转交办理"
	case core.EventReopened:
		return "重新办理"
	case core.EventAccepted:
		return "已受理"
	case core.EventReplied:
		return "已回复"
	case core.EventResolved:
		return "已办结"
	case core.EventWhistled:
		return "部门协办"
	case core.EventSigned:
		return "部门领办"
	case core.EventSupplemented:
		return "群众补充"
	case core.EventWithdrawn:
		return "已撤回"
	case core.EventReturned:
		return "部门退回"
	case core.EventWarned:
		return "临期预警"
	case core.EventEscalated:
		return "超期督办"
	case core.EventClosed:
		return "已结案"
	case core.EventChangeAsked:
		return "申请调整"
	case core.EventChangeRefused:
		return "未获批准"
	case core.EventExtended:
		return "已延期"
	case core.EventPaused:
		return "已挂起"
	case core.EventResumed:
		return "恢复办理"
	}
	if w, ok := deskStateWord(ev.Kind); ok {
		return w
	}
	return "有进展"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// toStaff addresses one notice to each of the staff ids, once each and
// skipping empty ones (a post left vacant).
func toStaff(number string, ids []string, title, text string) []outgoing {
	var out []outgoing
	seen := map[string]bool{}
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, outgoing{id, core.Notice{Title: title, Text: text, Case: number}})
		}
	}
	return out
}

// notices lists the pushes to staff and to the resident who filed c.
func notices(town *core.Town, ev core.Event, c *core.Case) []outgoing {
	resident := func(title, text string) outgoing {
		return outgoing{core.ActorResident, core.Notice{To: c.Resident, Title: title, Text: text, Case: c.Number}}
	}
	staff := func(ids []string, title, text string) []outgoing { return toStaff(c.Number, ids, title, text) }
	dept := deptName(town, ev.Data[core.DataDept])
	switch ev.Kind {
	case core.EventAssigned:
		title := "新的群众诉求，请及时处理"
		if ev.Data[core.DataPost] == string(core.PostB) {
			title = "新的群众诉求（A岗不在，由您B岗接办）"
		}
		if c.Found() {
			title = foundTitle(town, c)
		}
		return staff([]string{c.Assignee}, title, caseCard(town, c)+"\n"+leaderHint)
	case core.EventTransferred:
		title := "A岗转交的群众诉求，请您B岗接办"
		if ev.Data[core.DataReason] == core.ReasonSilent {
			title = "A岗超时未受理，请您B岗接办"
		}
		return staff([]string{c.Assignee}, title, caseCard(town, c)+"\n"+leaderHint)
	case core.EventReopened:
		out := staff([]string{c.Assignee}, "群众诉求重新交办（重办），请再次办理", caseCard(town, c)+"\n"+leaderHint)
		if ev.Data[core.DataReason] != core.ReasonTown {
			out = append(out, staff(ids(town.StaffWhere(isRole(core.RoleTown))), "事项重办通报",
				"居民对办理结果不满意，事项已退回"+town.PlaceName(c.Grid)+"重新办理。")...)
		} else {
			out = append(out, resident("您反映的事项已重新办理", "镇里已安排网格重新办理，进展会在这里通知您。"))
		}
		return out
	case core.EventAccepted:
		return []outgoing{resident("您反映的事项已受理", acceptedBy(town, ev, c)+"已受理，正在办理。")}
	case core.EventReplied:
		// The resident sees the grid's name, never the private account of
		// the person who wrote.
		o := resident(town.PlaceName(c.Grid)+" 回复您：", ev.Text)
		switch {
		case ev.Data[core.DataMedia] != "":
			o.notice.Image, o.notice.Text = ev.Data[core.DataMedia], "发来一张现场照片。"
		case ev.Data[core.DataLat] != "":
			o.notice.Text = "发来一个位置：" + strings.TrimSpace(ev.Data[core.DataLabel]+
				"（纬度"+ev.Data[core.DataLat]+"，经度"+ev.Data[core.DataLng]+"）")
		}
		return []outgoing{o}
	case core.EventResolved:
		photo := ""
		if ev.Data[core.DataMedia] != "" {
			photo = "\n（附办结现场照片，可在事项页面查看）"
		}
		return []outgoing{resident("您反映的问题已办结", "办理结果："+ev.Text+photo+
			"\n请回复数字 1-5 为本次办理评分（5 为非常满意，1 为很不满意）；如问题没有解决，请回复“没解决”。")}
	case core.EventWhistled:
		text := caseCard(town, c)
		if ev.Text != "" {
			text += "\n吹哨理由：" + ev.Text
		}
		role := "协办"
		if ev.Data[core.DataLead] == "true" {
			role = "牵头办理"
		}
		text += "\n请" + role + "。回复“领办 " + c.Number + "”签收，或“退回 " + c.Number + " 理由”退回。"
		out := staff(ids(town.StaffWhere(inDept(ev.Data[core.DataDept]))), town.PlaceName(c.Grid)+"吹哨，请"+dept+"领办", text)
		return append(out, resident("您反映的事项有新进展", "网格已请"+dept+"协助办理。"))
	case core.EventSigned:
		return append(staff([]string{c.Assignee}, dept+"已领办", "部门已签收，正在办理。"),
			resident("您反映的事项有新进展", dept+"已接手办理。"))
	case core.EventSupplemented:
		what := "补充了情况：" + ev.Text
		switch ev.Data[core.DataKind] {
		case core.MediaImage:
			what = "补充了一张照片，请在工作台查看。"
		case core.MediaVoice:
			what = "补充了一条语音，请在工作台收听。"
		}
		return staff([]string{c.Assignee}, "群众补充了情况", what)
	case core.EventWithdrawn:
		return staff([]string{c.Assignee}, "群众已撤回事项", "撤回理由："+ev.Text)
	case core.EventReturned:
		who := append([]string{c.Assignee}, ids(town.StaffWhere(isRole(core.RoleTown)))...)
		return staff(who, dept+"退回了吹哨事项，请决定下一步", "退回理由："+ev.Text)
	case core.EventWarned:
		return staff([]string{c.Assignee}, "临期预警（黄灯）：事项快到办理期限",
			"办理期限："+when(town, c.Deadline)+"\n请抓紧办理。")
	case core.EventEscalated:
		text := "办理期限：" + when(town, c.Deadline) + "\n地点：" + town.PlaceName(c.Grid) + "\n请督促尽快办结。"
		switch core.ParseEscalation(ev.Data[core.DataLevel]) {
		case core.EscalationGrid:
			var who []string
			if g := town.Grid(c.Grid); g != nil {
				who = append(who, g.LeaderA)
			}
			return staff(append([]string{c.Assignee}, who...), "超期督办（红灯）：事项已超过办理期限", text)
		case core.EscalationVillage:
			return staff(ids(town.StaffWhere(inVillage(c.Village))), "超期督办：网格事项超期未办结", text)
		case core.EscalationTown:
			return staff(ids(town.StaffWhere(isRole(core.RoleTown))), "超期督办：事项超期未办结，已报镇里", text)
		}
	case core.EventChangeAsked:
		return staff(approvers(town, ev, c), "申请"+changeLabel(ev)+"，请审批", changeAsked(town, ev, c))
	case core.EventChangeRefused:
		return staff([]string{ev.Data[core.DataAskedBy]}, "不同意"+changeLabel(ev),
			"编号："+c.Number+"\n意见："+ev.Text+"\n办理期限不变："+when(town, c.Deadline))
	case core.EventExtended:
		return append(staff([]string{ev.Data[core.DataAskedBy]}, "同意延期",
			"编号："+c.Number+"\n办理期限延至："+when(town, c.Deadline)),
			resident("您反映的事项有新进展", "办理期限延至"+when(town, c.Deadline)+"，我们会继续跟进。"))
	case core.EventPaused:
		return append(staff([]string{ev.Data[core.DataAskedBy]}, "同意挂起",
			"编号："+c.Number+"\n期限暂停计算，回复“恢复 "+c.Number+"”恢复计时。"),
			resident("您反映的事项有新进展", "事项需等待其他环节，办理期限暂停计算，恢复办理时会通知您。"))
	case core.EventResumed:
		return append(staff([]string{c.Assignee}, "挂起的事项已恢复计时",
			"编号："+c.Number+"\n办理期限："+when(town, c.Deadline)),
			resident("您反映的事项有新进展", "事项已恢复办理，办理期限："+when(town, c.Deadline)+"。"))
	}
	return gridWorkNotices(town, ev, c) // the grid's own work (gridwork.go)
}

// approvers are who decide a request for more time: the case's village,
// or the town when the village asked (or has nobody).
func approvers(town *core.Town, ev core.Event, c *core.Case) []string {
	if by := town.StaffMember(ev.Actor); by == nil || by.Role == core.RoleGridLeader || by.Role == core.RoleDepartment {
		if v := ids(town.StaffWhere(inVillage(c.Village))); len(v) > 0 {
			return v
		}
	}
	return ids(town.StaffWhere(isRole(core.RoleTown)))
}

func changeLabel(ev core.Event) string { return core.ChangeKind(ev.Data[core.DataChange]).Label() }

// changeAsked is a request for more time as its approvers read it.
func changeAsked(town *core.Town, ev core.Event, c *core.Case) string {
	what := "挂起（期限暂停计算）"
	if d := ev.Data[core.DataDays]; d != "" {
		what = "延期" + d + "个工作日"
	}
	return caseCard(town, c) + "\n申请：" + what + "\n理由：" + ev.Text +
		"\n回复“同意 " + c.Number + "”或“不同意 " + c.Number + " 理由”。"
}

// joinedNotices lists the pushes to the residents who joined the case
// (附议): its progress in fixed words, the close, and the request to rate
// the result. Never the words staff wrote to the resident who filed it
// (replies, results): those may name that resident, their home or phone.
func joinedNotices(ev core.Event, c *core.Case, outs []outgoing) []outgoing {
	if len(c.Joined) == 0 {
		return nil
	}
	var n core.Notice
	switch ev.Kind {
	case core.EventAccepted:
		n = core.Notice{Title: "您附议的事项已受理", Text: "网格已受理，正在办理。"}
	case core.EventWhistled, core.EventSigned:
		n = core.Notice{Title: "您附议的事项有新进展", Text: "已有部门协助办理。"}
	case core.EventReopened:
		if !residentTold(outs) {
			return nil
		}
		n = core.Notice{Title: "您附议的事项已重新办理", Text: "镇里已安排网格重新办理。"}
	case core.EventResolved:
		n = core.Notice{Title: "您附议的事项已办结", Text: "网格已办结此事项。" +
			"\n请回复数字 1-5 为本次办理评分（5 为非常满意，1 为很不满意）。"}
	case core.EventClosed:
		n = core.Notice{Title: "您附议的事项已结案", Text: "感谢您的关注和附议。"}
		if ev.Data[core.DataReason] == core.ReasonWithdrawn {
			n.Text = "最先反映的居民已撤回此事项。如问题仍未解决，请回复“报事”重新反映。"
		}
	default:
		return nil
	}
	var out []outgoing
	for _, openid := range c.Joined {
		m := n
		m.To, m.Case = openid, c.Number
		out = append(out, outgoing{core.ActorJoinedPrefix + openid, m})
	}
	return out
}

// residentTold reports whether outs has a push to the resident who filed.
func residentTold(outs []outgoing) bool {
	for _, o := range outs {
		if o.to == core.ActorResident {
			return true
		}
	}
	return false
}

// acceptedBy names who accepted case c as it really happened: the post and
// the name of the leader who took it (B when A was away or silent), or the
// staff member who acted for the grid.
func acceptedBy(town *core.Town, ev core.Event, c *core.Case) string {
	place := town.PlaceName(c.Grid)
	st := town.StaffMember(ev.Actor)
	if st == nil || st.Name == "" {
		return place
	}
	switch {
	case st.Role == core.RoleGridLeader && c.Post == core.PostB && st.ID == c.Assignee:
		return place + "（由B岗接办）网格长" + st.Name
	case st.Role == core.RoleGridLeader:
		return place + "网格长" + st.Name
	case st.Role == core.RoleDepartment:
		return deptName(town, st.Department) + st.Name
	case st.Role == core.RoleVillage:
		return place + "（村工作人员" + st.Name + "）"
	}
	return place + "（镇工作人员" + st.Name + "）"
}

// leaderHint tells a grid leader what they can reply to a case push.
const leaderHint = "回复“受理”接单；“回复 内容”答复群众；“办结 结果”办结；“吹哨 部门 理由”请部门协助；“转B”交B岗。"

// caseCard is a case as a staff push shows it.
func caseCard(town *core.Town, c *core.Case) string {
	cat := c.Category
	if k := town.Category(c.Category); k != nil {
		cat = k.Name
	}
	place := town.PlaceName(c.Grid)
	if c.Location != nil && c.Location.Label != "" {
		place += "（" + c.Location.Label + "）"
	}
	return fmt.Sprintf("类别：%s\n地点：%s\n内容：%s\n办理期限：%s", cat, place, c.Text, when(town, c.Deadline))
}

func when(town *core.Town, t time.Time) string { return t.In(town.Zone()).Format("01月02日 15:04") }

func deptName(town *core.Town, id string) string {
	if d := town.Department(id); d != nil {
		return d.Name
	}
	return id
}

func ids(staff []*core.Staff) []string {
	out := make([]string, len(staff))
	for i, s := range staff {
		out[i] = s.ID
	}
	return out
}

func isRole(r core.Role) func(*core.Staff) bool {
	return func(s *core.Staff) bool { return s.Role == r }
}

func inDept(d string) func(*core.Staff) bool {
	return func(s *core.Staff) bool { return s.Role == core.RoleDepartment && s.Department == d }
}

func inVillage(v string) func(*core.Staff) bool {
	return func(s *core.Staff) bool { return s.Role == core.RoleVillage && s.Village == v }
}
