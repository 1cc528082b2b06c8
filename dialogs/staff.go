package dialogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"gridbot/core"
)

// StaffLedger is what the staff commands ask of the ledger; *core.Ledger
// satisfies it.
type StaffLedger interface {
	Case(ctx context.Context, number string) (core.Case, error)
	WorkList(ctx context.Context, s *core.Staff) ([]core.Case, error)
	Accept(ctx context.Context, number, staff string) (core.Case, []core.Event, error)
	Reply(ctx context.Context, number, staff, text string) (core.Case, []core.Event, error)
	Relay(ctx context.Context, number, staff string, photo *core.Media, loc *core.Location) (core.Case, []core.Event, error)
	Resolve(ctx context.Context, number, staff, result string) (core.Case, []core.Event, error)
	ResolveWithPhoto(ctx context.Context, number, staff, result string, photo core.Media) (core.Case, []core.Event, error)
	Whistle(ctx context.Context, number, staff, dept, reason string) (core.Case, []core.Event, error)
	Transfer(ctx context.Context, number, staff string) (core.Case, []core.Event, error)
	Sign(ctx context.Context, number, staff string) (core.Case, []core.Event, error)
	Return(ctx context.Context, number, staff, reason string) (core.Case, []core.Event, error)
	AskChange(ctx context.Context, number, staff string, change core.TermChange) (core.Case, []core.Event, error)
	DecideChange(ctx context.Context, number, staff string, approve bool, note string) (core.Case, []core.Event, error)
	Resume(ctx context.Context, number, staff string) (core.Case, []core.Event, error)
	Patrol(ctx context.Context, staff string, d core.Draft) (core.Case, error)
	RecordCallback(ctx context.Context, number, staff string, a core.CallbackAnswer) (core.Case, []core.Event, error)
	Instruct(ctx context.Context, number, staff, text string) (core.Case, []core.Event, error)
	Table(ctx context.Context, number, staff, reason string) (core.Case, []core.Event, error)
	ReachMilestone(ctx context.Context, number, staff, note string) (core.Case, []core.Event, error)
	Convene(ctx context.Context, number, staff string, d core.Decision) (core.Case, []core.Event, error)
	Mediate(ctx context.Context, number, staff, parties, mediators, outcome string) (core.Case, []core.Event, error)
	EndMediation(ctx context.Context, number, staff, result, note string) (core.Case, []core.Event, error)
}

var _ StaffLedger = (*core.Ledger)(nil)

// RelayWindow is how long after a 回复 a leader's photos and locations go to
// that case's resident.
const RelayWindow = 30 * time.Minute

// FixPhotoWindow is how long a photo staff send stays the photo of the fix
// (办结现场照片) that a 办结 sent next carries to the resident.
const FixPhotoWindow = 10 * time.Minute

// fixPhotoKey is the core.Ephemeral key of the last photo a staff member
// sent, while it may still be the photo of the fix.
func fixPhotoKey(openid string) string { return "stafffix:" + openid }

// fixPhoto is a photo staff sent in chat, kept for the 办结 that may follow.
type fixPhoto struct {
	// Case is the case it was relayed to, "" when it went to no case
	// (kept for a patrol report, or for 办结 alone).
	Case  string     `json:"case,omitempty"`
	Photo core.Media `json:"photo"`
}

// maxWorkListed bounds the cases 我的 lists for staff.
const maxWorkListed = 10

// relayKey is the core.Ephemeral key naming the case a staff member's
// photos go to.
func relayKey(openid string) string { return "staffrelay:" + openid }

// Desk answers staff in their own WeChat chat: binding (绑定 CODE) and the
// commands grid leaders and departments work cases with. Whoever is not
// bound is left to the resident dialogs, so a stranger's staff command gets
// the resident menu.
type Desk struct {
	Town   core.TownSource
	Ledger StaffLedger
	Roster *core.Roster
	// Keys holds which case a staff member's photos go to after 回复.
	Keys core.Ephemeral
	// Photos makes a photo sent on another channel than WeChat (WeCom)
	// one that WeChat can carry to a resident; nil tells such a sender
	// their photos cannot be relayed.
	Photos PhotoBridge
	// Logger receives failures (never message text); nil discards them.
	Logger *slog.Logger
	// Visits records visits to linked households (走访); nil answers that
	// they are not kept here.
	Visits *core.Visits
	// Now reads the clock (milestones' dates are read from today); nil is
	// time.Now.
	Now func() time.Time
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Desk) log() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// command is a parsed staff command.
type command struct {
	verb   string // the keyword, as in commands
	number string // the whole case number given, or ""
	// ref is the tail of a case number given short ("0001", "ST0001"), to
	// be matched against the sender's cases; "" when none was.
	ref  string
	rest string // what follows the keyword and the number, as written
	// args is everything after the keyword, as written: for commands
	// that take no case number (绑定).
	args string
}

