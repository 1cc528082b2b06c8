package wxpages

import (
	"context"

	"gridbot/core"
)

// Patrol reports from the report form (主动发现): bound staff who may
// report tick “作为网格主动发现上报”, and the form files a case found by
// the grid (core.Ledger.Patrol) instead of a resident's. The policy decides
// the grid (core.Town.PermitPatrol); its refusal is shown in its words.

// originPatrol is the form's value of field "origin" for a patrol report.
const originPatrol = core.OriginPatrol

// msgNotStaff answers a patrol report from someone who is not bound staff.
const msgNotStaff = "只有绑定的工作人员才能上报主动发现的问题。"

// mayPatrol reports whether the reader may file patrol reports at all
// (which grid is the policy's to decide).
func mayPatrol(rd *reader) bool {
	return rd.staff != nil && !rd.staff.Disabled && rd.staff.Role != core.RoleDepartment
}

// fileReport files the form's draft: a patrol report when the form asks
// for one, else the reader's own case.
func (s *Server) fileReport(ctx context.Context, rd *reader, origin string, d core.Draft) (core.Case, error) {
	if origin != originPatrol {
		return s.Ledger.Submit(ctx, rd.openid, d)
	}
	if rd.staff == nil {
		return core.Case{}, &core.Refusal{Step: core.StepPatrol, Reason: msgNotStaff, Err: core.ErrForbidden}
	}
	d.Phone, d.Address = "", "" // the finder's own phone is not the case's
	return s.Ledger.Patrol(ctx, rd.staff.ID, d)
}
