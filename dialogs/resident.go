package dialogs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gridbot/core"
)

// What a resident asks about their cases outside the intake: progress
// (我的, 进度 编号), adding to a case (补充), withdrawing it (撤回), the
// rating of a resolved case (theirs or one they joined), 没解决, and their
// household file (我的档案).

// maxNoticeText bounds the latest notice a progress line repeats.
const maxNoticeText = 24

// household returns the resident's household file, if registered and the
// book answers; a failure is logged and treated as "not registered".
func (e *Engine) household(ctx context.Context, openid string) (core.Household, bool) {
	if e.Households == nil || openid == "" {
		return core.Household{}, false
	}
	hh, ok, err := e.Households.Household(ctx, openid)
	if err != nil {
		e.log().ErrorContext(ctx, "dialogs: household", "err", err)
		return core.Household{}, false
	}
	return hh, ok
}

// joinedCases returns the cases the resident joined; failures are logged.
func (e *Engine) joinedCases(ctx context.Context, openid string) []core.JoinedCase {
	if e.Households == nil {
		return nil
	}
	list, err := e.Households.JoinedCases(ctx, openid)
	if err != nil {
		e.log().ErrorContext(ctx, "dialogs: joined cases", "err", err)
	}
	return list
}

func categoryName(town *core.Town, code string) string {
	if cat := town.Category(code); cat != nil {
		return cat.Name
	}
	return code
}

// mine lists the resident's open cases, and the open ones they joined,
// each with its state, holder, deadline and latest notice.
func (e *Engine) mine(ctx context.Context, town *core.Town, resident string) string {
	cases, err := e.Ledger.OpenCases(ctx, resident)
	if err != nil {
		e.log().ErrorContext(ctx, "dialogs: open cases failed", "err", err)
		return "抱歉，暂时查不到您的事项，请稍后再回复“我的”。"
	}
	joined := map[string]bool{}
	for _, j := range e.joinedCases(ctx, resident) {
		c, err := e.Ledger.Case(ctx, j.Number)
		if err != nil || !c.State.Open() && c.State != core.StateResolved {
			continue
		}
		cases = append(cases, c)
		joined[c.Number] = true
	}
	if len(cases) == 0 {
		return "您目前没有正在办理的事项。\n" + menuOptions()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "您有%d件事项还未结案：", len(cases))
	waiting := false
	for i, c := range cases {
		if i == maxListed {
			fmt.Fprintf(&b, "\n另有%d件未列出。", len(cases)-maxListed)
			break
		}
		b.WriteString(fmt.Sprintf("\n%d. ", i+1) + e.progressLines(ctx, town, c, joined[c.Number]))
		if c.State == core.StateResolved {
			waiting = true
		}
	}
	if waiting {
		b.WriteString("\n已办结的事项，请回复1到5分评价（5分最满意）。")
	}
	b.WriteString("\n回复“报事”反映新问题。")
	return b.String()
}

// progress answers 进度 编号 for one of the resident's cases, or one
// they joined.
func (e *Engine) progress(ctx context.Context, town *core.Town, resident, number string) string {
	c, err := e.Ledger.Case(ctx, number)
	switch {
	case errors.Is(err, core.ErrNotFound):
		return "没有找到编号：" + number + " 的事项，请核对编号，或回复“我的”查看您的事项。"
	case err != nil:
		e.log().ErrorContext(ctx, "dialogs: case", "err", err)
		return "抱歉，暂时查不到这件事项，请稍后再试。"
	}
	isJoined := slices.Contains(c.Joined, resident)
	if c.Resident != resident && !isJoined {
		return "没有找到编号：" + number + " 的事项，请核对编号，或回复“我的”查看您的事项。"
	}
	return e.progressLines(ctx, town, c, isJoined)
}

// progressLines is one case in a few lines: number, category, state and
// holder, deadline, latest notice.
func (e *Engine) progressLines(ctx context.Context, town *core.Town, c core.Case, joined bool) string {
	var b strings.Builder
	b.WriteString("编号：" + c.Number)
	if joined {
		b.WriteString("（附议）")
	}
	b.WriteString("\n" + categoryName(town, c.Category) + " · " + c.State.Label())
	if st := town.StaffMember(c.Assignee); st != nil && c.State.Open() {
		b.WriteString(" · 负责人：" + st.Name)
	}
	if c.State.Open() {
		b.WriteString("\n办理期限：" + c.Deadline.In(town.Zone()).Format("2006-01-02 15:04"))
	}
	if note := e.latestNotice(ctx, town, c); note != "" {
		b.WriteString("\n最新进展：" + note)
	}
	return b.String()
}

