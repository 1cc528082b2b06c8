package dialogs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gridbot/core"
)

// The intake flow (群众点单) and its steps.
const (
	flowIntake = "intake"

	stepCategory = "category" // choose a category
	stepDescribe = "describe" // describe the problem, photos along the way
	stepPlace    = "place"    // send a location, or choose a village
	stepGrid     = "grid"     // choose a grid of the chosen village
	stepPhone    = "phone"    // a mobile number, or 跳过
	stepSummary  = "summary"  // 确认 / 修改 / 取消
	stepEdit     = "edit"     // which part to change
	stepGuess    = "guess"    // confirm the category guessed from the description
	stepJoin     = "join"     // join an open case like this one (附议), or file anew
)

// nextIntakeStep is the intake's first part still missing.
func nextIntakeStep(s *Session) string {
	d := s.Draft
	switch {
	case d.Category == "" && !s.Free:
		return stepCategory
	case strings.TrimSpace(d.Text) == "":
		return stepDescribe
	case d.Category == "" && !s.Guessed:
		return stepGuess
	case d.Category == "":
		return stepCategory
	case d.Grid == "":
		return stepPlace
	case !s.JoinChecked:
		return stepJoin
	case !s.PhoneSet:
		return stepPhone
	}
	return stepSummary
}

func intakeSteps() []step {
	return []step{
		{
			name:   stepCategory,
			prompt: (*Engine).promptCategory,
			help:   "类别就是您要反映的事情属于哪一类。看不准也没关系，选最接近的一类，网格员会帮您调整。",
			handle: (*Engine).handleCategory,
		},
		{
			name:   stepDescribe,
			back:   stepCategory,
			prompt: (*Engine).promptDescribe,
			help:   "请把事情说清楚，网格员才好办理，例如：“村口路灯坏了一个星期，晚上很黑。”照片能帮助说明情况，发送后会随事项一起提交。",
			handle: (*Engine).handleDescribe,
		},
		{
			name:   stepGuess,
			back:   stepDescribe,
			prompt: (*Engine).promptGuess,
			help:   "我们根据您的描述猜了事情的类别。猜对了就回复“是”或序号；不对就回复“不是”，从全部类别中选择。",
			handle: (*Engine).handleGuess,
		},
		{
			name:   stepPlace,
			back:   stepDescribe,
			prompt: (*Engine).promptPlace,
			help:   "告诉我们地点，事项才能交给负责的网格。发送位置：点输入框旁的“+”，选“位置”，对准地点后点“发送”。不会发位置也没关系，回复村（社区）的序号即可。",
			handle: (*Engine).handlePlace,
		},
		{
			name:   stepGrid,
			back:   stepPlace,
			prompt: (*Engine).promptGrid,
			help:   "网格是村里划分的片区，每个网格都有网格长负责。选您所在或事情发生的片区。",
			handle: (*Engine).handleGrid,
		},
		{
			name:   stepJoin,
			back:   stepPlace,
			prompt: (*Engine).promptJoin,
			help:   "附近已经有人反映了同样的问题，正在办理。附议就是和他们一起跟进这件事，办理进展和评价都会通知您；如果不是同一件事，回复“新报”单独提交。",
			handle: (*Engine).handleJoin,
		},
		{
			name:   stepPhone,
			back:   stepPlace,
			prompt: (*Engine).promptPhone,
			help:   "留下手机号，网格员办理时可以直接联系您。号码只给负责办理的工作人员看。不想留也可以回复“跳过”。",
			handle: (*Engine).handlePhone,
		},
		{
			name:   stepSummary,
			back:   stepPhone,
			prompt: (*Engine).promptSummary,
			help:   "请核对上面的内容。没问题就回复“确认”提交；要改哪一项就回复“修改”；不想提交了就回复“取消”。",
			handle: (*Engine).handleSummary,
		},
		{
			name:   stepEdit,
			back:   stepSummary,
			prompt: (*Engine).promptEdit,
			help:   "选要修改的那一项，改完会回到核对页面，其他内容不变。",
			handle: (*Engine).handleEdit,
		},
	}
}

