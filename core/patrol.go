package core

import (
	"context"
	"fmt"
	"strings"
)

// Patrol reports (主动发现, 未诉先办): grid workers are the town's 信息员 and
// 巡防员 and file what they find before anyone complains. A patrol report
// is a case like a resident's, filed on the finder's grid and routed the
// same way, but it has no resident: nobody is told its progress or asked
// to rate it, and resolving it settles it (the grid found it, the grid
// confirms it). Its Origin marks it, so the figures count it apart.

// StepPatrol is filing a patrol report (上报). It is not a step on a case
// that exists, so channels do not offer it among Town.Steps: it is asked of
// PermitPatrol with the grid the report is for.
const StepPatrol Step = "patrol"

// OriginPatrol marks a case found by the grid itself (Case.Origin); ""
// is a resident's (群众点单).
const OriginPatrol = "patrol"

// Keys of a patrol report's events' Data.
const (
	DataOrigin = "origin" // OriginPatrol on the submitted event
	DataFinder = "finder" // the staff ID who found it
)

// ReasonFound closes a patrol report when it is resolved (DataReason).
const ReasonFound = "found"

// maxPatrolPhotos bounds the photos one report carries.
const maxPatrolPhotos = 9

// PermitPatrol decides whether staff s may file a patrol report on grid g:
// a grid leader on the grids they hold post A or B of, a village on its
// grids, the town anywhere; departments report through the grid.
func (t *Town) PermitPatrol(s *Staff, g *Grid) error {
	switch {
	case s == nil || s.Disabled:
		return refuse(StepPatrol, ErrForbidden, "只有在册的工作人员才能上报。")
	case g == nil:
		return refuse(StepPatrol, ErrInvalid, "没有这个网格，请发送现场位置或选择网格。")
	}
	switch s.Role {
	case RoleTown:
		return nil
	case RoleVillage:
		if g.Village == s.Village {
			return nil
		}
		return refuse(StepPatrol, ErrForbidden, "只能上报本村（社区）网格内发现的问题。")
	case RoleGridLeader:
		if g.LeaderA == s.ID || g.LeaderB == s.ID {
			return nil
		}
		return refuse(StepPatrol, ErrForbidden, "只能上报自己负责的网格内发现的问题；其他网格的问题请告知该网格或村（社区）。")
	}
	return refuse(StepPatrol, ErrForbidden, "主动发现的问题由网格员和村（社区）、镇里上报；部门请通过网格反映。")
}

// Patrol files a problem staff member staff found as a case on grid
// d.Grid, marked as found by the grid (OriginPatrol), and routed like a
// resident's. A draft filed again with the same Key returns the case it
// filed the first time. ErrInvalid: an unknown category, no text or too
// much of it; the policy's refusal when the grid is not theirs.
func (l *Ledger) Patrol(ctx context.Context, staff string, d Draft) (Case, error) {
	return l.patrol(ctx, staff, d, "")
}

// patrol is Patrol, of a problem found at a linked household when
// household is set (a visit's, linked.go).
func (l *Ledger) patrol(ctx context.Context, staff string, d Draft, household string) (Case, error) {
	town := l.Town.Town()
	s := town.StaffMember(staff)
	g := town.Grid(d.Grid)
	if err := town.PermitPatrol(s, g); err != nil {
		return Case{}, fmt.Errorf("patrol by %q: %w", staff, err)
	}
	cat := town.Category(d.Category)
	if cat == nil {
		return Case{}, fmt.Errorf("patrol: category %q: %w", d.Category, ErrInvalid)
	}
	text := strings.TrimSpace(d.Text)
	switch {
	case text == "" || len([]rune(text)) > MaxTextLen:
		return Case{}, fmt.Errorf("patrol: text length: %w", ErrInvalid)
	case len(d.Key) > maxSubmitKeyLen:
		return Case{}, fmt.Errorf("patrol: key length: %w", ErrInvalid)
	case len(d.Photos) > maxPatrolPhotos:
		return Case{}, fmt.Errorf("patrol: %d photos: %w", len(d.Photos), ErrInvalid)
	}
	key := ""
	if d.Key != "" {
		// Keys are kept per resident; a report's are per finder, apart
		// from any resident's.
		key = "patrol:" + staff + ":" + d.Key
		if len(key) > maxSubmitKeyLen+len("patrol::")+len(staff) {
			return Case{}, fmt.Errorf("patrol: key length: %w", ErrInvalid)
		}
	}
	now := l.now().In(town.Zone())
	c := Case{
		State:     StateSubmitted,
		Category:  cat.Code,
		Text:      text,
		Photos:    d.Photos,
		Location:  d.Location,
		Village:   g.Village,
		Grid:      g.ID,
		Origin:    OriginPatrol,
		Finder:    s.ID,
		Household: household,
		SubmitKey: key,
		Deadline:  town.Deadline(cat, now),
		TermStart: now,
		CreatedAt: now,
		UpdatedAt: now,
	}
	ev := Event{Kind: EventSubmitted, Actor: s.ID, At: now,
		Data: map[string]string{DataGrid: g.ID, DataOrigin: OriginPatrol, DataFinder: s.ID}}
	c, _, err := l.Store.CreateCase(ctx, c, ev)
	if err != nil {
		return Case{}, fmt.Errorf("patrol: %w", err)
	}
	return c, nil
}

// Found reports whether c was found by the grid itself (主动发现).
func (c *Case) Found() bool { return c.Origin == OriginPatrol }

// settleFound closes a patrol report on its resolution: it has no
// resident to rate it, so the grid's word settles it (对账销号).
func (c *Case) settleFound(staff string, ev Event) []Event {
	if !c.Found() || c.Resident != "" {
		return []Event{ev}
	}
	c.State = StateClosed
	return []Event{ev, {Kind: EventClosed, Actor: staff, At: ev.At, Data: map[string]string{DataReason: ReasonFound}}}
}
