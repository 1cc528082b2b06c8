package core

// CanSee reports whether staff s may see case c: the town sees everything, a
// village its grids, a grid leader the grids where they hold post A or B (and
// any case assigned to them). Departments see cases whistled to them, which
// arrive with the whistle; until then they see none.
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
	}
	return false
}
