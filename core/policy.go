package core

import (
	"errors"
	"fmt"
	"slices"
)

// The one policy of who may do what to a case. It is pure: the ledger asks
// it inside every write, with the case as it stands, and the channels
// (console, chat, pages) take from it the steps they offer and the words
// they refuse with. Nothing else decides.
//
// Town and village staff may act for a grid on any case they can see: in a
// town it is normal practice for the village or the town's office to take a
// case on, answer the resident or call a department when the grid cannot.
// Only the town puts a settled case back to work (重办); only departments
// take charge of (领办) or give back (退回) what was whistled to them.

// Step is one thing a person may do to a case.
type Step string

// Staff steps.
const (
	StepAccept     Step = "accept"     // 受理
	StepReply      Step = "reply"      // 回复
	StepRelay      Step = "relay"      // a photo or location to the resident, after a reply
	StepResolve    Step = "resolve"    // 办结
	StepWhistle    Step = "whistle"    // 吹哨
	StepTransfer   Step = "transfer"   // 转B
	StepSign       Step = "sign"       // 领办
	StepReturn     Step = "return"     // 退回
	StepReopen     Step = "reopen"     // 重办
	StepReclassify Step = "reclassify" // 更正类别或网格
	StepAskChange  Step = "ask_change" // 申请延期或挂起
	StepDecide     Step = "decide"     // 审批延期或挂起
	StepResume     Step = "resume"     // 恢复计时
	StepPublish    Step = "publish"    // 公开: the text the public may read (publish.go)
)

// Resident steps.
const (
	StepRate       Step = "rate"       // 评价
	StepNotFixed   Step = "not_fixed"  // 没解决
	StepSupplement Step = "supplement" // 补充
	StepWithdraw   Step = "withdraw"   // 撤回
	StepJoin       Step = "join"       // 附议
)

// staffSteps are the staff steps in the order channels offer them.
var staffSteps = [...]Step{StepAccept, StepReply, StepResolve, StepWhistle, StepTransfer,
	StepSign, StepReturn, StepReopen, StepReclassify, StepAskChange, StepDecide, StepResume, StepPublish}

// StaffSteps lists the staff steps in the order channels offer them (relay
// goes with reply and is not offered on its own).
func StaffSteps() []Step { return append(append(staffSteps[:], deskSteps[:]...), gridSteps...) }

// Label is the step in the words staff and residents read.
func (s Step) Label() string {
	switch s {
	case StepAccept:
		return "受理"
	case StepReply:
		return "回复"
	case StepRelay:
		return "转发照片或位置"
	case StepResolve:
		return "办结"
	case StepWhistle:
		return "吹哨"
	case StepTransfer:
		return "转B"
	case StepSign:
		return "领办"
	case StepReturn:
		return "退回"
	case StepReopen:
		return "重办"
	case StepReclassify:
		return "更正类别或网格"
	case StepAskChange:
		return "申请延期或挂起"
	case StepDecide:
		return "审批延期或挂起"
	case StepResume:
		return "恢复计时"
	case StepPublish:
		return "公开"
	case StepRate:
		return "评价"
	case StepNotFixed:
		return "反映没解决"
	case StepSupplement:
		return "补充"
	case StepWithdraw:
		return "撤回"
	case StepJoin:
		return "附议"
	}
	if label, ok := deskStepLabel(s); ok {
		return label
	}
	return gridStepLabel(s)
}

// Refusal is the policy's no: which step, why in plain Chinese for the
// person refused, and the kind of no for callers to test with errors.Is —
// ErrNotFound (they may not even see the case, so it is not confirmed to
// exist), ErrForbidden (not theirs to do), ErrWrongState (not now) or
// ErrNoChange (done already).
type Refusal struct {
	Step   Step
	Reason string
	Err    error
}

func (r *Refusal) Error() string { return fmt.Sprintf("%s refused: %v", r.Step, r.Err) }
func (r *Refusal) Unwrap() error { return r.Err }

// RefusalReason returns the plain-words reason of a refusal anywhere in
// err's chain.
func RefusalReason(err error) (string, bool) {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Reason, true
	}
	return "", false
}