// commandWords are the staff keywords, longest first where one starts
// another.
func commandWords() []string {
	return []string{"绑定", "受理", "回复", "办结", "吹哨", "转b岗", "转b", "领办", "退回", "我的", "帮助", "请假", "销假",
		"延期", "挂起", "不同意", "同意", "恢复", "上报", "回访", "批示", "督办", "会商决定", "会商", "节点完成",
		"调解结果", "调解", "通知走企业微信", "通知走微信", "走访上报", "走访", "包联"}
}

// parseCommand reads "受理 ST202611250001", "回复ST202611250001 明天去", "办结：已修好".
func parseCommand(prefix, text string) (command, bool) {
	return parseVerb(prefix, text, commandWords())
}

// halfWidth maps full-width forms to ASCII, for reading keywords and case
// numbers typed on a Chinese keyboard. What people wrote is never mapped.
func halfWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	return r
}

// separators may stand between a keyword, a case number and the rest.
const separators = " :,;：，；、\u3000\t\n"

// minRefDigits is the shortest tail of a case number taken as one before
// free text: in "办结 0001 已修好" 0001 is a case, in "办结 2 盏灯已换" 2 is
// not. A command that takes no text (受理 2) takes any tail.
const minRefDigits = 3

// parseVerb reads a command that starts with one of words (longest first
// where one starts another), then an optional case number, whole or its
// tail, then the rest, which keeps the sender's own characters and
// punctuation.
func parseVerb(prefix, text string, words []string) (command, bool) {
	text = strings.TrimSpace(text)
	key := strings.ToLower(strings.Map(halfWidth, text))
	for _, w := range words {
		if !strings.HasPrefix(key, w) {
			continue
		}
		verb := strings.TrimSuffix(w, "岗")
		// The keyword is as many runes in text as in w.
		rest := strings.TrimLeft(string([]rune(text)[len([]rune(w)):]), separators)
		args := strings.TrimSpace(rest)
		first, after := rest, ""
		if i := strings.IndexAny(rest, separators); i >= 0 {
			first, after = rest[:i], rest[i:]
		}
		token := strings.Map(halfWidth, first)
		if n, ok := core.CaseNumberLike(prefix, token); ok {
			return command{verb: verb, number: n, rest: strings.TrimLeft(after, separators), args: args}, true
		}
		if ref, ok := caseRef(prefix, token); ok {
			return command{verb: verb, ref: ref, rest: strings.TrimLeft(after, separators), args: args}, true
		}
		return command{verb: verb, rest: args, args: args}, true
	}
	return command{}, false
}

