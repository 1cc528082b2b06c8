package dialogs

import (
	"context"
	"strconv"
	"strings"

	"gridbot/core"
)

// The machinery every flow shares: the registry of flows and their steps,
// how a session enters, advances and goes back a step, and how a message
// inside a dialog reaches the step waiting for it. Each flow's own steps
// live with the flow (intake.go, place.go, join.go, household.go).

// step is one named step of a flow: what it asks, what 帮助 says about it,
// where 返回 leads, and how it takes a reply (text or location; the engine
// handles the keywords, photos and unsupported messages before).
type step struct {
	name   string
	back   string // the step 返回 leads to; "" on the first step
	prompt func(e *Engine, town *core.Town, s *Session) string
	help   string
	handle func(e *Engine, ctx context.Context, town *core.Town, s *Session, in input) string
}

// flowSteps returns the table of a flow's steps, or nil for an unknown flow
// (a session saved by another version). It builds a fresh table each time:
// the tables are small and nothing shared can be mutated.
func flowSteps(flow string) []step {
	switch flow {
	case flowIntake:
		return intakeSteps()
	case flowRegister:
		return registerSteps()
	case flowForget:
		return forgetSteps()
	case flowSupplement:
		return supplementSteps()
	}
	return nil
}

// flowNoun names a flow in what residents read.
func flowNoun(flow string) string {
	switch flow {
	case flowRegister:
		return "登记"
	case flowForget:
		return "注销"
	case flowSupplement:
		return "补充"
	}
	return "报事"
}

// nextStep is the step a flow goes to once the current one is done: the
// first part of the draft still missing.
func nextStep(s *Session) string {
	switch s.Flow {
	case flowRegister:
		return nextRegisterStep(s)
	case flowIntake:
		return nextIntakeStep(s)
	}
	return ""
}

func findStep(flow, name string) (step, bool) {
	for _, st := range flowSteps(flow) {
		if st.name == name {
			return st, true
		}
	}
	return step{}, false
}

// tail is the last line of a prompt: what to reply.
func tail(what string, s *Session, st string) string {
	if (st == stepCategory || st == stepPlace && s.Flow == flowRegister) && s.Return == "" {
		return what + "；回复“取消”退出。"
	}
	return what + "；回复“返回”上一步，“取消”退出。"
}

// stepNo numbers the intake's questions ("第2步：") when they come in the
// usual order; an intake opened with a description, photo, location or
// voice asks only what is missing, unnumbered.
func stepNo(s *Session, n int) string {
	if s.Free {
		return ""
	}
	return "第" + strconv.Itoa(n) + "步："
}

// numbered lists names as "1. 环境卫生" lines.
func numbered(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strconv.Itoa(i+1) + ". " + n)
	}
	return b.String()
}

// enter moves the session to step name and returns its prompt.
func (e *Engine) enter(town *core.Town, s *Session, name string) string {
	st, ok := findStep(s.Flow, name)
	if !ok {
		s.reset()
		return "抱歉，报事没能继续，请重新回复“报事”。\n" + menuOptions()
	}
	if name == stepSummary {
		s.Return = ""
	}
	if name != stepGrid {
		s.Village = ""
	}
	s.Step = name
	return st.prompt(e, town, s)
}

// advance leaves a finished step for the flow's next one (the first part
// still missing), or for the step to return to when the resident is
// changing one part of the draft. It settles the steps that need no
// question: a category guess with nothing to offer falls back to the list,
// and 附议 is offered only when an open case like this one exists.
func (e *Engine) advance(ctx context.Context, town *core.Town, s *Session) string {
	next := nextStep(s)
	if s.Return != "" && next != stepGrid {
		next = s.Return
	}
	switch next {
	case stepGuess:
		s.Guess, s.Guessed = s.Guess[:0], true
		for _, g := range e.reader().Guess(town, s.Draft.Text) {
			s.Guess = append(s.Guess, g.Code)
		}
		if len(s.Guess) == 0 {
			return e.enter(town, s, stepCategory)
		}
	case stepJoin:
		s.JoinChecked = true
		if s.Offers = e.joinOffers(ctx, town, s); len(s.Offers) == 0 {
			return e.advance(ctx, town, s)
		}
	}
	return e.enter(town, s, next)
}

// startIntake opens the intake; free means the resident began by
// describing the problem (or with a photo, location or voice). A
// inDialog answers a message inside a dialog.
func (e *Engine) inDialog(ctx context.Context, town *core.Town, s *Session, in input) string {
	st, ok := findStep(s.Flow, s.Step)
	if !ok {
		s.reset()
		return "抱歉，报事没能继续，请重新回复“报事”。\n" + menuOptions()
	}
	prompt := func() string { return st.prompt(e, town, s) }
	switch in.kind {
	case core.MessageText:
		switch {
		case isOneOf(trimParticles(in.norm), "取消", "退出", "不报", "算了", "不用报", "取消报事"):
			noun := flowNoun(s.Flow)
			e.observe(s, DialogAbandoned)
			s.reset()
			return "已取消本次" + noun + "，填写的内容没有提交。\n" + menuOptions()
		case isOneOf(in.norm, "返回", "上一步"):
			return e.back(town, s, st)
		case isHelpWord(in.norm):
			return st.help + "\n" + prompt()
		case isReportWord(in.norm) || isMineWord(in.norm):
			return "您正在" + flowNoun(s.Flow) + "，请先完成，或回复“取消”退出。\n" + prompt()
		case in.raw == "":
			return prompt()
		}
		return st.handle(e, ctx, town, s, in)
	case core.MessageLocation:
		if st.name == stepPlace || st.name == stepGrid {
			return e.handleLocation(ctx, town, s, in)
		}
		return "现在还不需要发送位置，请先按提示回复。\n" + prompt()
	case core.MessageImage:
		switch s.Flow {
		case flowIntake:
			return e.addPhoto(town, s, st, in)
		case flowSupplement:
			return e.supplement(ctx, s.Case, in.from, core.Addition{Photo: &core.Media{MediaID: in.msg.MediaID, URL: in.msg.PicURL}}, false)
		}
		return "现在不需要照片，请按提示回复。\n" + prompt()
	case core.MessageVoice:
		switch s.Flow {
		case flowIntake:
			if len(s.Draft.Voices) < MaxPhotos {
				s.Draft.Voices = append(s.Draft.Voices, core.Media{MediaID: in.msg.MediaID})
				return "抱歉，没能听清您的语音（语音已保存，会随事项一起提交），请用文字回复。\n" + prompt()
			}
		case flowSupplement:
			return "抱歉，没能听清您的语音，已作为语音补充到事项。\n" +
				e.supplement(ctx, s.Case, in.from, core.Addition{Voice: &core.Media{MediaID: in.msg.MediaID}}, false)
		}
		return "抱歉，没能听清您的语音，请用文字回复。\n" + prompt()
	}
	return "抱歉，暂不支持此类消息，请用文字回复。\n" + prompt()
}

// back answers 返回: one step back, or to the list of parts while the
// resident is changing one.
func (e *Engine) back(town *core.Town, s *Session, st step) string {
	switch {
	case s.Return != "" && st.name != stepGrid:
		s.Return = ""
		return e.enter(town, s, stepEdit)
	case st.back == "":
		return "这已经是第一步了。\n" + st.prompt(e, town, s)
	}
	return e.enter(town, s, st.back)
}