func refuse(step Step, kind error, reason string) *Refusal {
	return &Refusal{Step: step, Reason: reason, Err: kind}
}

// The reasons more than one rule gives.
const (
	reasonNotFound = "没有找到这件事项，请核对编号。"
	reasonReturned = "贵部门已退回这件事项。"
	reasonClosed   = "这件事项已结案。"
	reasonSettled  = "这件事项已办结，正在等群众评价或已结案。"
)

// CanSee reports whether staff s may see case c: the town sees everything, a
// village its grids, a grid leader the grids where they hold post A or B (and
// any case assigned to them). Departments see the cases whistled to them.
func (t *Town) CanSee(s *Staff, c *Case) bool {
	if s == nil || s.Disabled {
		return false
	}
	if linkedLeader(s, c) {
		return true // the meeting's linked leader (meeting.go)
	}
	switch s.Role {
	case RoleTown:
		return true
	case RoleVillage:
		return c.Village == s.Village
	case RoleGridLeader:
		if c.Assignee == s.ID {
			return true
		}
		g := t.Grid(c.Grid)
		return g != nil && (g.LeaderA == s.ID || g.LeaderB == s.ID)
	case RoleDepartment:
		return c.Assist(s.Department) != nil
	}
	return false
}

// SeesPersonalData reports whether staff s may read the resident's phone,
// address and exact location on case c: whoever handles it — the assignee,
// a leader of its grid — and the town. Everyone else who may see the case
// sees them masked.
func (t *Town) SeesPersonalData(s *Staff, c *Case) bool {
	if !t.CanSee(s, c) {
		return false
	}
	if s.Role == RoleTown || c.Assignee == s.ID {
		return true
	}
	g := t.Grid(c.Grid)
	return g != nil && (g.LeaderA == s.ID || g.LeaderB == s.ID)
}

// MayWork reports whether staff s works on case c: whoever can see it,
// except a department that has given it back.
func (t *Town) MayWork(s *Staff, c *Case) bool {
	if !t.CanSee(s, c) {
		return false
	}
	if s.Role == RoleDepartment {
		return c.Assist(s.Department).State != AssistReturned
	}
	return true
}

// Permit decides whether staff s may take step on case c as it stands: nil,
// or a *Refusal.
func (t *Town) Permit(s *Staff, step Step, c *Case) error {
	if step == StepFileFor {
		return t.permitFileFor(s, c)
	}
	if !t.CanSee(s, c) {
		return refuse(step, ErrNotFound, reasonNotFound)
	}
	if isDeskStep(step) {
		return t.permitDesk(s, step, c)
	}
	if gridStep(step) {
		return t.permitGridStep(s, step, c) // the grid's own work (gridwork.go)
	}
	if err := permitRole(s, step, c); err != nil {
		return err
	}
	if err := t.permitState(step, c); err != nil {
		return err
	}
	if step == StepSign && c.Assist(s.Department).State == AssistSigned {
		return refuse(step, ErrNoChange, "这件事项已经领办过了。")
	}
	if step == StepDecide {
		return t.permitDecide(s, c)
	}
	return nil
}

// permitDecide is who may decide a pending request: not who asked for it,
// and a village's own request goes to the town.
func (t *Town) permitDecide(s *Staff, c *Case) error {
	if c.Pending.By == s.ID {
		return refuse(StepDecide, ErrForbidden, "不能审批自己的申请，请由村（社区）或镇里审批。")
	}
	if by := t.StaffMember(c.Pending.By); by != nil && by.Role != RoleGridLeader && by.Role != RoleDepartment &&
		s.Role != RoleTown {
		return refuse(StepDecide, ErrForbidden, "村（社区）提出的申请须由镇里审批。")
	}
	return nil
}

