package dialogs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gridbot/core"
)

// Joining an open case like this one (附议).

// joinOffers finds open cases the draft may join; failures are logged and
// offer nothing, so the resident files as usual.
func (e *Engine) joinOffers(ctx context.Context, town *core.Town, s *Session) []offer {
	if e.JoinRadiusM <= 0 || s.Flow != flowIntake {
		return nil
	}
	cases, err := e.Ledger.JoinCandidates(ctx, s.from, s.Draft, e.JoinRadiusM)
	if err != nil {
		e.log().ErrorContext(ctx, "dialogs: join candidates", "err", err)
		return nil
	}
	var out []offer
	for i, c := range cases {
		if i == maxOffers {
			break
		}
		out = append(out, offer{Number: c.Number, Category: categoryName(town, c.Category),
			Place: town.PlaceName(c.Grid), Date: c.CreatedAt.In(town.Zone()).Format("1月2日")})
	}
	return out
}

// maxOffers bounds the cases one 附议 offer lists.
const maxOffers = 2

// promptJoin offers the open cases like the draft: category, place and
// date only, never another resident's words.
func (e *Engine) promptJoin(_ *core.Town, s *Session) string {
	var b strings.Builder
	b.WriteString("附近已有同类问题正在办理：")
	for i, o := range s.Offers {
		fmt.Fprintf(&b, "\n%d. %s · %s · %s反映", i+1, o.Category, o.Place, o.Date)
	}
	what := "如果是同一件事，回复“附议”一起跟进"
	if len(s.Offers) > 1 {
		what = "如果是同一件事，回复序号一起跟进（附议）"
	}
	b.WriteString("\n附议后办理进展会同样通知您。\n")
	b.WriteString(tail(what+"；不是同一件事请回复“新报”，您的报事会单独提交", s, stepJoin))
	return b.String()
}

// joinChoice reads the reply to the 附议 offer: the index of the case
// chosen, or -1. Only an explicit choice joins: 附议 (or 加入) when one
// case is offered, its number ("2", "附议2", "第二个"), never a yes, a
// skip or anything unclear.
func joinChoice(norm string, offers int) int {
	if isOneOf(norm, "附议", "加入", "我要附议", "附议加入", "同意附议") {
		if offers == 1 {
			return 0
		}
		return -1
	}
	n := strings.TrimSpace(strings.TrimPrefix(norm, "附议"))
	n = strings.TrimSuffix(strings.TrimPrefix(n, "第"), "个")
	n = strings.TrimSuffix(n, "项")
	var i int
	if isDigits(n) && len(n) <= 2 {
		i = int(n[0] - '0')
		if len(n) == 2 {
			i = i*10 + int(n[1]-'0')
		}
	} else if v, ok := smallNumber(n); ok {
		i = v
	} else {
		return -1
	}
	if i < 1 || i > offers {
		return -1
	}
	return i - 1
}

func (e *Engine) handleJoin(ctx context.Context, town *core.Town, s *Session, in input) string {
	if readYesNo(in.norm) == answerNo || isOneOf(in.norm, "新报", "新报事", "单独提交", "不附议", "跳过", "不是同一件事", "不是一件事") {
		return e.advance(ctx, town, s)
	}
	i := joinChoice(in.norm, len(s.Offers))
	if i < 0 {
		what := "请回复“附议”一起跟进，"
		if len(s.Offers) > 1 {
			what = "请回复序号附议，"
		}
		return "没有认出您的选择，" + what + "或回复“新报”单独提交您的报事。\n" + e.promptJoin(town, s)
	}
	number := s.Offers[i].Number
	c, err := e.Ledger.Join(ctx, number, in.from)
	switch {
	case errors.Is(err, core.ErrNoChange):
		// Already joined: the resident's own report stays, to file or not.
		s.Offers = slices.Delete(s.Offers, i, i+1)
		return "您已经附议过这件事项，办理进展会通知您。\n您这次的报事还没有提交。\n" + e.advance(ctx, town, s)
	case errors.Is(err, core.ErrWrongState):
		return "这件事项刚刚办结了，请继续提交您的报事。\n" + e.advance(ctx, town, s)
	case err != nil:
		e.log().ErrorContext(ctx, "dialogs: join failed", "err", err)
		return "抱歉，暂时没能附议，请稍后再回复“附议”，或回复“新报”单独提交。"
	}
	if e.Households != nil {
		if err := e.Households.NoteJoined(ctx, in.from, number, false); err != nil {
			e.log().ErrorContext(ctx, "dialogs: note joined", "err", err)
		}
	}
	s.reset()
	return fmt.Sprintf("已为您附议！\n编号：%s\n这件事已有%d位居民附议，办理进展会同样通知您，办结后也请您评价。", c.Number, len(c.Joined))
}