// describing the problem (or with a photo, location or voice). A
// registered resident's place and phone come from their household file.
func (e *Engine) startIntake(ctx context.Context, s *Session, resident string, now time.Time, free bool) {
	*s = Session{Flow: flowIntake, Free: free, UpdatedAt: now, from: s.from}
	s.Draft.Key = e.newKey()
	e.observe(s, DialogStarted)
	if hh, ok := e.household(ctx, resident); ok {
		s.FromHousehold, s.PhoneSet = true, true
		s.Draft.Village, s.Draft.Grid, s.Draft.Address, s.Draft.Phone = hh.Village, hh.Grid, hh.Address, hh.Phone
	}
}

// addPhoto attaches a photo to the draft, at any step.
func (e *Engine) addPhoto(town *core.Town, s *Session, st step, in input) string {
	if len(s.Draft.Photos) >= MaxPhotos {
		return fmt.Sprintf("照片最多%d张，这张没有收下。\n", MaxPhotos) + st.prompt(e, town, s)
	}
	s.Draft.Photos = append(s.Draft.Photos, core.Media{MediaID: in.msg.MediaID, URL: in.msg.PicURL})
	if st.name == stepDescribe {
		return fmt.Sprintf("已收到照片（共%d张），请继续用文字描述问题。", len(s.Draft.Photos))
	}
	return fmt.Sprintf("已收到照片（共%d张）。\n", len(s.Draft.Photos)) + st.prompt(e, town, s)
}

// Step 1: the category.

func categoryNames(town *core.Town) []string {
	names := make([]string, len(town.Categories))
	for i, c := range town.Categories {
		names[i] = c.Name
	}
	return names
}

func (e *Engine) promptCategory(town *core.Town, s *Session) string {
	return stepNo(s, 1) + "请选择要反映的事情属于哪一类：\n" + numbered(categoryNames(town)) + "\n" +
		tail("回复序号或名称选择", s, stepCategory)
}

func (e *Engine) handleCategory(ctx context.Context, town *core.Town, s *Session, in input) string {
	names := categoryNames(town)
	i, res := choose(in.norm, names)
	switch res {
	case pickOK:
		s.Draft.Category, s.GuessPicked = town.Categories[i].Code, ""
		return "已选择：" + names[i] + "。\n" + e.advance(ctx, town, s)
	case pickOutOfRange:
		return outOfRange(in.norm, len(names)) + "\n" + e.promptCategory(town, s)
	case pickAmbiguous:
		return fmt.Sprintf("“%s”对应不止一类，请回复序号选择。\n", in.raw) + e.promptCategory(town, s)
	}
	if len([]rune(in.raw)) > 10 {
		return "请先选择类别，再描述问题。\n" + e.promptCategory(town, s)
	}
	return fmt.Sprintf("没有找到“%s”这一类，请回复列表中的序号。\n", in.raw) + e.promptCategory(town, s)
}

// Step 2: the description, with photos.

func (e *Engine) promptDescribe(_ *core.Town, s *Session) string {
	return stepNo(s, 2) + "请用文字说说遇到的问题，比如什么事、在哪里、多久了。也可以发送照片。\n" +
		tail("请发送文字描述", s, stepDescribe)
}

func (e *Engine) handleDescribe(ctx context.Context, town *core.Town, s *Session, in input) string {
	return e.describe(ctx, town, s, in)
}

// describe takes in.raw as the description, shown back when it came from
// voice recognition so the resident can correct it, and goes on.
func (e *Engine) describe(ctx context.Context, town *core.Town, s *Session, in input) string {
	text := in.raw
	if len([]rune(text)) < 2 {
		return "描述太短了，请多写几个字，说清楚是什么事。\n" + e.promptDescribe(town, s)
	}
	text, cut := truncateRunes(text, core.MaxTextLen)
	s.Draft.Text = text
	note := "好的，已记下。\n"
	if s.Step == "" || in.voice { // words heard from a voice are shown back to be checked
		shown, more := truncateRunes(text, maxSummaryText)
		if more {
			shown += "……"
		}
		note = "收到，您反映的是：“" + shown + "”\n"
	}
	if in.voice {
		note += "（以上是语音识别的文字，如有出入，可在核对时回复“修改”更正。）\n"
		if id := in.msg.MediaID; id != "" {
			s.Draft.Voices = append(s.Draft.Voices, core.Media{MediaID: id}) // the voice stays with the case
		}
	}
	if cut {
		note = fmt.Sprintf("描述超过%d字，只保留了前%d字。\n", core.MaxTextLen, core.MaxTextLen)
	}
	return note + e.advance(ctx, town, s)
}

