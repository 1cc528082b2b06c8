package core

// The grid's own work (issue 19): patrol reports, callbacks, instructions,
// the coordination meeting, mediation and linked households. Each has its
// file; this one names their steps and events for people, so policy.go and
// event.go only fall back to it.

// gridStepLabel names the grid's own steps; unknown steps read as their
// code.
func gridStepLabel(s Step) string {
	switch s {
	case StepPatrol:
		return "上报"
	case StepCallback:
		return "回访"
	case StepInstruct:
		return "督办批示"
	case StepTable:
		return "提请会商"
	case StepConvene:
		return "会商决定"
	case StepMilestone:
		return "完成时间节点"
	case StepMediate:
		return "记录调解"
	case StepMediationEnded:
		return "调解结果"
	case StepVisit:
		return "走访"
	}
	return string(s)
}

// gridEventLabel names the grid's own events; unknown kinds read as their
// code.
func gridEventLabel(k EventKind) string {
	switch k {
	case EventCallbackDue:
		return "待回访"
	case EventCalledBack:
		return "回访"
	case EventInstructed:
		return "领导批示"
	case EventTabled:
		return "提请会商"
	case EventConvened:
		return "会商决定"
	case EventMilestoneDone:
		return "完成时间节点"
	case EventMilestoneWarned:
		return "时间节点临近"
	case EventMilestoneOverdue:
		return "时间节点逾期"
	case EventMediated:
		return "调解"
	case EventMediationEnded:
		return "调解结果"
	case EventHouseholdLinked:
		return "包联农户反映"
	}
	return string(k)
}

// gridSteps are the grid's own steps on a case, in the order channels
// offer them after the others.
var gridSteps = []Step{StepCallback, StepInstruct, StepTable, StepConvene, StepMilestone, StepMediate, StepMediationEnded}

// gridStep reports whether step is one of the grid's own steps on a case.
func gridStep(step Step) bool {
	for _, g := range gridSteps {
		if g == step {
			return true
		}
	}
	return false
}

// permitGridStep decides the grid's own steps for staff s, who may see c.
func (t *Town) permitGridStep(s *Staff, step Step, c *Case) error {
	switch step {
	case StepCallback:
		return permitCallback(s, c)
	case StepInstruct:
		return permitInstruct(s, c)
	case StepTable, StepConvene, StepMilestone:
		return t.permitMeeting(s, step, c)
	case StepMediate, StepMediationEnded:
		return t.permitMediation(s, step, c)
	}
	return refuse(step, ErrForbidden, "工作人员不能进行“"+step.Label()+"”。")
}

// EventLabel names event e for people: its kind's label, except that a
// patrol report's filing reads as found by the grid, not as a resident's.
func EventLabel(e Event) string {
	if e.Kind == EventSubmitted && e.Data[DataOrigin] == OriginPatrol {
		return "网格主动发现上报"
	}
	return e.Kind.Label()
}
