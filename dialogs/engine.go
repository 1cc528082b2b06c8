package dialogs

import (
	"context"
	"errors"
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
}

var _ Ledger = (*core.Ledger)(nil)

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
	// IdleTimeout cancels a dialog left alone this long; zero means
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Logger receives ledger failures (never a resident's text or phone);
	// nil discards them.
	Logger *slog.Logger
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
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

// displayZone is the zone people read times in (Asia/Shanghai, without
// depending on the host's tz database).
func displayZone() *time.Location { return time.FixedZone("CST", 8*3600) }

// input is one message as the steps see it.
type input struct {
	kind core.MessageKind // MessageText also for recognised voice and menu clicks
	from string
	raw  string // the text, trimmed
	norm string // normalize(raw), for keywords, numbers and names
	msg  core.Message
}

// Step answers message m from the resident whose session is s, updating s in
// place. The reply is always safe to show; "" means nothing to say. Ledger
// failures are logged and answered with a plain apology; the session is left
// where a retry can pick it up.
func (e *Engine) Step(ctx context.Context, s *Session, m core.Message) string {
	town := e.Town.Town()
	in := input{kind: m.Kind, from: m.From, msg: m}
	switch m.Kind {
	case core.MessageText:
		in.raw = strings.TrimSpace(m.Text)
	case core.MessageVoice:
		if t := strings.TrimSpace(m.Text); t != "" {
			in.kind, in.raw = core.MessageText, t
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
	in.norm = normalize(in.raw)

	now := e.now()
	if s.Active() {
		if idle := e.idleTimeout(); now.Sub(s.UpdatedAt) > idle {
			s.reset()
			return fmt.Sprintf("您上次的报事因超过%s未操作已自动取消，填写的内容没有提交。\n", durationText(idle)) + menuOptions()
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

// outside answers a resident who is not in a dialog.
func (e *Engine) outside(ctx context.Context, town *core.Town, s *Session, in input, now time.Time) string {
	switch in.kind {
	case core.MessageText:
		switch {
		case isReportWord(in.norm):
			*s = Session{Flow: flowIntake, UpdatedAt: now}
			return "好的，我们一步一步来，随时可以回复“取消”退出。\n" + e.enter(town, s, stepCategory)
		case isMineWord(in.norm):
			return e.mine(ctx, town, in.from)
		case isHelpWord(in.norm):
			return helpText(town)
		case isNotFixedWord(in.norm):
			if reply, ok := e.notFixed(ctx, town, in.from); ok {
				return reply
			}
		}
		if score, ok := parseRating(in.raw); ok {
			if reply, ok := e.rate(ctx, town, in.from, score); ok {
				return reply
			}
		}
		return menuText(town)
	case core.MessageVoice:
		return "抱歉，没能听清您的语音，请用文字回复。\n" + menuText(town)
	case core.MessageImage:
		return "收到您的照片。如需反映问题，请先回复“报事”，再按提示发送照片。\n" + menuOptions()
	case core.MessageOther:
		return "抱歉，暂不支持此类消息，请用文字回复。\n" + menuText(town)
	}
	return menuText(town)
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
		"1. 回复“报事”，按提示选类别、说问题、定地点、留电话，核对后提交。\n" +
		"2. 提交后由所在网格的网格长负责办理，进展会在这里通知您。\n" +
		"3. 回复“我的”，查看事项的办理进度。\n" +
		"4. 事情办好后，请回复1到5分评价（5分最满意）。\n" +
		menuOptions()
}

// mine lists the resident's open cases.
func (e *Engine) mine(ctx context.Context, town *core.Town, resident string) string {
	cases, err := e.Ledger.OpenCases(ctx, resident)
	if err != nil {
		e.log().ErrorContext(ctx, "dialogs: open cases failed", "err", err)
		return "抱歉，暂时查不到您的事项，请稍后再回复“我的”。"
	}
	if len(cases) == 0 {
		return "您目前没有正在办理的事项。\n" + menuOptions()
	}
	zone := displayZone()
	var b strings.Builder
	fmt.Fprintf(&b, "您有%d件事项还未结案：", len(cases))
	waiting := false
	for i, c := range cases {
		if i == maxListed {
			fmt.Fprintf(&b, "\n另有%d件未列出。", len(cases)-maxListed)
			break
		}
		name := c.Category
		if cat := town.Category(c.Category); cat != nil {
			name = cat.Name
		}
		fmt.Fprintf(&b, "\n%d. 编号：%s\n%s · %s\n办理期限：%s",
			i+1, c.Number, name, c.State.Label(), c.Deadline.In(zone).Format("2006-01-02 15:04"))
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

// rate records a score. ok is false when nothing waits for a rating, so the
// message is answered as an ordinary one.
func (e *Engine) rate(ctx context.Context, town *core.Town, resident string, score int) (string, bool) {
	c, err := e.Ledger.Rate(ctx, resident, score)
	switch {
	case errors.Is(err, core.ErrNotFound):
		return "", false
	case err != nil:
		e.log().ErrorContext(ctx, "dialogs: rate failed", "err", err)
		return "抱歉，评价暂未成功，请稍后再回复分数。", true
	}
	if c.State == core.StateReopened {
		return fmt.Sprintf("感谢您的评价！\n编号：%s 已记为%d分。\n很抱歉没有让您满意，", c.Number, score) + reopenedText(town, c), true
	}
	return fmt.Sprintf("感谢您的评价！\n编号：%s 已记为%d分，此事项已办结。", c.Number, score), true
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