// caseRef reads the tail of a case number: digits, with or without the
// town's prefix.
func caseRef(prefix, token string) (string, bool) {
	if len(token) > len(prefix) && strings.EqualFold(token[:len(prefix)], prefix) {
		token = token[len(prefix):]
	}
	if token == "" || len(token) > 12 {
		return "", false
	}
	for _, r := range token {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return token, true
}

// Answer handles m when it is a staff matter: ok is false when m is to be
// answered by the resident dialogs instead. err is for store failures the
// caller answers with "busy".
func (d *Desk) Answer(ctx context.Context, m core.Message) (reply string, ok bool, err error) {
	town := d.Town.Town()
	cmd, isCmd := command{}, false
	if m.Kind == core.MessageText {
		cmd, isCmd = parseCommand(town.CasePrefix, m.Text)
	}
	if isCmd && cmd.verb == "绑定" {
		return d.bind(ctx, m.From, cmd), true, nil
	}
	s, err := d.Roster.StaffFrom(ctx, m.From)
	if err != nil || s == nil {
		return "", false, err
	}
	if m.Kind != core.MessageImage && !(isCmd && cmd.verb == "办结") {
		// The photo of the fix is the one sent right before 办结:
		// anything else sent between them ends it.
		d.forgetFixPhoto(ctx, m.From)
	}
	switch m.Kind {
	case core.MessageText:
		if !isCmd {
			if answer, ok := d.chooseVisit(ctx, town, s, m.From, m.Text); ok {
				return answer, true, nil
			}
			return d.unknown(ctx, town, s, m.From), true, nil
		}
		return d.run(ctx, town, s, m.From, cmd), true, nil
	case core.MessageImage, core.MessageLocation:
		return d.relay(ctx, s, m), true, nil
	case core.MessageEvent:
		if m.Event == core.EventNameSubscribe || m.Event == core.EventNameClick {
			return d.help(s), true, nil
		}
		return "", true, nil
	}
	return "抱歉，暂不支持此类消息，请用文字发送指令。\n" + d.help(s), true, nil
}

func (d *Desk) bind(ctx context.Context, openid string, cmd command) string {
	code := cmd.args
	if code == "" {
		return "请发送“绑定 绑定码”，绑定码向管理员获取。"
	}
	s, err := d.Roster.Bind(ctx, openid, code)
	switch {
	case errors.Is(err, core.ErrBindLimit):
		return "绑定码错误次数过多，请一小时后再试。"
	case errors.Is(err, core.ErrInvalid):
		return "绑定码无效或已过期，请向管理员重新获取。"
	case errors.Is(err, core.ErrConflict):
		return "这个微信已绑定其他工作人员，或该工作人员已绑定其他微信，请联系管理员。"
	case err != nil:
		d.log().ErrorContext(ctx, "dialogs: bind failed", "err", err)
		return "抱歉，暂时没能绑定，请稍后再试。"
	}
	return fmt.Sprintf("绑定成功！%s（%s），以后的事项会推送到这里。\n", s.Name, roleLabel(s.Role)) + d.help(s)
}

func roleLabel(r core.Role) string {
	switch r {
	case core.RoleTown:
		return "镇"
	case core.RoleVillage:
		return "村（社区）"
	case core.RoleDepartment:
		return "部门"
	}
	return "网格长"
}

// help lists the commands of s's role, and the choice of channel where
// staff are reached on more than one.
func (d *Desk) help(s *core.Staff) string {
	h := staffHelp(s)
	if d.Roster != nil && len(d.Roster.Channels) > 1 {
		h = strings.Replace(h, "\n帮助 —— 本说明", "\n通知走企业微信 / 通知走微信 —— 选择通知先发到哪里（发不出时改发另一个）\n帮助 —— 本说明", 1)
	}
	return h
}

// channelNames are the channels as staff call them.
var channelNames = map[core.Channel]string{core.ChannelWeChat: "微信", core.ChannelWeCom: "企业微信"}

// choose records the channel s wants notices on first (通知走企业微信,
// 通知走微信): they must have an address there, and it must run here.
func (d *Desk) choose(ctx context.Context, s *core.Staff, verb string) string {
	ch, other := core.ChannelWeChat, core.ChannelWeCom
	if verb == "通知走企业微信" {
		ch, other = core.ChannelWeCom, core.ChannelWeChat
	}
	if !slices.Contains(d.Roster.Channels, ch) && !(ch == core.ChannelWeChat && len(d.Roster.Channels) == 0) {
		return "本镇没有开通" + channelNames[ch] + "通知，通知都发到" + channelNames[other] + "。"
	}
	err := d.Roster.SetPrefers(ctx, s.ID, ch)
	switch {
	case errors.Is(err, core.ErrInvalid):
		return "您还没有绑定" + channelNames[ch] + "。请向管理员获取绑定码，在" + channelNames[ch] + "里发送“绑定 绑定码”后再设置。"
	case err != nil:
		d.log().ErrorContext(ctx, "dialogs: choose channel", "err", err)
		return "抱歉，暂时没能设置，请稍后再试。"
	}
	if !slices.Contains(d.Roster.Channels, other) {
		return "已设置：通知发到" + channelNames[ch] + "。"
	}
	return "已设置：以后的通知先发到" + channelNames[ch] + "；" + channelNames[ch] + "发不出时改发" + channelNames[other] + "。"
}

// staffHelp lists the commands of s's role.
func staffHelp(s *core.Staff) string {
	switch s.Role {
	case core.RoleDepartment:
		return "部门指令（编号可省略，指最近推送给您的事项）：\n" +
			"领办 编号 —— 签收吹哨事项\n" +
			"退回 编号 理由 —— 退回给网格和镇里\n" +
			"回复 编号 内容 —— 答复群众\n" +
			"办结 编号 结果 —— 办结\n" +
			"延期 编号 天数 理由 / 挂起 编号 理由 —— 申请延期或挂起，由村镇审批\n" +
			"我的 —— 我的待办\n" +
			"帮助 —— 本说明"
	case core.RoleGridLeader:
		return "网格长指令（编号可省略，指最近推送给您的事项）：\n" +
			"受理 编号 —— 接单\n" +
			"回复 编号 内容 —— 答复群众（之后发的照片、位置也会转给群众）\n" +
			"办结 编号 结果 —— 办结\n" +
			"吹哨 编号 部门 理由 —— 请部门协助\n" +
			"转B 编号 —— 交B岗办理\n" +
			"延期 编号 天数 理由 / 挂起 编号 理由 —— 申请延期或挂起，由村镇审批\n" +
			"恢复 编号 —— 挂起的事项恢复计时\n" +
			"上报 描述 —— 上报巡查发现的问题（可先发照片和位置）\n" +
			"会商 编号 理由 —— 提请镇工作会商；节点完成 编号 —— 会商定的时间节点已完成\n" +
			"调解 编号 当事人 张三、李四；调解情况 —— 记录纠纷调解；调解结果 编号 成功/未成功/转司法\n" +
			"走访 户 情况 —— 记录包联户走访；走访上报 户 问题 —— 走访发现的问题上报办理；包联 —— 我的包联户\n" +
			"请假 / 销假 —— 请假期间新事项交B岗\n" +
			"我的 —— 我的待办\n" +
			"帮助 —— 本说明"
	}
	return "工作指令：\n" +
		"回复 编号 内容 —— 答复群众\n" +
		"办结 编号 结果 —— 办结\n" +
		"吹哨 编号 部门 理由 —— 请部门协助\n" +
		"同意 编号 / 不同意 编号 理由 —— 审批延期或挂起\n" +
		"恢复 编号 —— 挂起的事项恢复计时\n" +
		"上报 描述 —— 上报发现的问题（可先发照片和位置）\n" +
		"回访 编号 已联系 满意/不满意 / 未联系上 原因 —— 记录回访\n" +
		"批示 编号 内容 —— （镇领导）督办批示，推送给办理人\n" +
		"会商 编号 理由 —— 提请镇工作会商；节点完成 编号 —— 时间节点已完成\n" +
		"会商决定 编号 挂钩领导 姓名；帮办 措施；月-日 节点 —— （镇里）记录会商决定\n" +
		"调解 编号 当事人 张三、李四；调解情况 —— 记录纠纷调解；调解结果 编号 成功/未成功/转司法\n" +
		"走访 户 情况 —— 记录包联户走访；走访上报 户 问题 —— 走访发现的问题上报办理；包联 —— 我的包联户\n" +
		"我的 —— 待办事项\n" +
		"帮助 —— 本说明"
}

// unknown answers text that is no command: never relayed by guesswork.
func (d *Desk) unknown(ctx context.Context, town *core.Town, s *core.Staff, openid string) string {
	last, err := d.Roster.LastCase(ctx, s.ID)
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: last case", "err", err)
	}
	if last == "" {
		return "没有认出这条指令。\n" + d.help(s)
	}
	return "没有认出这条指令，这条消息没有转给群众。\n" +
		"如果要答复编号：" + last + " 的群众，请发送：回复 " + last + " 内容\n" +
		"回复“帮助”查看全部指令。"
}