// latestNotice says, in a line, the last step the resident was told of.
func (e *Engine) latestNotice(ctx context.Context, town *core.Town, c core.Case) string {
	evs, err := e.Ledger.CaseEvents(ctx, c.Number)
	if err != nil {
		e.log().ErrorContext(ctx, "dialogs: case events", "err", err)
		return ""
	}
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		text, _ := truncateRunes(ev.Text, maxNoticeText)
		if text != ev.Text {
			text += "……"
		}
		dept := ev.Data[core.DataDept]
		if d := town.Department(dept); d != nil {
			dept = d.Name
		}
		switch ev.Kind {
		case core.EventAssigned, core.EventTransferred:
			return "已交" + town.PlaceName(c.Grid) + "办理"
		case core.EventAccepted:
			return "网格已受理，正在办理"
		case core.EventReplied:
			return "网格回复：" + text
		case core.EventWhistled:
			return "网格已请" + dept + "协助办理"
		case core.EventSigned:
			return dept + "已接手办理"
		case core.EventResolved:
			return "已办结：" + text
		case core.EventReopened:
			return "已重新办理"
		case core.EventWithdrawn:
			return "已撤回"
		}
	}
	return ""
}

// ownOpenCase finds which open case of the resident a command without a
// number is about: the only one, or a hint listing them.
func (e *Engine) ownOpenCase(ctx context.Context, resident, verb, example string) (string, string) {
	cases, err := e.Ledger.OpenCases(ctx, resident)
	if err != nil {
		e.log().ErrorContext(ctx, "dialogs: open cases failed", "err", err)
		return "", "抱歉，暂时查不到您的事项，请稍后再试。"
	}
	open := slices.DeleteFunc(cases, func(c core.Case) bool { return !c.State.Open() })
	switch len(open) {
	case 0:
		return "", "您目前没有正在办理的事项。\n" + menuOptions()
	case 1:
		return open[0].Number, ""
	}
	var nums []string
	for _, c := range open {
		nums = append(nums, "编号："+c.Number)
	}
	return "", "您有" + fmt.Sprint(len(open)) + "件正在办理的事项：\n" + strings.Join(nums, "\n") +
		"\n请写上编号，例如：" + verb + " " + open[0].Number + example
}

// caseRefusal turns a ledger refusal of a resident's step into words.
func (e *Engine) caseRefusal(ctx context.Context, number string, err error, what string) string {
	switch {
	case errors.Is(err, core.ErrNotFound), errors.Is(err, core.ErrForbidden):
		return "没有找到您提交的编号：" + number + " 的事项，请核对编号，或回复“我的”查看。"
	case errors.Is(err, core.ErrWrongState):
		return "编号：" + number + " 已办结或已结案，不能再" + what + "。如有新问题，请回复“报事”。"
	case errors.Is(err, core.ErrInvalid):
		return fmt.Sprintf("内容太长或太多，请精简后再发（文字最多%d字）。", core.MaxTextLen)
	}
	e.log().ErrorContext(ctx, "dialogs: resident step failed", "step", what, "err", err)
	return "抱歉，暂时没能" + what + "，请稍后再试。"
}

// supplementCommand answers 补充: with words, they go to the case at once;
// without, the resident's next messages (words, photos, voice) do.
func (e *Engine) supplementCommand(ctx context.Context, town *core.Town, s *Session, in input, cmd command, now time.Time) string {
	number := cmd.number
	if number == "" {
		if cmd.rest != "" {
			number, hint := e.ownOpenCase(ctx, in.from, "补充", " 内容")
			if number == "" {
				return hint
			}
			return "请写上编号，例如：补充 " + number + " " + cmd.rest
		}
		var hint string
		if number, hint = e.ownOpenCase(ctx, in.from, "补充", ""); number == "" {
			return hint
		}
	}
	if cmd.rest != "" {
		return e.supplement(ctx, number, in.from, core.Addition{Text: cmd.rest}, true)
	}
	c, err := e.Ledger.Case(ctx, number)
	if err == nil && (c.Resident != in.from) {
		err = core.ErrForbidden
	} else if err == nil && !c.State.Open() {
		err = core.ErrWrongState
	}
	if err != nil {
		return e.caseRefusal(ctx, number, err, "补充")
	}
	*s = Session{Flow: flowSupplement, Case: number, UpdatedAt: now, from: s.from}
	return e.enter(town, s, stepSupplement)
}

