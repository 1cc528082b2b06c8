package dialogs

import (
	"strings"
)

// The answers people actually give to a yes/no or a 1–5 question, in
// Mandarin and (read through the lexicon) Cantonese: 好的, 可以, 行, 没问题,
// 冇问题, 得; 很满意，谢谢你们; 还是堵的，根本没弄好. What is still unclear is
// asked again.

// yesNo is a reply to a yes/no question.
type yesNo int

const (
	answerUnclear yesNo = iota
	answerYes
	answerNo
)

var (
	yesWords = []string{"是", "是的", "对", "对的", "没错", "确认", "确定", "好", "好的", "嗯", "嗯嗯", "可以",
		"行", "没问题", "同意", "要", "ok", "okay", "得", "提交", "确认提交", "对头", "无问题", "当然",
		"系"} // 係 (Cantonese "yes") as OpenCC simplifies it, alone
	noWords = []string{"不是", "不", "否", "不对", "不用", "不要", "不行", "错了", "不是的", "没有", "不需要",
		"不用了", "都不是"}
	// politeWords make a clause that answers nothing: "好的，谢谢".
	politeWords = []string{"谢谢", "多谢", "感谢", "辛苦", "麻烦", "你们", "您"}
)

// trimParticles drops the particles a spoken answer ends with: 好啊, 可以吧,
// 得啦, 行了.
func trimParticles(s string) string {
	for {
		t := strings.TrimRight(s, " !~")
		for _, p := range []string{"啊", "呀", "吧", "啦", "喇", "嘞", "咯", "哦", "喔", "噢", "哈", "了", "嘛", "呢", "的"} {
			if rest, ok := strings.CutSuffix(t, p); ok && rest != "" {
				t = rest
				break
			}
		}
		if t == s {
			return s
		}
		s = t
	}
}

// answerClauses splits a reply into its clauses, leaving out those that
// only thank: "很满意，谢谢你们" is "很满意".
func answerClauses(norm string) []string {
	var out []string
	for _, c := range strings.FieldsFunc(norm, func(r rune) bool {
		return strings.ContainsRune(" ,，.。!！?？;；、~～", r)
	}) {
		polite := false
		for _, p := range politeWords {
			if strings.HasPrefix(c, p) {
				polite = true
				break
			}
		}
		if !polite {
			out = append(out, c)
		}
	}
	return out
}

// readYesNo reads a reply (normalised and read, see Reader.Read) to a
// yes/no question.
func readYesNo(norm string) yesNo {
	clauses := answerClauses(norm)
	if len(clauses) != 1 {
		return answerUnclear
	}
	c := clauses[0]
	for _, form := range []string{c, trimParticles(c)} {
		switch {
		case isOneOf(form, noWords...):
			return answerNo
		case isOneOf(form, yesWords...):
			return answerYes
		}
	}
	return answerUnclear
}

// Words of a rating, strongest first within each list.
var (
	notFixedWords = []string{"没解决", "没有解决", "未解决", "没修好", "没有修好", "还没修", "没修", "没弄好",
		"没有弄好", "没搞好", "没处理好", "没有处理", "没人来", "没有人来", "还是坏", "还是堵", "还是不亮", "还是没",
		"还是一样", "还没好", "又坏了", "又堵了", "老样子", "根本没", "没效果", "没有效果", "没变化", "没办好",
		"没搞定", "问题还在", "还在漏", "还是臭"}
	ratingWords = []struct {
		score int
		words []string
	}{
		{1, []string{"很不满意", "非常不满意", "极不满意", "特别不满意", "太差", "很差", "非常差", "差劲"}},
		{2, []string{"不满意", "不太满意", "不大满意", "不怎么满意", "不太好", "不好"}},
		{3, []string{"一般", "还行", "还可以", "马马虎虎", "凑合", "过得去", "基本满意", "还好"}},
		{5, []string{"非常满意", "很满意", "十分满意", "特别满意", "太满意", "超满意", "好满意", "满意极了",
			"非常好", "太好了", "很好", "挺好", "真好"}},
		{4, []string{"满意", "不错", "修好", "解决了", "弄好", "搞定", "处理好", "好了"}},
	}
)

// readRating reads a reply to the 1–5 rating question: a score ("5",
// "五分", "很满意" 5, "满意" 4, "一般" 3, "不满意" 2, "很差" 1; a plain yes such
// as 好, 可以, 没问题 is 满意, 4), or notFixed for a case that is not fixed
// ("还是堵的，根本没弄好"). ok is false when the reply is no rating.
func readRating(norm string) (score int, notFixed bool, ok bool) {
	if n, ok := parseRating(norm); ok {
		return n, false, true
	}
	clauses := answerClauses(norm)
	if len(clauses) == 0 || len([]rune(strings.Join(clauses, ""))) > 30 {
		return 0, false, false // long text is a report, not an answer
	}
	text := strings.Join(clauses, "，")
	if containsAny(text, notFixedWords) {
		return 0, true, true
	}
	for _, level := range ratingWords {
		if containsAny(text, level.words) {
			return level.score, false, true
		}
	}
	if len(clauses) == 1 && readYesNo(clauses[0]) == answerYes {
		return 4, false, true
	}
	return 0, false, false
}
