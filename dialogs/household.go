package dialogs

import (
	"context"
	"strings"
	"time"

	"gridbot/core"
)

// The household file (一户一档): 登记 registers it (village and grid,
// address, how to be called, phone), 修改登记 changes one part, 注销 erases
// it and the personal data on the resident's cases. The supplement flow
// (补充 编号) takes words, photos and voice notes for one case.

// The flows and their own steps; the place, grid and phone steps are the
// intake's.
const (
	flowRegister   = "register"
	flowForget     = "forget"
	flowSupplement = "supplement"

	stepAddress    = "address"     // the street address
	stepName       = "name"        // how the resident wishes to be called
	stepRegConfirm = "reg_confirm" // 确认 / 修改 / 取消
	stepRegEdit    = "reg_edit"    // which part to change
	stepForget     = "forget"      // 确认注销, or anything else to keep the file
	stepSupplement = "supplement"  // words, photos, voice for the case; 完成
)

// Bounds of what a household file holds.
const (
	maxAddressRunes = 60
	maxNameRunes    = 12
)

func registerSteps() []step {
	return []step{
		{
			name:   stepPlace,
			prompt: (*Engine).promptPlace,
			help:   "登记后，报事时自动交给您家所在的网格，不用再选地点。可以发送位置，也可以回复村（社区）的序号。",
			handle: (*Engine).handlePlace,
		},
		{
			name:   stepGrid,
			back:   stepPlace,
			prompt: (*Engine).promptGrid,
			help:   "网格是村里划分的片区，每个网格都有网格长负责。选您家所在的片区。",
			handle: (*Engine).handleGrid,
		},
		{
			name:   stepAddress,
			back:   stepPlace,
			prompt: (*Engine).promptAddress,
			help:   "写门牌或楼栋，网格员上门时能找到您家，例如“幸福路3号”。地址只给负责办理的工作人员看。",
			handle: (*Engine).handleAddress,
		},
		{
			name:   stepName,
			back:   stepAddress,
			prompt: (*Engine).promptName,
			help:   "写您希望网格员怎么称呼您就行，例如“陈伯”“李姐”，不必写全名。",
			handle: (*Engine).handleName,
		},
		{
			name:   stepPhone,
			back:   stepName,
			prompt: (*Engine).promptPhone,
			help:   "留下手机号，网格员办理时可以直接联系您。号码只给负责办理的工作人员看。不想留也可以回复“跳过”。",
			handle: (*Engine).handlePhone,
		},
		{
			name:   stepRegConfirm,
			back:   stepPhone,
			prompt: (*Engine).promptRegConfirm,
			help:   "请核对登记信息。没问题就回复“确认”保存；要改哪一项就回复“修改”；不登记了就回复“取消”。",
			handle: (*Engine).handleRegConfirm,
		},
		{
			name:   stepRegEdit,
			back:   stepRegConfirm,
			prompt: (*Engine).promptRegEdit,
			help:   "选要修改的那一项，改完会回到核对页面，其他内容不变。",
			handle: (*Engine).handleRegEdit,
		},
	}
}

func nextRegisterStep(s *Session) string {
	switch {
	case s.Draft.Grid == "":
		return stepPlace
	case s.Draft.Address == "":
		return stepAddress
	case s.Name == "":
		return stepName
	case !s.PhoneSet:
		return stepPhone
	}
	return stepRegConfirm
}