// supplement adds to a case and says so; last tells whether the resident
// is done (else they may send more).
func (e *Engine) supplement(ctx context.Context, number, resident string, add core.Addition, last bool) string {
	if _, err := e.Ledger.Supplement(ctx, number, resident, add); err != nil {
		return e.caseRefusal(ctx, number, err, "补充")
	}
	what := "补充内容"
	switch {
	case add.Photo != nil:
		what = "照片"
	case add.Voice != nil:
		what = "语音"
	}
	reply := "已把" + what + "补充到事项，网格员会看到。\n编号：" + number
	if !last {
		reply += "\n还可以继续发送文字、照片或语音；发完请回复“完成”。"
	}
	return reply
}

// withdraw answers 撤回 编号 理由.
func (e *Engine) withdraw(ctx context.Context, town *core.Town, resident string, cmd command) string {
	number := cmd.number
	if number == "" {
		var hint string
		if number, hint = e.ownOpenCase(ctx, resident, "撤回", " 理由"); number == "" {
			return hint
		}
		return "请写上编号和撤回理由，例如：撤回 " + number + " 问题已经自己解决了"
	}
	if cmd.rest == "" {
		return "请写上撤回理由，例如：撤回 " + number + " 问题已经自己解决了"
	}
	c, err := e.Ledger.Withdraw(ctx, number, resident, cmd.rest)
	if err != nil {
		return e.caseRefusal(ctx, number, err, "撤回")
	}
	return "已撤回您的事项，理由已记录。\n编号：" + c.Number + "\n如有新问题，随时回复“报事”。"
}

// rate records a score: for the resident's own resolved case, else for a
// resolved case they joined. ok is false when nothing waits for a rating,
// so the message is answered as an ordinary one.
func (e *Engine) rate(ctx context.Context, town *core.Town, resident string, score int) (string, bool) {
	c, err := e.Ledger.Rate(ctx, resident, score)
	switch {
	case errors.Is(err, core.ErrNotFound):
		return e.rateJoined(ctx, resident, score)
	case err != nil:
		e.log().ErrorContext(ctx, "dialogs: rate failed", "err", err)
		return "抱歉，评价暂未成功，请稍后再回复分数。", true
	}
	if c.State == core.StateReopened {
		return fmt.Sprintf("感谢您的评价！\n编号：%s 已记为%d分。\n很抱歉没有让您满意，", c.Number, score) + reopenedText(town, c), true
	}
	return fmt.Sprintf("感谢您的评价！\n编号：%s 已记为%d分，此事项已办结。", c.Number, score), true
}

// rateJoined rates the earliest resolved case the resident joined and has
// not rated yet.
func (e *Engine) rateJoined(ctx context.Context, resident string, score int) (string, bool) {
	for _, j := range e.joinedCases(ctx, resident) {
		if j.Rated {
			continue
		}
		c, err := e.Ledger.Case(ctx, j.Number)
		if err != nil || (c.State != core.StateResolved && c.State != core.StateClosed) {
			continue
		}
		if _, err := e.Ledger.RateJoined(ctx, c.Number, resident, score); err != nil {
			e.log().ErrorContext(ctx, "dialogs: rate joined failed", "err", err)
			return "抱歉，评价暂未成功，请稍后再回复分数。", true
		}
		if err := e.Households.NoteJoined(ctx, resident, c.Number, true); err != nil {
			e.log().ErrorContext(ctx, "dialogs: note joined rating", "err", err)
		}
		return fmt.Sprintf("感谢您的评价！\n编号：%s（您附议的事项）已记为%d分。", c.Number, score), true
	}
	return "", false
}

// reopenedText tells the resident their case went back to work (重办).
func reopenedText(town *core.Town, c core.Case) string {
	return "事项已退回" + town.PlaceName(c.Grid) + "重新办理，进展会在这里通知您。"
}

// notFixed reopens the resident's resolved case. ok is false when nothing
// waits for their word, so the message is answered as an ordinary one.
func (e *Engine) notFixed(ctx context.Context, town *core.Town, resident string) (string, bool) {
	c, err := e.Ledger.NotFixed(ctx, resident)
	switch {
	case errors.Is(err, core.ErrNotFound):
		return "", false
	case err != nil:
		e.log().ErrorContext(ctx, "dialogs: not fixed failed", "err", err)
		return "抱歉，暂未处理成功，请稍后再回复“没解决”。", true
	}
	return "收到，您反映的问题还没有解决。\n编号：" + c.Number + "\n" + reopenedText(town, c), true
}

