package dialogs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gridbot/core"
)

// Mediation and the meeting's decision from chat, in the words the console
// uses, through the same ledger steps (so the same policy and the same
// refusals):
//
//	调解 编号 当事人 张三、李四；调解人 黄秀英；双方同意各退一步
//	调解结果 编号 成功|未成功|转司法 说明
//	会商决定 编号 挂钩领导 陈志强；帮办 镇里协调资金；12-20 完成设计；12-31 开工
//
// Parts are separated by “；” (or a new line); a part that starts with its
// label names what it is, the rest is what came of the session. 调解人 may be
// left out: whoever records the session mediated it.

// mediateAsk, mediationEndAsk and conveneAsk show how to write the command.
const (
	mediateAsk = "请写上调解情况，例如：调解 %s 当事人 张三、李四；调解人 黄秀英；双方同意各退一步。" +
		"第一次调解须写明当事人；调解人不写即为您本人。"
	mediationEndAsk = "请写上调解结果（成功、未成功或转司法），例如：调解结果 %s 成功 双方签订调解协议。"
	conveneAsk      = "请写上会商决定，例如：会商决定 %s 挂钩领导 陈志强；帮办 镇里协调资金；12-20 完成设计；12-31 开工。" +
		"须有挂钩领导、帮办措施和1到10个时间节点（月-日 内容）。"
)

// partSeparators divide a command's labelled parts.
const partSeparators = "；;\n"

// labelledParts splits text into parts and takes out those that start with
// one of labels (a separator after the label is optional); what is left
// keeps its order, joined by "；".
func labelledParts(text string, labels ...string) (found map[string]string, rest []string) {
	found = map[string]string{}
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(partSeparators, r) }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		taken := false
		for _, l := range labels {
			if v, ok := strings.CutPrefix(part, l); ok {
				found[l] = strings.TrimLeft(v, separators)
				taken = true
				break
			}
		}
		if !taken {
			rest = append(rest, part)
		}
	}
	return found, rest
}

// mediate records a mediation session on a dispute.
func (d *Desk) mediate(ctx context.Context, number string, s *core.Staff, text string) string {
	found, rest := labelledParts(text, "当事人", "调解人", "调解员")
	mediators := found["调解人"]
	if mediators == "" {
		mediators = found["调解员"]
	}
	if mediators == "" {
		mediators = s.Name
	}
	outcome := strings.Join(rest, "；")
	if outcome == "" {
		return strings.ReplaceAll(mediateAsk, "%s", number)
	}
	c, _, err := d.Ledger.Mediate(ctx, number, s.ID, found["当事人"], mediators, outcome)
	if invalidInput(err) {
		return strings.ReplaceAll(mediateAsk, "%s", number)
	}
	n := 0
	if c.Mediation != nil {
		n = len(c.Mediation.Sessions)
	}
	return d.outcome(ctx, number, err, fmt.Sprintf("已记录第%d次调解（调解人：%s）。调解结束后请发送“调解结果 编号 成功/未成功/转司法”。\n编号：%s", n, mediators, number))
}

// mediationResults are the words for each result, longest first where one
// starts another.
var mediationResults = []struct{ word, result string }{
	{"调解成功", core.MediationSettled}, {"调解未成功", core.MediationFailed}, {"未成功", core.MediationFailed},
	{"不成功", core.MediationFailed}, {"失败", core.MediationFailed}, {"成功", core.MediationSettled},
	{"转司法", core.MediationJudicial}, {"司法", core.MediationJudicial},
}

// endMediation records a dispute's mediation result.
func (d *Desk) endMediation(ctx context.Context, number string, s *core.Staff, text string) string {
	result, note := "", ""
	for _, r := range mediationResults {
		if v, ok := strings.CutPrefix(text, r.word); ok {
			result, note = r.result, strings.TrimLeft(v, separators)
			break
		}
	}
	if result == "" {
		return strings.ReplaceAll(mediationEndAsk, "%s", number)
	}
	_, _, err := d.Ledger.EndMediation(ctx, number, s.ID, result, note)
	return d.outcome(ctx, number, err, "已记录调解结果："+core.MediationLabel(result)+"。\n编号："+number)
}

