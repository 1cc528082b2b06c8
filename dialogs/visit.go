package dialogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gridbot/core"
)

// Visits to linked households from chat (二十户包联, 走访): a cadre writes
// “走访 户 情况” — the household by its 户主, part of its address or its
// number in 包联 — or “走访上报 户 问题” to file what they found as a patrol
// report on the household's grid. The cadre never types an ID: when one of
// their households fits, it is taken; when several do (or none was named
// and they have several), they are offered by number, and the bare number
// answers.

// VisitChoiceWindow is how long an offered choice of households waits.
const VisitChoiceWindow = 10 * time.Minute

func visitChoiceKey(openid string) string { return "staffvisit:" + openid }

// visitChoice is a visit waiting for its household to be chosen. Nonce
// names the recording, so answering twice records once.
type visitChoice struct {
	Found      string   `json:"found"`
	Case       bool     `json:"case,omitempty"`
	Category   string   `json:"category,omitempty"`
	Households []string `json:"households"`
	Nonce      string   `json:"nonce"`
}

const visitAsk = "请写上走访的户和情况，例如：走访 陈伯 家里都好，反映巷口路灯不亮。\n" +
	"户可写户主称呼、地址的一部分或“包联”列表里的序号；发现的问题要办理的，请用“走访上报 户 问题”。"

// linkedList answers 包联: the sender's households, numbered.
func (d *Desk) linkedList(ctx context.Context, s *core.Staff) string {
	if d.Visits == nil {
		return "本系统未开通包联走访。"
	}
	mine, err := d.Visits.Links.Of(ctx, s.ID)
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: linked households", "err", err)
		return "抱歉，暂时查不到包联户，请稍后再试。"
	}
	if len(mine) == 0 {
		return "您没有包联的农户。包联关系由镇里在镇村设置或工作台导入。"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "您包联%d户：", len(mine))
	for i := range mine {
		fmt.Fprintf(&b, "\n%d. %s", i+1, mine[i].Label())
	}
	b.WriteString("\n记录走访：走访 户 情况（户可写序号、户主或地址）")
	return b.String()
}

// visit records “走访 …” (toCase false) or “走访上报 …” (toCase true).
func (d *Desk) visit(ctx context.Context, town *core.Town, s *core.Staff, openid, text string, toCase bool) string {
	if d.Visits == nil {
		return "本系统未开通包联走访。"
	}
	mine, err := d.Visits.Links.Of(ctx, s.ID)
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: linked households", "err", err)
		return "抱歉，暂时没能记录，请稍后再试。"
	}
	if len(mine) == 0 {
		return "您没有包联的农户，不能记录走访。包联关系由镇里设置。"
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return visitAsk
	}
	fits, ref, found := fittingHouseholds(mine, text)
	if ref != "" && len(fits) == 0 {
		// Named, and not one of theirs: the policy says why not.
		if h := d.namedElsewhere(ctx, s, ref); h != nil {
			return d.recordVisit(ctx, town, s, *h, found, false, "", newNonce())
		}
		fits, ref, found = mine, "", text
	}
	if _, number := strconv.Atoi(strings.Map(halfWidth, found)); number == nil || strings.TrimSpace(found) == "" {
		if len(fits) == 1 && ref != "" {
			return "请写上走访的情况，例如：走访 " + ref + " 家里都好。"
		}
		return visitAsk
	}
	category := ""
	if toCase {
		category, found = patrolCategory(town, found)
		if category == "" {
			if ref == "" {
				ref = "户"
			}
			return "没有认出问题的类别，请在问题前写上类别，例如：走访上报 " + ref + " " + town.Categories[0].Name + " " + found +
				"\n可选类别：" + strings.Join(categoryNames(town), "、")
		}
	}
	if len(fits) == 1 {
		return d.recordVisit(ctx, town, s, fits[0], found, toCase, category, newNonce())
	}
	choice := visitChoice{Found: found, Case: toCase, Category: category, Nonce: newNonce()}
	var b strings.Builder
	b.WriteString("是哪一户？请回复序号：")
	for i, h := range fits {
		choice.Households = append(choice.Households, h.ID)
		fmt.Fprintf(&b, "\n%d. %s", i+1, h.Label())
	}
	raw, err := json.Marshal(choice)
	if err == nil {
		err = d.Keys.Set(ctx, visitChoiceKey(openid), raw, VisitChoiceWindow)
	}
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: visit choice", "err", err)
		return "抱歉，暂时没能记录，请稍后再试。"
	}
	return b.String()
}

