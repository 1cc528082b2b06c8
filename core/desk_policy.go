package core

// The everyday steps of a 网格 desk (issue 18): filing a case for a resident
// who phoned or walked in (代录, proxyfiling.go), internal notes
// (notes.go), urging the handler (催办) and flagging a case urgent (加急,
// urge.go), and merging a case into another found to be the same problem
// (merge.go). They are steps of the one policy: Permit sends them here, and
// the ledger asks inside each write, as for every other step.

// Desk steps.
const (
	StepFileFor Step = "file_for" // 代录: staff file a case for a resident
	StepNote    Step = "note"     // 内部备注: staff only, never shown to residents
	StepUrge    Step = "urge"     // 催办: the handler is pushed, and it is recorded
	StepUrgent  Step = "urgent"   // 加急: the deadline shortened by the category's rule
	StepMerge   Step = "merge"    // 合并: into a case found to be the same problem
)

// deskSteps are the desk steps on a case, in the order channels offer them
// (代录 is not a step on a case that exists).
var deskSteps = [...]Step{StepNote, StepUrge, StepUrgent, StepMerge}

// deskStepLabel names a desk step in the words staff read.
func deskStepLabel(s Step) (string, bool) {
	switch s {
	case StepFileFor:
		return "代录", true
	case StepNote:
		return "内部备注", true
	case StepUrge:
		return "催办", true
	case StepUrgent:
		return "加急", true
	case StepMerge:
		return "合并", true
	}
	return "", false
}

func isDeskStep(s Step) bool {
	_, ok := deskStepLabel(s)
	return ok
}

// supervisor reports whether s oversees grids' work: the village and the
// town, who urge, expedite and merge.
func supervisor(s *Staff) bool { return s.Role == RoleTown || s.Role == RoleVillage }

// permitDesk decides a desk step on a case s can see.
func (t *Town) permitDesk(s *Staff, step Step, c *Case) error {
	if step == StepNote {
		// Anyone who works on the case keeps notes on it, whatever its
		// state: a note after closing is still the desk's memory.
		if !t.MayWork(s, c) {
			return refuse(step, ErrForbidden, reasonReturned)
		}
		return nil
	}
	if !supervisor(s) {
		return refuse(step, ErrForbidden, "“"+step.Label()+"”须由村（社区）或镇里办理。")
	}
	if !c.State.Open() {
		return refuse(step, ErrWrongState, reasonSettled)
	}
	switch step {
	case StepUrge:
		if c.Assignee == s.ID {
			return refuse(step, ErrForbidden, "不能催办自己承办的事项。")
		}
		if c.Assignee == "" {
			return refuse(step, ErrWrongState, "这件事项还没有派给网格，暂不能催办。")
		}
	case StepUrgent:
		if c.Urgent {
			return refuse(step, ErrNoChange, "这件事项已经加急。")
		}
	}
	return nil
}

// permitFileFor decides whether s may file case c (not yet on the ledger)
// for a resident: the town anywhere, a village in its grids, a grid leader
// in the grids they hold; departments do not file.
func (t *Town) permitFileFor(s *Staff, c *Case) error {
	if s == nil || s.Disabled {
		return refuse(StepFileFor, ErrForbidden, "没有代录的权限。")
	}
	if s.Role == RoleDepartment {
		return refuse(StepFileFor, ErrForbidden, "部门不能代录事项，请交网格或村（社区）登记。")
	}
	if !t.CanSee(s, c) {
		return refuse(StepFileFor, ErrForbidden, "只能为本人负责的网格或村（社区）代录事项。")
	}
	return nil
}

// deskEventLabel names the desk's events in the words staff read.
func deskEventLabel(k EventKind) (string, bool) {
	switch k {
	case EventNoted:
		return "内部备注", true
	case EventUrged:
		return "催办", true
	case EventExpedited:
		return "加急", true
	case EventMerged:
		return "已合并到其他事项", true
	case EventMergedIn:
		return "并入相同事项", true
	}
	return "", false
}
