package core

import "slices"

// A CaseScope is one part of what a staff member may see that the stores
// keep an index of (CaseQuery.Within): a grid's cases, a village's, or the
// cases with one staff member (CaseStaff). Exactly one field is set.
type CaseScope struct {
	Grid    string
	Village string // Case.Village, as filed or moved, whatever the directory says now
	Staff   string // a staff ID: the cases CaseStaff gives them
}

// Match reports whether c is in the scope.
func (sc CaseScope) Match(c *Case) bool {
	switch {
	case sc.Grid != "":
		return c.Grid == sc.Grid
	case sc.Village != "":
		return c.Village == sc.Village
	case sc.Staff != "":
		return slices.Contains(CaseStaff(c), sc.Staff)
	}
	return false
}

// CaseStaff lists the staff members a case is with in person, whatever
// their role: its assignee, and the linked leader of its decided meeting
// (meeting.go). Stores index each case under each of them.
func CaseStaff(c *Case) []string {
	var out []string
	if c.Assignee != "" {
		out = append(out, c.Assignee)
	}
	if c.Meeting != nil && c.Meeting.Decided && c.Meeting.Leader != "" && c.Meeting.Leader != c.Assignee {
		out = append(out, c.Meeting.Leader)
	}
	return out
}

// Reach lists the scopes that together hold every case staff s may see
// (CanSee), for a store to read those indexes instead of the whole ledger;
// ok is false when no such list narrows it: the town sees everything, a
// department its department's cases (CaseQuery.Department). What s may
// see of them is still CanSee's to decide.
func (t *Town) Reach(s *Staff) (scopes []CaseScope, ok bool) {
	switch {
	case s == nil || s.Disabled:
		return nil, false
	case s.Role == RoleVillage:
		return []CaseScope{{Village: s.Village}, {Staff: s.ID}}, true
	case s.Role == RoleGridLeader:
		for _, g := range t.Grids {
			if g.LeaderA == s.ID || g.LeaderB == s.ID {
				scopes = append(scopes, CaseScope{Grid: g.ID})
			}
		}
		return append(scopes, CaseScope{Staff: s.ID}), true
	}
	return nil, false
}
