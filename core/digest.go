package core

import (
	"slices"
	"time"
)

// Digest is a grid team's morning digest (每日待办): what came in over the
// last day and what the open cases' deadlines say, each list oldest
// deadline first.
type Digest struct {
	New      []Case // filed in the 24 hours before the digest, in any state
	DueToday []Case // open, due later today (the town's day)
	Yellow   []Case // open, warned that the deadline is near (黄灯)
	Red      []Case // open, reported overdue (红灯)
	Overdue  []Case // open, not paused, past the deadline now
}

// DigestOf sorts cases (a grid's or a village's) into the digest as of
// now. A case counts in every list it fits.
func DigestOf(t *Town, cases []Case, now time.Time) Digest {
	var d Digest
	y, m, day := now.In(t.Zone()).Date()
	endOfDay := time.Date(y, m, day+1, 0, 0, 0, 0, t.Zone())
	for _, c := range cases {
		if !c.CreatedAt.Before(now.Add(-24*time.Hour)) && !c.CreatedAt.After(now) {
			d.New = append(d.New, c)
		}
		if !c.State.Open() {
			continue
		}
		late := !c.Deadline.IsZero() && !now.Before(c.Deadline) && !c.Paused
		if !c.Deadline.IsZero() && !late && c.Deadline.Before(endOfDay) {
			d.DueToday = append(d.DueToday, c)
		}
		switch c.Warning {
		case WarningYellow:
			d.Yellow = append(d.Yellow, c)
		case WarningRed:
			d.Red = append(d.Red, c)
		}
		if late {
			d.Overdue = append(d.Overdue, c)
		}
	}
	byDeadline := func(a, b Case) int { return a.Deadline.Compare(b.Deadline) }
	for _, l := range []*[]Case{&d.DueToday, &d.Yellow, &d.Red, &d.Overdue} {
		slices.SortStableFunc(*l, byDeadline)
	}
	slices.SortStableFunc(d.New, func(a, b Case) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return d
}

// Empty reports whether the digest has nothing to say.
func (d Digest) Empty() bool {
	return len(d.New)+len(d.DueToday)+len(d.Yellow)+len(d.Red)+len(d.Overdue) == 0
}

// RobotGroup is a team's WeCom group robot: a grid's, or a village's for
// all its grids.
type RobotGroup struct {
	Name    string   // the grid's or the village's name
	Webhook string   // the robot's URL with its key (a secret)
	Grids   []string // the grids whose cases the group follows
	// EachCase asks for each new case as well as the digest.
	EachCase bool
}

// RobotGroups lists the groups the directory names, grids first.
func (t *Town) RobotGroups() []RobotGroup {
	var out []RobotGroup
	for _, g := range t.Grids {
		if g.RobotWebhook != "" {
			out = append(out, RobotGroup{Name: t.PlaceName(g.ID), Webhook: g.RobotWebhook, Grids: []string{g.ID}, EachCase: g.RobotEachCase})
		}
	}
	for _, v := range t.Villages {
		if v.RobotWebhook == "" {
			continue
		}
		var grids []string
		for _, g := range t.GridsOf(v.ID) {
			grids = append(grids, g.ID)
		}
		out = append(out, RobotGroup{Name: v.Name, Webhook: v.RobotWebhook, Grids: grids})
	}
	return out
}
