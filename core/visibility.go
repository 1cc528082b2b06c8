package core

// CanSee reports whether staff s may see case c: the town sees everything, a
// village its grids, a grid leader the grids where they hold post A or B (and
// any case assigned to them). Departments see the cases whistled to them.
func (t *Town) CanSee(s *Staff, c *Case) bool {
	if s == nil || s.Disabled {
		return false
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

// MayWork reports whether staff s may act on case c from their chat: a grid
// leader on the grid's cases, a department on cases whistled to it and not
// returned, a village on its villages' cases, the town on all.
func (t *Town) MayWork(s *Staff, c *Case) bool {
	if s != nil && s.Role == RoleDepartment {
		a := c.Assist(s.Department)
		return !s.Disabled && a != nil && a.State != AssistReturned
	}
	return t.CanSee(s, c)
}