// The category guessed from the description.

func (e *Engine) promptGuess(town *core.Town, s *Session) string {
	var names []string
	for _, code := range s.Guess {
		names = append(names, categoryName(town, code))
	}
	switch len(names) {
	case 0:
		return e.promptCategory(town, s)
	case 1:
		return "看起来属于“" + names[0] + "”类，对吗？\n" +
			tail("回复“是”确认，不是请回复“不是”", s, stepGuess)
	}
	return "请问属于哪一类？\n" + numbered(names) + "\n" +
		tail("回复序号选择，都不是请回复“不是”", s, stepGuess)
}

func (e *Engine) handleGuess(ctx context.Context, town *core.Town, s *Session, in input) string {
	pick := func(code string, guessed bool) string {
		s.Draft.Category, s.Guess, s.GuessPicked = code, nil, ""
		if guessed {
			s.GuessPicked = code
		}
		return "已选择：" + categoryName(town, code) + "。\n" + e.advance(ctx, town, s)
	}
	switch {
	case len(s.Guess) == 0:
		return e.enter(town, s, stepCategory)
	case len(s.Guess) == 1 && (readYesNo(in.norm) == answerYes || in.norm == "1"):
		return pick(s.Guess[0], true)
	case readYesNo(in.norm) == answerNo || isOneOf(in.norm, "选别的", "其他类别"):
		s.Guess = nil
		return e.enter(town, s, stepCategory)
	}
	var names []string
	for _, code := range s.Guess {
		names = append(names, categoryName(town, code))
	}
	if i, res := choose(in.norm, names); res == pickOK {
		return pick(s.Guess[i], true)
	}
	if i, res := choose(in.norm, categoryNames(town)); res == pickOK && !isDigits(in.norm) {
		return pick(town.Categories[i].Code, false)
	}
	return "没有认出您的选择。\n" + e.promptGuess(town, s)
}

// Step 4: the phone.

func (e *Engine) promptPhone(_ *core.Town, s *Session) string {
	ask := stepNo(s, 4) + "请留下您的手机号，方便网格员联系您。\n"
	if s.Flow == flowRegister {
		ask = "请留下您的手机号，报事时网格员可以联系您。\n"
	}
	return ask +
		tail("回复11位手机号，不想留请回复“跳过”", s, stepPhone)
}

func (e *Engine) handlePhone(ctx context.Context, town *core.Town, s *Session, in input) string {
	if isOneOf(in.norm, "跳过", "不留", "不用", "没有") {
		s.Draft.Phone, s.PhoneSet = "", true
		return e.advance(ctx, town, s)
	}
	p, ok := parsePhone(in.raw)
	if !ok {
		return "这个号码好像不对。请回复11位手机号，例如13812345678。\n" + e.promptPhone(town, s)
	}
	s.Draft.Phone, s.PhoneSet = p, true
	return e.advance(ctx, town, s)
}

// Step 5: the summary, then 确认 / 修改 / 取消.

func (e *Engine) promptSummary(town *core.Town, s *Session) string {
	d := s.Draft
	cat := d.Category
	if c := town.Category(d.Category); c != nil {
		cat = c.Name
	}
	text, cut := truncateRunes(d.Text, maxSummaryText)
	if cut {
		text += "……"
	}
	place := town.PlaceName(d.Grid)
	switch {
	case d.Location != nil && d.Location.Label != "":
		place += "（" + d.Location.Label + "）"
	case d.Address != "":
		place += "（登记地址：" + d.Address + "）"
	}
	photos := "无"
	if n := len(d.Photos); n > 0 {
		photos = fmt.Sprintf("%d张", n)
	}
	if n := len(d.Voices); n > 0 {
		photos += fmt.Sprintf("\n语音：%d条", n)
	}
	phone := "未留"
	if d.Phone != "" {
		phone = core.MaskPhone(d.Phone)
	}
	return stepNo(s, 5) + "请核对您要反映的事项：\n" +
		"类别：" + cat + "\n" +
		"描述：" + text + "\n" +
		"照片：" + photos + "\n" +
		"地点：" + place + "\n" +
		"电话：" + phone + "\n" +
		"回复“确认”提交，“修改”更改内容，“取消”放弃。"
}

