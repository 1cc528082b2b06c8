package dialogs

import (
	"context"
	"fmt"
	"strconv"
	"strings"

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
)

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
	if flow != flowIntake {
		return nil
	}
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
	if st == stepCategory && s.Return == "" {
		return what + "；回复“取消”退出。"
	}
	return what + "；回复“返回”上一步，“取消”退出。"
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

// advance leaves a finished step for next, or for the step to return to
// when the resident is changing one part of the draft. The grid step belongs
// to the place step, so it never returns early.
func (e *Engine) advance(town *core.Town, s *Session, next string) string {
	if s.Return != "" && next != stepGrid {
		next = s.Return
	}
	return e.enter(town, s, next)
}

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
		case isOneOf(in.norm, "取消", "退出", "不报了"):
			s.reset()
			return "已取消本次报事，填写的内容没有提交。\n" + menuOptions()
		case isOneOf(in.norm, "返回", "上一步"):
			return e.back(town, s, st)
		case isHelpWord(in.norm):
			return st.help + "\n" + prompt()
		case isReportWord(in.norm) || isMineWord(in.norm):
			return "您正在报事，请先完成，或回复“取消”退出。\n" + prompt()
		case in.raw == "":
			return prompt()
		}
		return st.handle(e, ctx, town, s, in)
	case core.MessageLocation:
		if st.name == stepPlace || st.name == stepGrid {
			return e.handleLocation(town, s, in)
		}
		return "现在还不需要发送位置，请先按提示回复。\n" + prompt()
	case core.MessageImage:
		return e.addPhoto(town, s, st, in)
	case core.MessageVoice:
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
	return "第1步：请选择要反映的事情属于哪一类：\n" + numbered(categoryNames(town)) + "\n" +
		tail("回复序号或名称选择", s, stepCategory)
}