// PhotoBridge makes a photo sent on a channel other than WeChat one that
// WeChat can carry to a resident (wecom.Photos): number is the case it is
// relayed to, "" when it waits for a patrol report. An error wrapping
// core.ErrInvalid means sending it again cannot help.
type PhotoBridge interface {
	Bridge(ctx context.Context, m core.Message, number string) (core.Media, error)
}

// relay sends a photo or location to the resident of the case last
// replied to.
func (d *Desk) relay(ctx context.Context, s *core.Staff, m core.Message) string {
	number, ok, err := d.Keys.Get(ctx, relayKey(m.From))
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: relay target", "err", err)
		return "抱歉，暂时没能转发，请稍后再试。"
	}
	if !ok && !mayPatrol(s) && m.Kind != core.MessageImage {
		return "如需把照片或位置发给群众，请先发送“回复 编号 内容”，再在30分钟内发送。"
	}
	if m.Kind == core.MessageImage && core.ParseAddress(m.From).Channel != core.ChannelWeChat {
		if answer, bridged := d.bridge(ctx, &m, string(number)); !bridged {
			return answer
		}
	}
	if m.Kind == core.MessageImage {
		d.keepFixPhoto(ctx, m.From, fixPhoto{Case: string(number), Photo: core.Media{MediaID: m.MediaID, URL: m.PicURL}})
	}
	if !ok && !mayPatrol(s) {
		return "收到照片。如果是办结现场照片，请接着发送“办结 编号 办理结果”，照片会随结果发给群众。\n" +
			"如果是要发给群众的，请先发送“回复 编号 内容”，再在30分钟内发送照片。"
	}
	if !ok {
		return d.keepForPatrol(ctx, d.Town.Town(), s, m)
	}
	var photo *core.Media
	if m.Kind == core.MessageImage {
		photo = &core.Media{MediaID: m.MediaID, URL: m.PicURL}
	}
	_, _, err = d.Ledger.Relay(ctx, string(number), s.ID, photo, m.Location)
	if err != nil {
		return d.failed(ctx, string(number), err)
	}
	if photo == nil {
		return "已把位置转给群众。\n编号：" + string(number)
	}
	return "已把照片转给群众。如果是办结现场照片，接着发送“办结 " + string(number) + " 办理结果”，照片会随结果一起发给群众。\n编号：" + string(number)
}