// convene records the meeting's decision on a case on its agenda.
func (d *Desk) convene(ctx context.Context, town *core.Town, number string, s *core.Staff, text string, now time.Time) string {
	ask := strings.ReplaceAll(conveneAsk, "%s", number)
	found, rest := labelledParts(text, "挂钩领导", "帮办措施", "帮办")
	help := found["帮办措施"]
	if help == "" {
		help = found["帮办"]
	}
	name := found["挂钩领导"]
	if name == "" || help == "" || len(rest) == 0 {
		return ask
	}
	leaders := town.StaffWhere(func(st *core.Staff) bool {
		return (st.Name == name || st.ID == name) && !st.Disabled && (st.Role == core.RoleTown || st.Role == core.RoleVillage)
	})
	switch len(leaders) {
	case 0:
		return "没有找到名为“" + name + "”的镇村领导，请核对挂钩领导的姓名。"
	case 1:
	default:
		return "名为“" + name + "”的有多位，请改写工号：" + staffIDs(leaders) + "。"
	}
	dec := core.Decision{Leader: leaders[0].ID, Help: help}
	for _, part := range rest {
		due, what, ok := milestoneOf(town, part, now)
		if !ok {
			return "没有读懂时间节点“" + part + "”，请写成“月-日 内容”，例如：12-20 完成设计。"
		}
		dec.Milestones = append(dec.Milestones, core.Milestone{Text: what, Due: due})
	}
	_, _, err := d.Ledger.Convene(ctx, number, s.ID, dec)
	if invalidInput(err) {
		return ask
	}
	return d.outcome(ctx, number, err, fmt.Sprintf("已记录会商决定：挂钩领导%s，%d个时间节点，办理人和挂钩领导会收到推送。\n编号：%s",
		leaders[0].Name, len(dec.Milestones), number))
}

// invalidInput reports whether the ledger found what was written
// incomplete or malformed (not a policy's refusal): the answer is how to
// write it.
func invalidInput(err error) bool {
	_, refused := core.RefusalReason(err)
	return errors.Is(err, core.ErrInvalid) && !refused
}

func staffIDs(ss []*core.Staff) string {
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return strings.Join(ids, "、")
}

// MilestoneHour is when on its day a milestone falls due: the end of the
// working day, as on the console.
const MilestoneHour = 18 * time.Hour

// milestoneOf reads "12-20 完成设计", "12月20日 完成设计" or "2027-01-05 开工":
// a date (the next such day from now when the year is left out) and what is
// to be done by then.
func milestoneOf(town *core.Town, part string, now time.Time) (time.Time, string, bool) {
	part = strings.TrimSpace(part)
	date, what, ok := strings.Cut(strings.Map(halfWidth, part), " ")
	if !ok {
		return time.Time{}, "", false
	}
	// what is taken from the original, so full-width text stays as written.
	what = strings.TrimLeft(string([]rune(part)[len([]rune(date)):]), separators)
	date = strings.NewReplacer("月", "-", "日", "", "号", "", "/", "-", ".", "-").Replace(date)
	zone := town.Zone()
	local := now.In(zone)
	var day time.Time
	var err error
	if strings.Count(date, "-") == 2 {
		day, err = time.ParseInLocation("2006-1-2", date, zone)
	} else {
		day, err = time.ParseInLocation("2006-1-2", fmt.Sprintf("%d-%s", local.Year(), date), zone)
		if err == nil && day.Add(MilestoneHour).Before(local) {
			day = day.AddDate(1, 0, 0)
		}
	}
	if err != nil || strings.TrimSpace(what) == "" {
		return time.Time{}, "", false
	}
	return day.Add(MilestoneHour), what, true
}