func (e *Engine) handleSummary(ctx context.Context, town *core.Town, s *Session, in input) string {
	switch {
	case readYesNo(in.norm) == answerYes:
		return e.submit(ctx, town, s, in.from)
	case isOneOf(in.norm, "修改", "改", "更改", "要改", "改一下") || readYesNo(in.norm) == answerNo:
		return e.enter(town, s, stepEdit)
	}
	return "请回复“确认”提交，“修改”更改内容，或“取消”放弃。\n" + e.promptSummary(town, s)
}

// submit files the draft. A part the town no longer has (the directory was
// reloaded while the resident typed) is asked again first.
func (e *Engine) submit(ctx context.Context, town *core.Town, s *Session, resident string) string {
	d := s.Draft
	switch {
	case town.Category(d.Category) == nil:
		s.Draft.Category, s.Return = "", stepSummary
		return "类别清单有调整，请重新选择类别。\n" + e.enter(town, s, stepCategory)
	case town.Grid(d.Grid) == nil:
		s.Draft.Grid, s.Draft.Village, s.Draft.Location, s.Return = "", "", nil, stepSummary
		return "网格有调整，请重新选择地点。\n" + e.enter(town, s, stepPlace)
	case strings.TrimSpace(d.Text) == "":
		s.Return = stepSummary
		return e.enter(town, s, stepDescribe)
	}
	c, err := e.Ledger.Submit(ctx, resident, d)
	switch {
	case errors.Is(err, core.ErrTooMany):
		// The draft stays: the resident may confirm it later.
		return "您提交得太频繁了，请稍后再回复“确认”提交；已提交的事项正在办理，回复“我的”可查看进度。"
	case err != nil:
		e.log().ErrorContext(ctx, "dialogs: submit failed", "err", err)
		return "提交未成功，请稍后回复“确认”重试。"
	}
	if e.Guesses != nil && s.GuessPicked != "" && s.GuessPicked == c.Category {
		if err := e.Guesses.NoteGuessed(ctx, c.Number, c.Category, town.MonthKey(c.CreatedAt)); err != nil {
			e.log().ErrorContext(ctx, "dialogs: note guessed", "err", err)
		}
	}
	// The line that ties the callback to the case it filed.
	e.log().InfoContext(ctx, "case filed", "request_id", core.RequestID(ctx), "case", c.Number)
	e.observe(s, DialogFinished)
	s.reset()
	reply := "提交成功！\n" +
		"编号：" + c.Number + "\n" +
		"负责网格：" + town.PlaceName(c.Grid) + "\n"
	// No leader's name yet: the router hands the case to post A or, when
	// A is on leave, to B; the acceptance notice names who really took it.
	return reply + "网格长受理后会通知您，回复“我的”可查看进度。"
}

// The 修改 step: which part to change.

func editParts() []string { return []string{"类别", "描述", "地点", "电话"} }

func (e *Engine) promptEdit(_ *core.Town, _ *Session) string {
	return "请问要修改哪一项？\n" + numbered(editParts()) + "\n" +
		"回复序号选择；回复“返回”回到核对，“取消”退出。"
}

func (e *Engine) handleEdit(_ context.Context, town *core.Town, s *Session, in input) string {
	targets := []string{stepCategory, stepDescribe, stepPlace, stepPhone}
	reply := in.raw
	switch normalize(reply) {
	case "照片", "内容", "问题":
		reply = "描述"
	case "位置", "村", "网格":
		reply = "地点"
	case "手机", "手机号", "号码":
		reply = "电话"
	}
	i, res := choose(reply, editParts())
	if res != pickOK {
		return "请回复1到4之间的序号。\n" + e.promptEdit(town, s)
	}
	s.Return = stepSummary
	return e.enter(town, s, targets[i])
}