// keepFixPhoto keeps the photo staff just sent as the photo of the fix of
// the 办结 they may send next. Failing to keep it loses only that: logged.
func (d *Desk) keepFixPhoto(ctx context.Context, openid string, p fixPhoto) {
	b, err := json.Marshal(p)
	if err == nil {
		err = d.Keys.Set(ctx, fixPhotoKey(openid), b, FixPhotoWindow)
	}
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: keep fix photo", "err", err)
	}
}

func (d *Desk) forgetFixPhoto(ctx context.Context, openid string) {
	if err := d.Keys.Delete(ctx, fixPhotoKey(openid)); err != nil {
		d.log().ErrorContext(ctx, "dialogs: forget fix photo", "err", err)
	}
}

// takeFixPhoto returns the photo staff sent right before resolving case
// number: one relayed to that case or to none, within FixPhotoWindow.
func (d *Desk) takeFixPhoto(ctx context.Context, openid, number string) (fixPhoto, bool) {
	b, ok, err := d.Keys.Get(ctx, fixPhotoKey(openid))
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: fix photo", "err", err)
		return fixPhoto{}, false
	}
	var p fixPhoto
	if !ok || json.Unmarshal(b, &p) != nil || p.Photo.MediaID == "" || (p.Case != "" && p.Case != number) {
		return fixPhoto{}, false
	}
	return p, true
}

// resolve is 办结: with the photo sent right before it, when there is one,
// as the photo of the fix the resident sees with the result.
func (d *Desk) resolve(ctx context.Context, s *core.Staff, openid, number, result string, c *core.Case) string {
	done := func(what string) string { return what + "\n编号：" + number }
	p, ok := d.takeFixPhoto(ctx, openid, number)
	if !ok {
		_, _, err := d.Ledger.Resolve(ctx, number, s.ID, result)
		return d.outcome(ctx, number, err, done(foundOr(c, "已办结，主动发现的事项办结即销号。", "已办结，群众会收到结果并评价。")))
	}
	_, _, err := d.Ledger.ResolveWithPhoto(ctx, number, s.ID, result, p.Photo)
	if err == nil {
		d.forgetFixPhoto(ctx, openid)
		if p.Case == "" {
			d.dropPatrolPhoto(ctx, openid, p.Photo.MediaID)
		}
	}
	return d.outcome(ctx, number, err, done(foundOr(c, "已办结，附办结现场照片，主动发现的事项办结即销号。",
		"已办结，办结现场照片随结果发给群众，群众会评价。")))
}

// bridge turns the photo of m, sent on another channel than WeChat, into
// WeChat's; when it cannot, answer tells the sender.
func (d *Desk) bridge(ctx context.Context, m *core.Message, number string) (answer string, ok bool) {
	if d.Photos == nil {
		return "这里发的照片暂时不能转给群众，请用文字说明，或在微信公众号里发送。", false
	}
	photo, err := d.Photos.Bridge(ctx, *m, number)
	switch {
	case errors.Is(err, core.ErrInvalid):
		d.log().WarnContext(ctx, "dialogs: photo not relayable", "err", err)
		return "这张照片没能收下（可能太大或已过期），请换一张或重新拍摄后再发。", false
	case err != nil:
		d.log().ErrorContext(ctx, "dialogs: photo bridge", "err", err)
		return "抱歉，照片暂时没能转发，请稍后再发一次。", false
	}
	m.MediaID, m.PicURL = photo.MediaID, photo.URL
	return "", true
}