func (e *Engine) handleCategory(_ context.Context, town *core.Town, s *Session, in input) string {
	names := categoryNames(town)
	i, res := choose(in.raw, names)
	switch res {
	case pickOK:
		s.Draft.Category = town.Categories[i].Code
		return "已选择：" + names[i] + "。\n" + e.advance(town, s, stepDescribe)
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
	return "第2步：请用文字说说遇到的问题，比如什么事、在哪里、多久了。也可以发送照片。\n" +
		tail("请发送文字描述", s, stepDescribe)
}

func (e *Engine) handleDescribe(_ context.Context, town *core.Town, s *Session, in input) string {
	text := in.raw
	if len([]rune(text)) < 2 {
		return "描述太短了，请多写几个字，说清楚是什么事。\n" + e.promptDescribe(town, s)
	}
	text, cut := truncateRunes(text, core.MaxTextLen)
	s.Draft.Text = text
	note := "好的，已记下。\n"
	if cut {
		note = fmt.Sprintf("描述超过%d字，只保留了前%d字。\n", core.MaxTextLen, core.MaxTextLen)
	}
	return note + e.advance(town, s, stepPlace)
}

// Step 3: the place, by location or by village and grid.

func villageNames(town *core.Town) []string {
	names := make([]string, len(town.Villages))
	for i, v := range town.Villages {
		names[i] = v.Name
	}
	return names
}

func (e *Engine) promptPlace(town *core.Town, s *Session) string {
	return "第3步：事情发生在哪里？\n" +
		"方法一：点输入框旁的“+”，选“位置”发送。\n" +
		"方法二：回复村（社区）的序号：\n" +
		numbered(villageNames(town)) + "\n" +
		tail("请发送位置，或回复村（社区）序号", s, stepPlace)
}

func (e *Engine) handlePlace(_ context.Context, town *core.Town, s *Session, in input) string {
	names := villageNames(town)
	i, res := choose(in.raw, names)
	switch res {
	case pickOK:
		v := town.Villages[i]
		if len(town.GridsOf(v.ID)) == 0 {
			return v.Name + "暂未划分网格，请选择其他村（社区），或发送位置。\n" + e.promptPlace(town, s)
		}
		s.Village = v.ID
		return e.enter(town, s, stepGrid)
	case pickOutOfRange:
		return outOfRange(in.norm, len(names)) + "\n" + e.promptPlace(town, s)
	}
	return "没有认出这个地方。请发送位置，或回复村（社区）的序号。\n" + e.promptPlace(town, s)
}

func (e *Engine) handleLocation(town *core.Town, s *Session, in input) string {
	loc := *in.msg.Location
	g, ok := town.GridAt(loc.Point)
	if !ok {
		s.Step, s.Village = stepPlace, ""
		return "您发送的位置不在本镇的网格范围内。请回复村（社区）的序号选择：\n" +
			numbered(villageNames(town)) + "\n" +
			tail("回复序号选择", s, stepPlace)
	}
	s.Draft.Location = &loc
	s.Draft.Village, s.Draft.Grid = g.Village, g.ID
	return "已定位到：" + town.PlaceName(g.ID) + "。\n" + e.advance(town, s, stepPhone)
}

func (e *Engine) promptGrid(town *core.Town, s *Session) string {
	v := town.Village(s.Village)
	if v == nil {
		return e.enter(town, s, stepPlace)
	}
	return "请选择" + v.Name + "的网格：\n" + numbered(gridNames(town.GridsOf(v.ID))) + "\n" +
		tail("回复序号选择", s, stepGrid)
}

func gridNames(grids []core.Grid) []string {
	names := make([]string, len(grids))
	for i, g := range grids {
		names[i] = g.Name
	}
	return names
}

func (e *Engine) handleGrid(_ context.Context, town *core.Town, s *Session, in input) string {
	grids := town.GridsOf(s.Village)
	if len(grids) == 0 {
		return e.enter(town, s, stepPlace)
	}
	i, res := choose(in.raw, gridNames(grids))
	switch res {
	case pickOK:
		g := grids[i]
		s.Draft.Location = nil
		s.Draft.Village, s.Draft.Grid = g.Village, g.ID
		return "已选择：" + town.PlaceName(g.ID) + "。\n" + e.advance(town, s, stepPhone)
	case pickOutOfRange:
		return outOfRange(in.norm, len(grids)) + "\n" + e.promptGrid(town, s)
	}
	return "没有认出这个网格，请回复列表中的序号。\n" + e.promptGrid(town, s)
}

// Step 4: the phone.

func (e *Engine) promptPhone(_ *core.Town, s *Session) string {
	return "第4步：请留下您的手机号，方便网格员联系您。\n" +
		tail("回复11位手机号，不想留请回复“跳过”", s, stepPhone)
}

func (e *Engine) handlePhone(_ context.Context, town *core.Town, s *Session, in input) string {
	if isOneOf(in.norm, "跳过", "不留", "不用", "没有") {
		s.Draft.Phone = ""
		return e.advance(town, s, stepSummary)
	}
	p, ok := parsePhone(in.raw)
	if !ok {
		return "这个号码好像不对。请回复11位手机号，例如13812345678。\n" + e.promptPhone(town, s)
	}
	s.Draft.Phone = p
	return e.advance(town, s, stepSummary)
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
	if d.Location != nil && d.Location.Label != "" {
		place += "（" + d.Location.Label + "）"
	}
	photos := "无"
	if n := len(d.Photos); n > 0 {
		photos = fmt.Sprintf("%d张", n)
	}
	phone := "未留"
	if d.Phone != "" {
		phone = core.MaskPhone(d.Phone)
	}
	return "第5步：请核对您要反映的事项：\n" +
		"类别：" + cat + "\n" +
		"描述：" + text + "\n" +
		"照片：" + photos + "\n" +
		"地点：" + place + "\n" +
		"电话：" + phone + "\n" +
		"回复“确认”提交，“修改”更改内容，“取消”放弃。"
}

func (e *Engine) handleSummary(ctx context.Context, town *core.Town, s *Session, in input) string {
	switch {
	case isOneOf(in.norm, "确认", "确定", "提交", "确认提交", "对", "是", "好"):
		return e.submit(ctx, town, s, in.from)
	case isOneOf(in.norm, "修改", "改", "更改"):
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
	if err != nil {
		e.log().ErrorContext(ctx, "dialogs: submit failed", "err", err)
		return "提交未成功，请稍后回复“确认”重试。"
	}
	s.reset()
	reply := "提交成功！\n" +
		"编号：" + c.Number + "\n" +
		"负责网格：" + town.PlaceName(c.Grid) + "\n"
	if g := town.Grid(c.Grid); g != nil {
		if st, _, ok := town.Responsible(g); ok {
			reply += "负责人：" + st.Name + "\n"
		}
	}
	return reply + "办理进展会在这里通知您，回复“我的”可查看进度。"
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