// fittingHouseholds reads the household the first word of text names —
// its number in the list, or a part of its 户主 or address — as ref, the
// households of mine it fits, and what was found (the rest). When the first
// word is no number and fits none of mine, fits is empty (the caller looks
// further); when nothing was named, ref is "", the whole text is what was
// found, and every household fits.
func fittingHouseholds(mine []core.LinkedHousehold, text string) (fits []core.LinkedHousehold, ref, found string) {
	first, rest := text, ""
	if i := strings.IndexAny(text, separators); i >= 0 {
		first, rest = text[:i], strings.TrimLeft(text[i:], separators)
	}
	if n, err := strconv.Atoi(strings.Map(halfWidth, first)); err == nil {
		if n >= 1 && n <= len(mine) {
			return mine[n-1 : n], first, rest
		}
		return mine, "", text
	}
	for _, h := range mine {
		if namesHousehold(&h, first) {
			fits = append(fits, h)
		}
	}
	if len(fits) == 0 && !looksLikeName(first) {
		return mine, "", text
	}
	return fits, first, rest
}

// namesHousehold reports whether word names h: its 户主 or the start of it
// (a surname), or two characters or more of its 户主 or address.
func namesHousehold(h *core.LinkedHousehold, word string) bool {
	return h.Name != "" && strings.HasPrefix(h.Name, word) ||
		(len([]rune(word)) >= 2 && (strings.Contains(h.Name, word) || strings.Contains(h.Address, word)))
}

// looksLikeName reports whether a first word may be a household's name
// rather than the start of what was found: short, and ending as names and
// addresses do (伯, 婆, 号 …).
func looksLikeName(word string) bool {
	r := []rune(word)
	if len(r) < 2 || len(r) > 12 {
		return false
	}
	return strings.ContainsRune("伯叔婶姨婆公爷奶嫂哥姐号户家巷路", r[len(r)-1])
}

// namedElsewhere finds a household not the sender's that word names, for
// the policy to refuse: nil when none does.
func (d *Desk) namedElsewhere(ctx context.Context, s *core.Staff, word string) *core.LinkedHousehold {
	all, err := d.Visits.Links.All(ctx)
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: linked households", "err", err)
		return nil
	}
	for i := range all {
		if all[i].Cadre != s.ID && namesHousehold(&all[i], word) {
			return &all[i]
		}
	}
	return nil
}

// chooseVisit answers a bare number after households were offered; ok is
// false when no choice waits (the text is then no command).
func (d *Desk) chooseVisit(ctx context.Context, town *core.Town, s *core.Staff, openid, text string) (string, bool) {
	n, err := strconv.Atoi(strings.Map(halfWidth, strings.TrimSpace(text)))
	if err != nil || d.Visits == nil {
		return "", false
	}
	raw, ok, err := d.Keys.Get(ctx, visitChoiceKey(openid))
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: visit choice", "err", err)
		return "", false
	}
	if !ok {
		return "", false
	}
	var choice visitChoice
	if json.Unmarshal(raw, &choice) != nil {
		return "", false
	}
	if n < 1 || n > len(choice.Households) {
		return fmt.Sprintf("请回复1到%d之间的序号。", len(choice.Households)), true
	}
	h, err := d.Visits.Links.Household(ctx, choice.Households[n-1])
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: linked household", "err", err)
		return "抱歉，暂时没能记录，请稍后再试。", true
	}
	if h == nil {
		return "这户已不在您的包联名单中，请重新发送“走访 …”。", true
	}
	answer := d.recordVisit(ctx, town, s, *h, choice.Found, choice.Case, choice.Category, choice.Nonce)
	if err := d.Keys.Delete(ctx, visitChoiceKey(openid)); err != nil {
		d.log().ErrorContext(ctx, "dialogs: visit choice", "err", err)
	}
	return answer, true
}

// recordVisit records the visit, through the ledger's policy.
func (d *Desk) recordVisit(ctx context.Context, town *core.Town, s *core.Staff, h core.LinkedHousehold, found string,
	toCase bool, category, key string) string {
	v, c, err := d.Visits.Record(ctx, s.ID, core.VisitReport{Household: h.ID, Found: found, Case: toCase, Category: category, Key: key})
	if err != nil {
		if reason, ok := core.RefusalReason(err); ok {
			return reason
		}
		if errors.Is(err, core.ErrInvalid) {
			return "内容太长或不完整，请检查后重发（最多" + itoa(core.MaxTextLen) + "字）。"
		}
		d.log().ErrorContext(ctx, "dialogs: visit", "err", err)
		return "抱歉，暂时没能记录，请稍后再试。"
	}
	answer := "已记录走访：" + h.Label() + "，" + v.At.In(town.Zone()).Format("01-02 15:04") + "。"
	if c != nil {
		answer += "\n发现的问题已作为主动发现上报。\n编号：" + c.Number + "\n类别：" + categoryName(town, c.Category) +
			"\n网格：" + town.PlaceName(c.Grid)
	}
	return answer
}