// permitRole is who may take which step on a case they can see.
func permitRole(s *Staff, step Step, c *Case) error {
	dept := s.Role == RoleDepartment
	switch step {
	case StepAccept, StepWhistle, StepTransfer:
		if dept {
			return refuse(step, ErrForbidden, "“"+step.Label()+"”由网格和村镇办理，部门请用“领办”或“退回”。")
		}
	case StepReply, StepRelay, StepResolve, StepAskChange, StepResume:
		if dept && c.Assist(s.Department).State == AssistReturned {
			return refuse(step, ErrForbidden, reasonReturned)
		}
	case StepSign, StepReturn:
		if !dept {
			return refuse(step, ErrForbidden, "“"+step.Label()+"”只适用于被吹哨的部门。")
		}
		if c.Assist(s.Department).State == AssistReturned {
			return refuse(step, ErrForbidden, reasonReturned)
		}
	case StepReopen:
		if s.Role != RoleTown {
			return refuse(step, ErrForbidden, "重办须由镇里决定。")
		}
	case StepReclassify:
		if s.Role != RoleTown && s.Role != RoleVillage {
			return refuse(step, ErrForbidden, "更正类别或网格须由村（社区）或镇里办理。")
		}
	case StepDecide:
		if s.Role != RoleTown && s.Role != RoleVillage {
			return refuse(step, ErrForbidden, "延期和挂起须由村（社区）或镇里审批。")
		}
	case StepPublish:
		if s.Role != RoleTown && s.Role != RoleVillage {
			return refuse(step, ErrForbidden, "公开须由村（社区）或镇里办理。")
		}
	default:
		return refuse(step, ErrForbidden, "工作人员不能进行“"+step.Label()+"”。")
	}
	return nil
}

// permitState is when a step may be taken.
func (t *Town) permitState(step Step, c *Case) error {
	switch step {
	case StepAccept:
		switch c.State {
		case StateSubmitted, StateAssigned, StateReopened:
			return nil
		case StateInProgress:
			return refuse(step, ErrNoChange, "这件事项已经受理过了。")
		}
		return refuse(step, ErrWrongState, reasonSettled)
	case StepReply, StepRelay:
		if c.State == StateClosed {
			return refuse(step, ErrWrongState, reasonClosed)
		}
		return nil
	case StepTransfer:
		if !c.State.Open() {
			return refuse(step, ErrWrongState, reasonSettled)
		}
		if g := t.Grid(c.Grid); g == nil || c.Post == PostB || g.LeaderB == "" || c.Assignee == g.LeaderB ||
			t.StaffMember(g.LeaderB) == nil || t.StaffMember(g.LeaderB).Disabled {
			return refuse(step, ErrNoChange, "这件事项已在B岗，或本网格没有B岗，不能再转。")
		}
		return nil
	case StepReopen:
		if c.State != StateResolved && c.State != StateClosed {
			return refuse(step, ErrWrongState, "只有已办结或已结案的事项才能重办。")
		}
		return nil
	case StepAskChange:
		switch {
		case !c.State.Open():
			return refuse(step, ErrWrongState, reasonSettled)
		case c.Pending != nil:
			return refuse(step, ErrNoChange, "已有待审批的"+c.Pending.Kind.Label()+"申请。")
		case c.Paused:
			return refuse(step, ErrWrongState, "这件事项已挂起，恢复计时后才能再申请。")
		}
		return nil
	case StepDecide:
		if !c.State.Open() {
			return refuse(step, ErrWrongState, reasonSettled)
		}
		if c.Pending == nil {
			return refuse(step, ErrWrongState, "没有待审批的延期或挂起申请。")
		}
		return nil
	case StepResume:
		if !c.Paused || !c.State.Open() {
			return refuse(step, ErrWrongState, "这件事项没有挂起。")
		}
		return nil
	case StepPublish:
		return t.permitPublish(c)
	}
	if !c.State.Open() {
		return refuse(step, ErrWrongState, reasonSettled)
	}
	return nil
}

// PermitMove decides whether staff s may move a case to grid g when
// correcting it: the town anywhere, a village among its own grids.
func (t *Town) PermitMove(s *Staff, g *Grid) error {
	if g == nil {
		return refuse(StepReclassify, ErrInvalid, "没有这个网格。")
	}
	if s != nil && s.Role == RoleVillage && g.Village != s.Village {
		return refuse(StepReclassify, ErrForbidden, "村（社区）只能在本村（社区）的网格之间调整。")
	}
	return nil
}

// Steps lists the staff steps s may take on c as it stands: what channels
// offer.
func (t *Town) Steps(s *Staff, c *Case) []Step {
	var out []Step
	for _, step := range append(append(staffSteps[:], deskSteps[:]...), gridSteps...) {
		if t.Permit(s, step, c) == nil {
			out = append(out, step)
		}
	}
	return out
}