// run carries out a command.
func (d *Desk) run(ctx context.Context, town *core.Town, s *core.Staff, openid string, cmd command) string {
	switch cmd.verb {
	case "帮助":
		return d.help(s)
	case "通知走企业微信", "通知走微信":
		return d.choose(ctx, s, cmd.verb)
	case "我的":
		return d.workList(ctx, town, s)
	case "请假", "销假":
		away := cmd.verb == "请假"
		if err := d.Roster.SetAway(ctx, s.ID, away); err != nil {
			d.log().ErrorContext(ctx, "dialogs: set leave", "err", err)
			return "抱歉，暂时没能登记，请稍后再试。"
		}
		if away {
			return "已登记请假。请假期间新事项交B岗办理；回复“销假”恢复。"
		}
		return "已销假，新事项恢复由您办理。"
	case "上报":
		return d.patrol(ctx, town, s, openid, cmd.args)
	case "走访", "走访上报":
		return d.visit(ctx, town, s, openid, cmd.args, cmd.verb == "走访上报")
	case "包联":
		return d.linkedList(ctx, s)
	}
	need := map[string]string{
		"回复":   "请写上回复群众的内容，例如：回复 %s 明天上午到现场查看。",
		"办结":   "请写上办理结果，例如：办结 %s 已更换路灯。",
		"吹哨":   "请写上要吹哨的部门，例如：吹哨 %s 城建办 需要更换灯杆。",
		"退回":   "请写上退回理由，例如：退回 %s 不属于本部门职责。",
		"延期":   "请写上延长的工作日天数和理由，例如：延期 %s 5 等待配件到货。",
		"挂起":   "请写上挂起的理由，例如：挂起 %s 等待法院判决。",
		"不同意":  "请写上不同意的理由，例如：不同意 %s 请先联系供电所。",
		"回访":   callbackAsk,
		"批示":   "请写上批示内容，例如：批示 %s 请三天内办结，镇里派人协助。",
		"督办":   "请写上批示内容，例如：督办 %s 请三天内办结，镇里派人协助。",
		"会商":   "请写上提请会商的理由，例如：会商 %s 涉及资金，网格无法解决。",
		"会商决定": conveneAsk,
		"调解":   mediateAsk,
		"调解结果": mediationEndAsk,
	}
	if _, takesText := need[cmd.verb]; takesText && cmd.ref != "" && len(cmd.ref) < minRefDigits {
		cmd.ref, cmd.rest = "", cmd.args // a short number before text is text
	}
	number, answer := d.resolveNumber(ctx, town, s, openid, cmd)
	if number == "" {
		return answer
	}
	if f, ok := need[cmd.verb]; ok && cmd.rest == "" {
		return strings.ReplaceAll(f, "%s", number)
	}
	c, err := d.Ledger.Case(ctx, number)
	if errors.Is(err, core.ErrNotFound) || (err == nil && !town.CanSee(s, &c)) {
		// A case the sender may not see is answered as one that does not
		// exist, so chat never confirms what is not theirs.
		return d.notFound(ctx, town, s, number)
	} else if err != nil {
		return d.failed(ctx, number, err)
	}
	done := func(what string) string { return what + "\n编号：" + number }
	switch cmd.verb {
	case "受理":
		_, _, err = d.Ledger.Accept(ctx, number, s.ID)
		return d.outcome(ctx, number, err, done(foundOr(&c, "已受理。", "已受理，群众会收到通知。")))
	case "回复":
		_, _, err = d.Ledger.Reply(ctx, number, s.ID, cmd.rest)
		if err == nil {
			if err := d.Keys.Set(ctx, relayKey(openid), []byte(number), RelayWindow); err != nil {
				d.log().ErrorContext(ctx, "dialogs: relay target", "err", err)
			}
		}
		return d.outcome(ctx, number, err, done("已回复群众（以"+town.PlaceName(c.Grid)+"的名义）。30分钟内发送的照片、位置也会转给群众。"))
	case "办结":
		return d.resolve(ctx, s, openid, number, cmd.rest, &c)
	case "吹哨":
		name, reason, _ := strings.Cut(cmd.rest, " ")
		dept := town.DepartmentByName(name)
		if dept == nil {
			return "没有找到“" + name + "”这个部门。可吹哨的部门：" + deptNames(town) + "。"
		}
		_, _, err = d.Ledger.Whistle(ctx, number, s.ID, dept.ID, reason)
		if errors.Is(err, core.ErrNoChange) {
			return done("已经向" + dept.Name + "吹过哨了，正在等部门领办。")
		}
		return d.outcome(ctx, number, err, done("已向"+dept.Name+"吹哨，部门领办后会通知您。"))
	case "转b":
		_, _, err = d.Ledger.Transfer(ctx, number, s.ID)
		return d.outcome(ctx, number, err, done("已转交B岗办理。"))
	case "领办":
		_, _, err = d.Ledger.Sign(ctx, number, s.ID)
		return d.outcome(ctx, number, err, done("已领办，网格和群众会收到通知。"))
	case "退回":
		_, _, err = d.Ledger.Return(ctx, number, s.ID, cmd.rest)
		return d.outcome(ctx, number, err, done("已退回，网格和镇里会收到通知。"))
	case "延期":
		days, reason := leadingDays(cmd.rest)
		if days == 0 || reason == "" {
			return fmt.Sprintf(need["延期"], number)
		}
		_, _, err = d.Ledger.AskChange(ctx, number, s.ID, core.TermChange{Kind: core.ChangeExtend, Days: days, Reason: reason})
		return d.outcome(ctx, number, err, done(fmt.Sprintf("已申请延期%d个工作日，等待村（社区）或镇里审批。", days)))
	case "挂起":
		_, _, err = d.Ledger.AskChange(ctx, number, s.ID, core.TermChange{Kind: core.ChangePause, Reason: cmd.rest})
		return d.outcome(ctx, number, err, done("已申请挂起，等待村（社区）或镇里审批；批准前期限照常计算。"))
	case "同意", "不同意":
		approve := cmd.verb == "同意"
		var what string
		if p := c.Pending; p != nil {
			what = p.Kind.Label()
		}
		_, _, err = d.Ledger.DecideChange(ctx, number, s.ID, approve, cmd.rest)
		if approve {
			return d.outcome(ctx, number, err, done("已同意"+what+"，申请人会收到通知。"))
		}
		return d.outcome(ctx, number, err, done("已不同意"+what+"，申请人会收到通知。"))
	case "回访":
		return d.callback(ctx, number, s, cmd.rest)
	case "会商":
		_, _, err = d.Ledger.Table(ctx, number, s.ID, cmd.rest)
		return d.outcome(ctx, number, err, done("已提请会商，列入镇工作会商议程。"))
	case "会商决定":
		return d.convene(ctx, town, number, s, cmd.rest, d.now())
	case "调解":
		return d.mediate(ctx, number, s, cmd.rest)
	case "调解结果":
		return d.endMediation(ctx, number, s, cmd.rest)
	case "节点完成":
		_, _, err = d.Ledger.ReachMilestone(ctx, number, s.ID, cmd.rest)
		return d.outcome(ctx, number, err, done("已标记当前时间节点完成。"))
	case "批示", "督办":
		_, _, err = d.Ledger.Instruct(ctx, number, s.ID, cmd.rest)
		return d.outcome(ctx, number, err, done("已批示，办理人会收到推送；批示记在事项上。"))
	case "恢复":
		_, _, err = d.Ledger.Resume(ctx, number, s.ID)
		return d.outcome(ctx, number, err, done("已恢复计时，期限顺延挂起的时间。"))
	}
	return d.help(s)
}

