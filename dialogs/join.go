package dialogs

import (
	"context"
	"errors"
	"fmt"
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
		text, cut := truncateRunes(c.Text, maxOfferText)
		if cut {
			text += "……"
		}
		out = append(out, offer{Number: c.Number, Text: text, Place: town.PlaceName(c.Grid)})
	}
	return out
}

// Bounds of the 附议 offer.
const (
	maxOffers    = 2
	maxOfferText = 40
)

func (e *Engine) promptJoin(_ *core.Town, s *Session) string {
	var b strings.Builder
	b.WriteString("附近已有相同的问题正在办理：")
	for i, o := range s.Offers {
		fmt.Fprintf(&b, "\n%d. 编号：%s\n%s（%s）", i+1, o.Number, o.Text, o.Place)
	}
	what := "回复“附议”加入该事项"
	if len(s.Offers) > 1 {
		what = "回复序号加入对应事项（附议）"
	}
	b.WriteString("\n附议后办理进展会同样通知您。\n")
	b.WriteString(tail(what+"，不是同一件事请回复“新报”", s, stepJoin))
	return b.String()
}

func (e *Engine) handleJoin(ctx context.Context, town *core.Town, s *Session, in input) string {
	if isOneOf(in.norm, "新报", "不是", "单独提交", "不附议", "否", "不用") {
		return e.advance(ctx, town, s)
	}
	i := -1
	switch {
	case isOneOf(in.norm, "附议", "加入", "是", "同意", "好") && len(s.Offers) == 1:
		i = 0
	default:
		if n, res := choose(strings.TrimPrefix(in.norm, "附议"), make([]string, len(s.Offers))); res == pickOK {
			i = n
		}
	}
	if i < 0 || i >= len(s.Offers) {
		return "请回复“附议”加入，或回复“新报”单独提交。\n" + e.promptJoin(town, s)
	}
	number := s.Offers[i].Number
	c, err := e.Ledger.Join(ctx, number, in.from)
	switch {
	case errors.Is(err, core.ErrNoChange):
		s.reset()
		return "您已经附议过这件事项，办理进展会通知您。\n编号：" + number
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
