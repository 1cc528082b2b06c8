package dialogs

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"gridbot/core"
)

// Guess is a category guessed from what a resident wrote, with its score.
type Guess struct {
	Code  string
	Score int
}

// Thresholds of the category guess.
const (
	// guessMinScore is the score the best category needs to be guessed.
	guessMinScore = 3
	// guessClose is the share of the best score a second category needs
	// to be offered beside it.
	guessClose = 0.75
)

// ScoreCategories scores every category of town against text by its cues
// (core.Cue), colloquial words read as Mandarin and place names left out,
// and returns those that score above zero, best first (ties in list
// order). It is a pure function of the town's configuration, so a reloaded
// category list takes effect at once. Reader.Scores also reads traditional
// characters and adds what the guess learnt.
func ScoreCategories(town *core.Town, text string) []Guess {
	return Reader{}.Scores(town, text)
}

func cueMatches(norm, phrase string) bool {
	for part := range strings.SplitSeq(phrase, "+") {
		if !strings.Contains(norm, part) {
			return false
		}
	}
	return true
}

// GuessCategory returns the category text most likely belongs to, and a
// second one when it scores close to the first; nil when nothing scores
// enough to guess. See ScoreCategories; Reader.Guess is the full guess.
func GuessCategory(town *core.Town, text string) []Guess {
	return Reader{}.Guess(town, text)
}

// intent is what a message outside a dialog is about.
type intent int

const (
	intentUnclear  intent = iota // too little to tell: the menu
	intentProblem                // a need to file: the intake starts with it
	intentGreeting               // 你好, 在吗
	intentThanks                 // 谢谢, 辛苦了
	intentQuestion               // a question about the service itself
)

// Words that tell small talk from a problem.
var (
	greetingWords = []string{"你好", "您好", "在吗", "在不在", "有人吗", "hello", "hi", "早上好", "上午好", "下午好", "晚上好", "早安", "哈喽", "嗨"}
	thanksWords   = []string{"谢谢", "多谢", "感谢", "辛苦了", "辛苦你们", "麻烦你们了", "thank", "点赞", "给你们点赞"}
	doneWords     = []string{"修好", "解决了", "弄好", "处理好", "搞定", "已经好了", "帮忙", "及时"}
	questionWords = []string{"怎么", "如何", "怎样", "能不能", "可不可以", "可以吗", "是什么", "干什么", "做什么", "什么时候", "多久", "多长时间", "谁", "哪里", "吗", "?", "？", "呢"}
	serviceWords  = []string{"报事", "反映", "公众号", "你们", "这个号", "服务", "网格员", "网格长", "办理", "进度", "登记", "注销", "查询", "怎么用", "使用", "投诉", "受理", "回复"}
)

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// letters counts the runes of s that are letters or digits.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// minProblemRunes is how long a message with no cue must be to be taken
// for a problem rather than an unclear word.
const minProblemRunes = 6

// classify tells what a resident's free text outside a dialog is about,
// with the category guesses when it is a problem; norm is the text as
// Reader.Read reads it.
func classify(town *core.Town, r Reader, norm string) (intent, []Guess) {
	n := letters(norm)
	if n == 0 {
		return intentUnclear, nil
	}
	if slices.Contains(greetingWords, norm) {
		return intentGreeting, nil // no need to look for a problem in "你好"
	}
	short := utf8.RuneCountInString(norm) <= 12
	if containsAny(norm, thanksWords) && (short || containsAny(norm, doneWords)) {
		return intentThanks, nil
	}
	guesses := r.guessRead(town, norm)
	if len(guesses) > 0 {
		return intentProblem, guesses
	}
	if containsAny(norm, questionWords) && containsAny(norm, serviceWords) {
		return intentQuestion, nil
	}
	if containsAny(norm, greetingWords) && short {
		return intentGreeting, nil
	}
	if containsAny(norm, questionWords) && short {
		return intentQuestion, nil
	}
	if n >= minProblemRunes {
		return intentProblem, nil
	}
	return intentUnclear, nil
}