// startRegister opens the register flow: afresh, or, with change, on the
// list of parts of the file the resident has.
func (e *Engine) startRegister(ctx context.Context, town *core.Town, s *Session, resident string, now time.Time, change bool) string {
	if e.Households == nil {
		return "抱歉，户档登记暂未开通。\n" + menuOptions()
	}
	hh, ok := e.household(ctx, resident)
	switch {
	case ok && !change:
		return "您已经登记过了：\n" + householdLines(town, hh) + "\n回复“修改登记”更改，“注销”删除登记，“我的档案”查看反映过的事项。"
	case !ok && change:
		return "您还没有登记户档。回复“登记”建立户档，以后报事不用再填地点和电话。"
	}
	*s = Session{Flow: flowRegister, UpdatedAt: now, from: s.from}
	if change {
		s.Draft = core.Draft{Village: hh.Village, Grid: hh.Grid, Address: hh.Address, Phone: hh.Phone}
		s.Name, s.PhoneSet = hh.Name, true
		return e.enter(town, s, stepRegEdit)
	}
	return "好的，我们来登记户档（一户一档），以后报事不用再填地点和电话，随时可以回复“取消”退出。\n" + e.advance(ctx, town, s)
}

func (e *Engine) promptAddress(_ *core.Town, s *Session) string {
	return "请写上您家的详细地址（门牌或楼栋），例如：幸福路3号。\n" + tail("请回复地址", s, stepAddress)
}

func (e *Engine) handleAddress(ctx context.Context, town *core.Town, s *Session, in input) string {
	if len([]rune(in.raw)) < 2 || len([]rune(in.raw)) > maxAddressRunes {
		return "地址请写2到60个字。\n" + e.promptAddress(town, s)
	}
	s.Draft.Address = in.raw
	return e.advance(ctx, town, s)
}

func (e *Engine) promptName(_ *core.Town, s *Session) string {
	return "网格员怎么称呼您？例如：陈伯、李姐。\n" + tail("请回复称呼", s, stepName)
}

func (e *Engine) handleName(ctx context.Context, town *core.Town, s *Session, in input) string {
	if len([]rune(in.raw)) > maxNameRunes {
		return "称呼请写短一些（最多12个字）。\n" + e.promptName(town, s)
	}
	s.Name = in.raw
	return e.advance(ctx, town, s)
}

func (e *Engine) promptRegConfirm(town *core.Town, s *Session) string {
	return "请核对您的登记信息：\n" + householdLines(town, s.household()) + "\n" +
		"回复“确认”保存，“修改”更改内容，“取消”放弃。"
}

// household is the file the register flow has gathered.
func (s *Session) household() core.Household {
	return core.Household{OpenID: s.from, Village: s.Draft.Village, Grid: s.Draft.Grid,
		Address: s.Draft.Address, Name: s.Name, Phone: s.Draft.Phone}
}

func (e *Engine) handleRegConfirm(ctx context.Context, town *core.Town, s *Session, in input) string {
	switch {
	case isOneOf(in.norm, "修改", "改", "更改"):
		return e.enter(town, s, stepRegEdit)
	case !isOneOf(in.norm, "确认", "确定", "保存", "对", "是", "好"):
		return "请回复“确认”保存，“修改”更改内容，或“取消”放弃。\n" + e.promptRegConfirm(town, s)
	case town.Grid(s.Draft.Grid) == nil:
		s.Draft.Grid, s.Return = "", stepRegConfirm
		return "网格有调整，请重新选择。\n" + e.enter(town, s, stepPlace)
	}
	hh := s.household()
	now := e.now()
	old, registered := e.household(ctx, in.from)
	hh.RegisteredAt, hh.UpdatedAt = now, now
	if registered {
		hh.RegisteredAt = old.RegisteredAt
	}
	if err := e.Households.SaveHousehold(ctx, hh); err != nil {
		e.log().ErrorContext(ctx, "dialogs: save household", "err", err)
		return "抱歉，登记暂未保存成功，请稍后回复“确认”重试。"
	}
	s.reset()
	what := "登记成功！"
	if registered {
		what = "已更新登记！"
	}
	return what + hh.Name + "，以后报事会自动交给" + town.PlaceName(hh.Grid) +
		"，不用再填地点和电话（某次要用别的地点或电话，核对时回复“修改”即可）。\n回复“我的档案”查看户档和反映过的事项。"
}