// maxRefMatches bounds the cases listed when a short number fits several.
const maxRefMatches = 5

// resolveNumber finds the case a command means: the number given whole; the
// one case among the sender's own whose number ends with the tail given; or,
// when none was given, the case last pushed to the sender. A number given is
// never replaced by a guess: when it fits none or several, number is "" and
// answer says so.
func (d *Desk) resolveNumber(ctx context.Context, town *core.Town, s *core.Staff, openid string, cmd command) (number, answer string) {
	switch {
	case cmd.number != "":
		return cmd.number, ""
	case cmd.ref != "":
		cases, err := d.Ledger.WorkList(ctx, s)
		if err != nil {
			d.log().ErrorContext(ctx, "dialogs: work list", "err", err)
			return "", "抱歉，暂时查不到事项，请稍后再试。"
		}
		var fit []string
		for _, c := range cases {
			if strings.HasSuffix(c.Number, cmd.ref) {
				fit = append(fit, c.Number)
			}
		}
		switch {
		case len(fit) == 1:
			return fit[0], ""
		case len(fit) == 0:
			return "", d.notFound(ctx, town, s, cmd.ref)
		}
		if len(fit) > maxRefMatches {
			fit = fit[:maxRefMatches]
		}
		return "", "编号以 " + cmd.ref + " 结尾的待办有多件，请发送完整编号：\n" + strings.Join(fit, "\n")
	}
	last, err := d.Roster.LastCase(ctx, s.ID)
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: last case", "err", err)
	}
	if last == "" {
		return "", "请写上事项编号，例如：" + cmd.verb + " " + town.CasePrefix + "202611250001"
	}
	return last, ""
}

