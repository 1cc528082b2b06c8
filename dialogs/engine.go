package dialogs

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gridbot/core"
)

// Ledger is what the dialogs ask of the case ledger; *core.Ledger satisfies it.
type Ledger interface {
	// Submit files the resident's confirmed draft as a new case.
	Submit(ctx context.Context, resident string, d core.Draft) (core.Case, error)
	// OpenCases lists the resident's cases not yet closed, newest first.
	OpenCases(ctx context.Context, resident string) ([]core.Case, error)
	// Rate settles the resident's resolved case with a 1–5 score: 3–5
	// close it, 1–2 reopen it; core.ErrNotFound means nothing waits for a
	// rating.
	Rate(ctx context.Context, resident string, score int) (core.Case, error)
	// NotFixed reopens the resident's resolved case because they say it
	// is not fixed; core.ErrNotFound means nothing waits for their word.
	NotFixed(ctx context.Context, resident string) (core.Case, error)
	// Case returns one case (core.ErrNotFound).
	Case(ctx context.Context, number string) (core.Case, error)
	// ResidentCases lists every case the resident filed, newest first.
	ResidentCases(ctx context.Context, resident string) ([]core.Case, error)
	// CaseEvents returns a case's log in order.
	CaseEvents(ctx context.Context, number string) ([]core.Event, error)
	// JoinCandidates lists open cases like draft d that the resident may
	// join instead (附议), nearest first.
	JoinCandidates(ctx context.Context, resident string, d core.Draft, radiusM float64) ([]core.Case, error)
	// Join adds the resident to an open case (附议).
	Join(ctx context.Context, number, resident string) (core.Case, error)
	// Supplement adds words, a photo or a voice note to the resident's
	// open case (补充).
	Supplement(ctx context.Context, number, resident string, add core.Addition) (core.Case, error)
	// Withdraw closes the resident's open case with a reason (撤回).
	Withdraw(ctx context.Context, number, resident, reason string) (core.Case, error)
	// RateJoined records the rating of a resident who joined a case.
	RateJoined(ctx context.Context, number, resident string, score int) (core.Case, error)
	// Anonymise erases the resident's personal data from their cases and
	// returns the media IDs of the voice notes removed.
	Anonymise(ctx context.Context, resident string) ([]string, error)
}

var _ Ledger = (*core.Ledger)(nil)

// HouseholdBook keeps residents' household files (一户一档) and the cases
// they joined; *core.Households satisfies it.
type HouseholdBook interface {
	Household(ctx context.Context, openid string) (core.Household, bool, error)
	SaveHousehold(ctx context.Context, h core.Household) error
	JoinedCases(ctx context.Context, openid string) ([]core.JoinedCase, error)
	NoteJoined(ctx context.Context, openid, number string, rated bool) error
	Forget(ctx context.Context, openid string, media []string) error
}

var _ HouseholdBook = (*core.Households)(nil)

// DefaultIdleTimeout is how long a dialog may wait for the resident before it
// is cancelled, when Engine.IdleTimeout is zero.
const DefaultIdleTimeout = 30 * time.Minute

// MaxPhotos bounds the photos one case carries.
const MaxPhotos = 9

// maxListed bounds the cases "我的" lists, so the reply stays inside
// WeChat's 2048-byte passive reply.
const maxListed = 5

// maxSummaryText bounds how much of the description the summary repeats.
const maxSummaryText = 200

// CLICK event keys of the official account's menu that the dialogs answer.
const (
	ClickReport = "REPORT" // start the intake, like "报事"
	ClickMine   = "MINE"   // list my cases, like "我的"
	ClickHelp   = "HELP"   // the help text, like "帮助"
)