func regEditParts() []string { return []string{"村和网格", "地址", "称呼", "电话"} }

func (e *Engine) promptRegEdit(_ *core.Town, _ *Session) string {
	return "请问要修改哪一项？\n" + numbered(regEditParts()) + "\n" +
		"回复序号选择；回复“返回”回到核对，“取消”退出。"
}

func (e *Engine) handleRegEdit(_ context.Context, town *core.Town, s *Session, in input) string {
	targets := []string{stepPlace, stepAddress, stepName, stepPhone}
	reply := in.raw
	switch normalize(reply) {
	case "村", "网格", "位置", "地点":
		reply = "村和网格"
	case "名字", "姓名":
		reply = "称呼"
	case "手机", "手机号", "号码":
		reply = "电话"
	}
	i, res := choose(reply, regEditParts())
	if res != pickOK {
		return "请回复1到4之间的序号。\n" + e.promptRegEdit(town, s)
	}
	s.Return = stepRegConfirm
	return e.enter(town, s, targets[i])
}

// 注销: erase the household file and the personal data on the cases.

func forgetSteps() []step {
	return []step{{
		name:   stepForget,
		prompt: (*Engine).promptForget,
		help:   "注销会删除您的户档，以及您提交过的事项中的电话、地址、位置名称和语音；事项本身作为办理记录保留。",
		handle: (*Engine).handleForget,
	}}
}

func (e *Engine) promptForget(_ *core.Town, _ *Session) string {
	return "注销后将删除您的户档（一户一档），并删除您提交过的事项中的电话、地址、位置名称和语音，事项记录保留，且无法恢复。\n" +
		"确定注销请回复“确认注销”；回复其他内容则不注销。"
}

func (e *Engine) handleForget(ctx context.Context, _ *core.Town, s *Session, in input) string {
	if !isOneOf(in.norm, "确认注销", "确定注销") {
		s.reset()
		return "好的，没有注销，您的信息保持不变。\n" + menuOptions()
	}
	voices, err := e.Ledger.Anonymise(ctx, in.from)
	if err == nil && e.Households != nil {
		err = e.Households.Forget(ctx, in.from, voices)
	}
	if err != nil {
		e.log().ErrorContext(ctx, "dialogs: forget household", "err", err)
		return "抱歉，注销暂未完成，请稍后回复“确认注销”重试。"
	}
	s.reset()
	s.forgotten = true
	return "已注销。您的户档已删除，事项中的电话、地址、位置名称和语音也已删除。\n以后需要时，随时可以重新登记或报事。"
}

// 补充 编号: words, photos and voice notes for one open case.

func supplementSteps() []step {
	return []step{{
		name:   stepSupplement,
		prompt: (*Engine).promptSupplement,
		help:   "补充的文字、照片和语音会加到这件事项上，负责的网格员能看到。发完回复“完成”。",
		handle: (*Engine).handleSupplement,
	}}
}

func (e *Engine) promptSupplement(_ *core.Town, s *Session) string {
	return "请发送要补充的文字、照片或语音（编号：" + s.Case + "）。\n发完回复“完成”；回复“取消”退出。"
}

func (e *Engine) handleSupplement(ctx context.Context, town *core.Town, s *Session, in input) string {
	if isOneOf(in.norm, "完成", "好了", "没有了", "就这些") {
		s.reset()
		return "好的，补充完成。办理进展会在这里通知您。"
	}
	if _, isCmd := parseVerb(town.CasePrefix, in.raw, residentWords()); isCmd {
		// Another case command (进度, 撤回 …) ends the supplement.
		s.reset()
		return e.outside(ctx, town, s, in, e.now())
	}
	number := s.Case
	reply := e.supplement(ctx, number, in.from, core.Addition{Text: in.raw}, true)
	if !strings.HasPrefix(reply, "内容太长") {
		s.reset()
	}
	return reply
}