// notFound answers a number that fits no case the sender may act on, with
// the sender's open cases to choose from.
func (d *Desk) notFound(ctx context.Context, town *core.Town, s *core.Staff, number string) string {
	msg := "没有找到编号：" + number + " 的事项，请核对编号。"
	cases, err := d.Ledger.WorkList(ctx, s)
	if err != nil || len(cases) == 0 {
		return msg
	}
	var b strings.Builder
	b.WriteString(msg + "\n您的待办：")
	for i, c := range cases {
		if i == maxRefMatches {
			b.WriteString("\n……回复“我的”查看全部。")
			break
		}
		b.WriteString("\n" + c.Number + " " + categoryName(town, c.Category))
	}
	return b.String()
}

// outcome turns a ledger answer into the reply.
func (d *Desk) outcome(ctx context.Context, number string, err error, ok string) string {
	if err == nil {
		return ok
	}
	return d.failed(ctx, number, err)
}

func (d *Desk) failed(ctx context.Context, number string, err error) string {
	if reason, ok := core.RefusalReason(err); ok {
		return reason + "\n编号：" + number
	}
	switch {
	case errors.Is(err, core.ErrWrongState), errors.Is(err, core.ErrNoChange):
		return "编号：" + number + " 当前状态不能进行此操作。"
	case errors.Is(err, core.ErrInvalid):
		return "内容太长或不完整，请检查后重发（最多" + fmt.Sprint(core.MaxTextLen) + "字）。"
	}
	d.log().ErrorContext(ctx, "dialogs: staff command failed", "case", number, "err", err)
	return "抱歉，暂时没能办理，请稍后再试。"
}

func deptNames(town *core.Town) string {
	names := make([]string, len(town.Departments))
	for i, dp := range town.Departments {
		names[i] = dp.Name
	}
	return strings.Join(names, "、")
}

// workList answers 我的 for staff.
func (d *Desk) workList(ctx context.Context, town *core.Town, s *core.Staff) string {
	cases, err := d.Ledger.WorkList(ctx, s)
	if err != nil {
		d.log().ErrorContext(ctx, "dialogs: work list", "err", err)
		return "抱歉，暂时查不到待办，请稍后再试。"
	}
	if len(cases) == 0 {
		return "您目前没有待办事项。"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "您有%d件待办：", len(cases))
	for i, c := range cases {
		if i == maxWorkListed {
			fmt.Fprintf(&b, "\n另有%d件未列出，请到工作台查看。", len(cases)-maxWorkListed)
			break
		}
		name := categoryName(town, c.Category)
		flag := ""
		switch c.Warning {
		case core.WarningYellow:
			flag = "（临期）"
		case core.WarningRed:
			flag = "（已超期）"
		}
		fmt.Fprintf(&b, "\n%d. 编号：%s\n%s · %s\n期限：%s%s", i+1, c.Number, name, c.State.Label(),
			c.Deadline.In(town.Zone()).Format("01-02 15:04"), flag)
	}
	return b.String()
}

// leadingDays reads "5 等待配件" or "5天 等待配件" or "5个工作日，等待配件":
// the working days asked, then the reason; days is 0 when none lead.
func leadingDays(s string) (days int, reason string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 3 {
		days = days*10 + int(s[i]-'0')
		i++
	}
	if i == 0 {
		return 0, s
	}
	rest := s[i:]
	for _, unit := range []string{"个工作日", "工作日", "天"} {
		rest = strings.TrimPrefix(rest, unit)
	}
	return days, strings.TrimLeft(rest, separators)
}