// Engine runs the residents' dialogs. It is pure logic: it reads the town,
// calls the Ledger and edits the Session it is given; it keeps no state of
// its own, so one Engine serves every resident at once.
type Engine struct {
	Town   core.TownSource
	Ledger Ledger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewKey names each intake (core.Draft.Key), so that 确认 sent again
	// after an unclear failure returns the case already filed rather than
	// file a second; nil means a random key.
	NewKey func() string
	// IdleTimeout cancels a dialog left alone this long; zero means
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Logger receives ledger failures (never a resident's text or phone);
	// nil discards them.
	Logger *slog.Logger
	// Households keeps household files (登记) and joined cases; nil turns
	// registration and 附议 off.
	Households HouseholdBook
	// JoinRadiusM is how near (metres) an open case of the same category
	// must be to be offered to join (附议); where either has no location,
	// the same grid counts. Zero turns 附议 off.
	JoinRadiusM float64
	// Observe, when set, is told when an intake starts ("started"), files a
	// case ("finished") or is cancelled or expires ("abandoned").
	Observe func(outcome string)
	// Hear turns a voice note into words (WeChat no longer does); nil
	// keeps a voice without words and asks the resident to write.
	Hear core.Hearer
	// Script reads traditional characters and answers residents who write
	// them in traditional; nil reads text as written and answers in
	// simplified.
	Script Script
	// Model adds what staff corrections taught to the category guess; nil
	// guesses from the configured cues alone.
	Model CategoryModel
	// Guesses, when set, records the cases filed with the guessed
	// category, for the share of right guesses.
	Guesses GuessNotes
}

// GuessNotes records that a case was filed with the category the guess
// offered; *core.GuessBook satisfies it.
type GuessNotes interface {
	NoteGuessed(ctx context.Context, number, category, month string) error
}

var _ GuessNotes = (*core.GuessBook)(nil)

// reader is how the engine reads residents' words.
func (e *Engine) reader() Reader { return Reader{Script: e.Script, Model: e.Model} }

// Dialog outcomes reported to Observe.
const (
	DialogStarted   = "started"
	DialogFinished  = "finished"
	DialogAbandoned = "abandoned"
)

func (e *Engine) observe(s *Session, outcome string) {
	if e.Observe != nil && s.Flow == flowIntake {
		e.Observe(outcome)
	}
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) newKey() string {
	if e.NewKey != nil {
		return e.NewKey()
	}
	return rand.Text()
}

func (e *Engine) idleTimeout() time.Duration {
	if e.IdleTimeout > 0 {
		return e.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (e *Engine) log() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// input is one message as the steps see it.
type input struct {
	kind  core.MessageKind // MessageText also for recognised voice and menu clicks
	voice bool             // the text is WeChat's recognition of a voice note
	from  string
	raw   string // the text, trimmed, as written
	norm  string // raw as read (Reader.Read): for keywords, answers, numbers and names
	msg   core.Message
}

// Step answers message m from the resident whose session is s, updating s in
// place. The reply is always safe to show; "" means nothing to say. Ledger
// failures are logged and answered with a plain apology; the session is left
// where a retry can pick it up. A resident who writes traditional
// characters is answered in traditional characters.
func (e *Engine) Step(ctx context.Context, s *Session, m core.Message) string {
	traditional := e.writesTraditional(s, m)
	reply := e.step(ctx, s, m)
	s.Traditional = traditional
	if traditional && e.Script != nil {
		reply = e.inTraditional(reply, m.Text, s.Draft.Text)
	}
	return reply
}

// inTraditional converts a reply to traditional characters, but the
// resident's own words it repeats (the message, the description) stay as
// they wrote them: s2hk would turn a Cantonese 晒 into 曬.
func (e *Engine) inTraditional(reply string, own ...string) string {
	out := e.Script.Traditional(reply)
	for _, w := range own {
		if w = strings.TrimSpace(w); w == "" {
			continue
		}
		if t := e.Script.Traditional(w); t != w {
			out = strings.ReplaceAll(out, t, w)
		}
	}
	return out
}

// writesTraditional tells whether the resident, who wrote m, reads
// traditional characters: yes once they write one, until they write
// characters only simplified script has.
func (e *Engine) writesTraditional(s *Session, m core.Message) bool {
	if e.Script == nil || m.Kind != core.MessageText && m.Kind != core.MessageVoice || m.Text == "" {
		return s.Traditional
	}
	if e.Script.Simplified(m.Text) != m.Text {
		return true
	}
	if s.Traditional && e.Script.Traditional(m.Text) != m.Text {
		return false
	}
	return s.Traditional
}

// step is Step in simplified characters.
func (e *Engine) step(ctx context.Context, s *Session, m core.Message) string {
	town := e.Town.Town()
	s.from = m.From
	in := input{kind: m.Kind, from: m.From, msg: m}
	switch m.Kind {
	case core.MessageText:
		in.raw = strings.TrimSpace(m.Text)
	case core.MessageVoice:
		t := strings.TrimSpace(m.Text)
		if t == "" {
			t = e.hear(ctx, m.MediaID)
		}
		if t != "" {
			in.kind, in.raw, in.voice = core.MessageText, t, true
		}
	case core.MessageLocation:
		if m.Location == nil {
			in.kind = core.MessageOther
		}
	case core.MessageEvent:
		switch {
		case m.Event == core.EventNameSubscribe:
			s.reset()
			return welcomeText(town)
		case m.Event == core.EventNameClick && m.EventKey == ClickReport:
			in.kind, in.raw = core.MessageText, "报事"
		case m.Event == core.EventNameClick && m.EventKey == ClickMine:
			in.kind, in.raw = core.MessageText, "我的"
		case m.Event == core.EventNameClick && m.EventKey == ClickHelp:
			in.kind, in.raw = core.MessageText, "帮助"
		case m.Event == core.EventNameUnsubscribe:
			s.reset()
			return ""
		default:
			// Other events (menu views, template receipts …) are not the
			// resident talking: nothing to say, and the session is untouched.
			return ""
		}
	case core.MessageImage:
	default:
		in.kind = core.MessageOther
	}
	in.norm, _ = e.reader().Read(town, in.raw)

	now := e.now()
	if s.Active() {
		if idle := e.idleTimeout(); now.Sub(s.UpdatedAt) > idle {
			e.observe(s, DialogAbandoned)
			noun := flowNoun(s.Flow)
			s.reset()
			return fmt.Sprintf("您上次的%s因超过%s未操作已自动取消，填写的内容没有提交。\n", noun, durationText(idle)) + menuOptions()
		}
		reply := e.inDialog(ctx, town, s, in)
		if s.Active() {
			s.UpdatedAt = now
		}
		return reply
	}
	return e.outside(ctx, town, s, in, now)
}

// durationText says a duration the way people do: 30分钟, 1小时.
func durationText(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d小时", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%d分钟", d/time.Minute)
	}
	return fmt.Sprintf("%d秒", d/time.Second)
}

// Keywords residents type outside a dialog.
func isReportWord(norm string) bool {
	return isOneOf(norm, "报事", "我要报事", "报事情", "反映问题", "我要反映")
}

func isMineWord(norm string) bool {
	return isOneOf(norm, "我的", "我的报事", "我的事项", "查询", "查进度", "进度")
}

func isNotFixedWord(norm string) bool {
	return isOneOf(norm, "没解决", "未解决", "没有解决", "还没解决", "还没有解决", "问题没解决", "不满意")
}

func isHelpWord(norm string) bool {
	return isOneOf(norm, "帮助", "?", "help", "怎么用", "说明")
}

// residentWords are the resident commands that take a case number.
func residentWords() []string { return []string{"进度", "补充", "撤回", "撤销"} }

// outside answers a resident who is not in a dialog.
func (e *Engine) outside(ctx context.Context, town *core.Town, s *Session, in input, now time.Time) string {
	switch in.kind {
	case core.MessageText:
		if reply, ok := e.command(ctx, town, s, in, now); ok {
			return reply
		}
		if reply, ok := e.answerRating(ctx, town, in); ok {
			return reply
		}
		return e.freeText(ctx, town, s, in, now)
	case core.MessageVoice:
		// Not understood: the intake opens with the voice note kept, and
		// asks for words.
		e.startIntake(ctx, s, in.from, now, true)
		s.Draft.Voices = append(s.Draft.Voices, core.Media{MediaID: in.msg.MediaID})
		return "抱歉，没能听清您的语音（语音已保存，会随事项一起提交给网格员）。\n" + e.advance(ctx, town, s)
	case core.MessageImage:
		e.startIntake(ctx, s, in.from, now, true)
		s.Draft.Photos = append(s.Draft.Photos, core.Media{MediaID: in.msg.MediaID, URL: in.msg.PicURL})
		return "收到您的照片，我们来报事，随时可以回复“取消”退出。\n" + e.advance(ctx, town, s)
	case core.MessageLocation:
		e.startIntake(ctx, s, in.from, now, true)
		return "收到您的位置，我们来报事，随时可以回复“取消”退出。\n" + e.handleLocation(ctx, town, s, in)
	case core.MessageOther:
		return "抱歉，暂不支持此类消息，请用文字回复。\n" + menuText(town)
	}
	return menuText(town)
}

// command answers the keywords residents type outside a dialog; ok is
// false when the text is none of them.
func (e *Engine) command(ctx context.Context, town *core.Town, s *Session, in input, now time.Time) (string, bool) {
	switch {
	case isReportWord(in.norm):
		e.startIntake(ctx, s, in.from, now, false)
		return "好的，我们一步一步来，随时可以回复“取消”退出。\n" + e.advance(ctx, town, s), true
	case isMineWord(in.norm):
		return e.mine(ctx, town, in.from), true
	case isHelpWord(in.norm):
		return helpText(town), true
	case isOneOf(in.norm, "登记", "户档登记", "我要登记", "一户一档"):
		return e.startRegister(ctx, town, s, in.from, now, false), true
	case isOneOf(in.norm, "修改登记", "变更登记", "更改登记", "修改户档"):
		return e.startRegister(ctx, town, s, in.from, now, true), true
	case isOneOf(in.norm, "注销", "注销登记", "删除登记", "注销户档"):
		*s = Session{Flow: flowForget, UpdatedAt: now, from: s.from}
		return e.enter(town, s, stepForget), true
	case isOneOf(in.norm, "档案", "我的档案", "户档", "我的户档"):
		return e.householdFile(ctx, town, in.from), true
	case isNotFixedWord(in.norm):
		if reply, ok := e.notFixed(ctx, town, in.from); ok {
			return reply, true
		}
		return "", false
	}
	cmd, ok := parseVerb(town.CasePrefix, in.raw, residentWords())
	if !ok {
		return "", false
	}
	switch cmd.verb {
	case "进度":
		if cmd.number == "" {
			return e.mine(ctx, town, in.from), true
		}
		return e.progress(ctx, town, in.from, cmd.number), true
	case "补充":
		return e.supplementCommand(ctx, town, s, in, cmd, now), true
	}
	return e.withdraw(ctx, town, in.from, cmd), true
}

// freeText answers text that is no keyword: a problem opens the intake
// with it as the description; small talk and questions get an answer.
func (e *Engine) freeText(ctx context.Context, town *core.Town, s *Session, in input, now time.Time) string {
	if _, staffWords := parseCommand(town.CasePrefix, in.raw); staffWords {
		// A staff command from someone not bound as staff: not a problem.
		return menuText(town)
	}
	what, _ := classify(town, e.reader(), in.norm)
	switch what {
	case intentProblem:
		e.startIntake(ctx, s, in.from, now, true)
		return e.describe(ctx, town, s, in)
	case intentGreeting:
		name := ""
		if hh, ok := e.household(ctx, in.from); ok && hh.Name != "" {
			name = hh.Name + "，"
		}
		return name + fmt.Sprintf("您好，这里是%s网格服务。有什么需要，直接把问题发给我们就行（文字、语音、照片都可以）。\n", town.Name) + menuOptions()
	case intentThanks:
		return "不客气，这是我们应该做的！有需要随时告诉我们。\n" + menuOptions()
	case intentQuestion:
		return answerQuestion(in.norm) + "\n" + menuOptions()
	}
	return menuText(town)
}

// answerQuestion answers a question about the service itself.
func answerQuestion(norm string) string {
	switch {
	case containsAny(norm, []string{"多久", "多长时间", "什么时候", "几天"}):
		return "每类事项都有办理期限（例如环境卫生48小时），提交后会告诉您负责的网格和期限，回复“我的”随时查看进度。"
	case containsAny(norm, []string{"进度", "查询", "到哪"}):
		return "回复“我的”查看您所有未结案事项的进度，或回复“进度 编号”查看一件。"
	case containsAny(norm, []string{"登记", "注销", "档案"}):
		return "回复“登记”建立户档（村、网格、地址、称呼、电话），以后报事不用再填地点和电话；回复“修改登记”更改，回复“注销”删除个人信息。"
	case containsAny(norm, []string{"你们", "谁", "这个号", "公众号", "是什么", "干什么", "做什么"}):
		return "这里是镇里的网格服务号：您反映的问题会交给所在网格的网格长办理，办理进展会在这里通知您。"
	}
	return "直接把遇到的问题发给我们就行，比如“村口路灯坏了”，也可以发语音、照片或位置，我们会一步步帮您提交。"
}

// menuOptions is the list of what a resident can reply outside a dialog.
func menuOptions() string {
	return "请回复：\n" +
		"报事 —— 反映问题、提出需求\n" +
		"我的 —— 查看我的事项和办理进度\n" +
		"帮助 —— 使用说明"
}

func menuText(town *core.Town) string {
	return fmt.Sprintf("您好，这里是%s网格服务。", town.Name) + menuOptions()
}

func welcomeText(town *core.Town) string {
	return fmt.Sprintf("欢迎关注%s网格服务！有困难、有诉求，都可以在这里告诉我们，网格员会尽快为您办理。\n", town.Name) +
		menuOptions()
}

func helpText(town *core.Town) string {
	return "使用说明：\n" +
		"1. 直接发文字、语音、照片或位置说明问题，或回复“报事”一步步填写，核对后提交。\n" +
		"2. 提交后由所在网格的网格长负责办理，进展会在这里通知您。\n" +
		"3. 回复“我的”或“进度 编号”查看进度；“补充 编号 内容”补充情况；“撤回 编号 理由”撤回。\n" +
		"4. 事情办好后，请回复1到5分评价（5分最满意）。\n" +
		"5. 回复“登记”建立户档，以后报事不用再填地点和电话；“我的档案”查看，“注销”删除。\n" +
		menuOptions()
}