// householdFile answers 我的档案: the household file and every case filed.
func (e *Engine) householdFile(ctx context.Context, town *core.Town, resident string) string {
	var b strings.Builder
	if hh, ok := e.household(ctx, resident); ok {
		b.WriteString("您的户档（一户一档）：\n" + householdLines(town, hh))
	} else {
		b.WriteString("您还没有登记户档。回复“登记”建立户档，以后报事不用再填地点和电话。")
	}
	cases, err := e.Ledger.ResidentCases(ctx, resident)
	if err != nil {
		e.log().ErrorContext(ctx, "dialogs: resident cases", "err", err)
		b.WriteString("\n暂时查不到您反映过的事项，请稍后再试。")
		return b.String()
	}
	if len(cases) == 0 {
		b.WriteString("\n您还没有反映过事项。")
	} else {
		fmt.Fprintf(&b, "\n您反映过%d件事项：", len(cases))
		for i, c := range cases {
			if i == maxFileListed {
				fmt.Fprintf(&b, "\n另有%d件未列出。", len(cases)-maxFileListed)
				break
			}
			fmt.Fprintf(&b, "\n%d. 编号：%s %s · %s", i+1, c.Number, categoryName(town, c.Category), c.State.Label())
		}
	}
	b.WriteString("\n回复“修改登记”更改登记，“注销”删除个人信息。")
	return b.String()
}

// maxFileListed bounds the cases the household file lists in one reply.
const maxFileListed = 10

// householdLines shows a household file, the phone masked.
func householdLines(town *core.Town, hh core.Household) string {
	phone := "未留"
	if hh.Phone != "" {
		phone = core.MaskPhone(hh.Phone)
	}
	return "村（社区）和网格：" + town.PlaceName(hh.Grid) + "\n" +
		"地址：" + hh.Address + "\n" +
		"称呼：" + hh.Name + "\n" +
		"电话：" + phone
}

// answerRating takes a reply to the rating question: a score, words such
// as 很满意 or 一般, or words saying the case is not fixed (还是堵的). While
// a resolved case waits for the resident's rating, a reply that is none of
// these is asked again, never taken for a new report (small talk is
// answered as small talk). ok is false when
// nothing waits for a rating and the text is no rating.
func (e *Engine) answerRating(ctx context.Context, town *core.Town, in input) (string, bool) {
	score, notFixed, understood := readRating(in.norm)
	switch {
	case understood && notFixed:
		// "又堵了" about another matter than the case waiting is no
		// verdict on that case: ask which.
		if c, waiting := e.awaitingRating(ctx, in.from); waiting && !e.mayBeAbout(town, in.norm, c.Category) {
			return "请问您说的是编号：" + c.Number + "（" + categoryName(town, c.Category) + "）这件事吗？\n" +
				"是这件事还没解决，请回复“没解决”；对办理结果评价，请回复1到5分；要反映新问题，请回复“报事”。", true
		}
		return e.notFixed(ctx, town, in.from)
	case understood:
		if reply, ok := e.rate(ctx, town, in.from, score); ok {
			return reply, true
		}
		return "", false
	}
	if what, _ := classify(town, e.reader(), in.norm); what == intentGreeting || what == intentThanks || what == intentQuestion {
		// Small talk is answered as such, without reading the ledger.
		return "", false
	}
	c, waiting := e.awaitingRating(ctx, in.from)
	if !waiting {
		return "", false
	}
	return "请问您对编号：" + c.Number + " 的办理结果满意吗？\n" +
		"请回复1到5分（5分最满意），或“满意”“一般”“不满意”；问题没有解决请回复“没解决”。\n" +
		"要反映新问题，请回复“报事”。", true
}

// awaitingRating finds a resolved case that waits for the resident's
// rating: their own, or one they joined and have not rated.
func (e *Engine) awaitingRating(ctx context.Context, resident string) (core.Case, bool) {
	cases, err := e.Ledger.OpenCases(ctx, resident)
	if err != nil {
		e.log().ErrorContext(ctx, "dialogs: open cases failed", "err", err)
		return core.Case{}, false
	}
	for _, c := range cases {
		if c.State == core.StateResolved {
			return c, true
		}
	}
	for _, j := range e.joinedCases(ctx, resident) {
		if j.Rated {
			continue
		}
		if c, err := e.Ledger.Case(ctx, j.Number); err == nil && c.State == core.StateResolved {
			return c, true
		}
	}
	return core.Case{}, false
}

// mayBeAbout reports whether words (as read) may be about a case of
// category: they name no category, or that one among their guesses.
func (e *Engine) mayBeAbout(town *core.Town, norm, category string) bool {
	guesses := e.reader().guessRead(town, norm)
	if len(guesses) == 0 {
		return true
	}
	for _, g := range guesses {
		if g.Code == category {
			return true
		}
	}
	return false
}