// PermitResident decides whether resident (an opaque resident key) may take
// step on case c: nil, or a *Refusal. A resident acts on the cases they
// filed; one who joined a case (附议) rates it, and nothing more.
func PermitResident(resident string, step Step, c *Case) error {
	own := resident != "" && c.Resident == resident
	joined := resident != "" && slices.Contains(c.Joined, resident)
	switch step {
	case StepRate:
		if !own && !joined {
			return refuse(step, ErrNotFound, reasonNotFound)
		}
		if c.State != StateResolved && !(joined && c.State == StateClosed) {
			return refuse(step, ErrWrongState, "这件事项还没有办结，暂时不能评价。")
		}
	case StepNotFixed:
		if !own {
			return refuse(step, ErrNotFound, reasonNotFound)
		}
		if c.State != StateResolved {
			return refuse(step, ErrWrongState, "这件事项还没有办结。")
		}
	case StepSupplement, StepWithdraw:
		if joined {
			return refuse(step, ErrForbidden, "您是附议这件事项的，不能"+step.Label()+"；如有新情况，请另行报事。")
		}
		if !own {
			return refuse(step, ErrNotFound, reasonNotFound)
		}
		if !c.State.Open() {
			return refuse(step, ErrWrongState, reasonSettled)
		}
	case StepJoin:
		if own || joined {
			return refuse(step, ErrNoChange, "您已经在跟进这件事项了。")
		}
		if !c.State.Open() {
			return refuse(step, ErrWrongState, reasonSettled)
		}
		if len(c.Joined) >= MaxJoined {
			return refuse(step, ErrWrongState, "这件事项附议的人数已满。")
		}
	default:
		return refuse(step, ErrForbidden, "群众不能进行“"+step.Label()+"”。")
	}
	return nil
}

// Separated administration (三权分立, 等保 2.0 level 3). Three roles
// administer the service and work no case: they see none (CanSee is false
// for them). Each holds one duty; a staff member has one role, so no
// account holds two, and the working roles hold none.
//
//   - 系统管理员 (RoleSysAdmin): the working staff's accounts and posts;
//   - 审计管理员 (RoleAuditAdmin): reads and exports the audit trail, nothing
//     else;
//   - 安全管理员 (RoleSecAdmin): security settings and second-factor resets.
//
// Accounts of the three roles are made in the town directory file or with
// `gridbot staff` on the server, never on the console: a system
// administrator who could make an auditor account could read the trail of
// their own work.

// Duty is one administrative duty.
type Duty string

// Duties.
const (
	DutyStaff    Duty = "staff"    // staff accounts, passwords, posts, WeChat binding codes
	DutyAudit    Duty = "audit"    // the audit trail
	DutySecurity Duty = "security" // second factors, security settings
)

// Administers reports whether r is one of the three administrators.
func (r Role) Administers() bool {
	return r == RoleSysAdmin || r == RoleAuditAdmin || r == RoleSecAdmin
}

// MayAdminister reports whether staff s holds duty d.
func MayAdminister(s *Staff, d Duty) bool {
	if s == nil || s.Disabled {
		return false
	}
	switch d {
	case DutyStaff:
		return s.Role == RoleSysAdmin
	case DutyAudit:
		return s.Role == RoleAuditAdmin
	case DutySecurity:
		return s.Role == RoleSecAdmin
	}
	return false
}

// PermitStaffChange decides whether administrator s may change (add,
// disable, enable, reset the password of) the account of target, whose
// role is role: only the system administrator, only working accounts, and
// not their own.
func PermitStaffChange(s *Staff, target string, role Role) error {
	if !MayAdminister(s, DutyStaff) {
		return refuse("", ErrForbidden, "人员管理须由系统管理员办理。")
	}
	if role.Administers() {
		return refuse("", ErrForbidden, "管理员账号只能在镇村设置文件中或在服务器上用 gridbot staff 设置。")
	}
	if target == s.ID {
		return refuse("", ErrForbidden, "不能修改自己的账号。")
	}
	return nil
}
