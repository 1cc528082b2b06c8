package core

import (
	"fmt"
	"time"
)

// dateLayout is how configuration writes a day.
const dateLayout = "2006-01-02"

// Calendar says which days are working days: Monday to Friday, except the
// listed holidays, plus the listed make-up workdays (调休) that fall on a
// weekend. Days are written 2006-01-02, in the town's zone.
type Calendar struct {
	Holidays []string `json:"holidays,omitempty"`
	Workdays []string `json:"workdays,omitempty"`

	holidays map[string]bool
	workdays map[string]bool
	zone     *time.Location // the town's
}

// index checks the dates and builds the lookups for a town in zone.
func (c *Calendar) index(zone *time.Location) error {
	c.zone = zone
	c.holidays, c.workdays = map[string]bool{}, map[string]bool{}
	for _, list := range []struct {
		name string
		days []string
		set  map[string]bool
	}{{"holidays", c.Holidays, c.holidays}, {"workdays", c.Workdays, c.workdays}} {
		for _, d := range list.days {
			if _, err := time.Parse(dateLayout, d); err != nil {
				return fmt.Errorf("calendar %s: %q is not a date like 2026-10-01", list.name, d)
			}
			list.set[d] = true
		}
	}
	for d := range c.holidays {
		if c.workdays[d] {
			return fmt.Errorf("calendar: %s is both a holiday and a workday", d)
		}
	}
	return nil
}

// Workday reports whether the day of t (in the town's zone) is a working day.
func (c *Calendar) Workday(t time.Time) bool {
	t = t.In(c.location())
	day := t.Format(dateLayout)
	switch {
	case c.workdays[day]:
		return true
	case c.holidays[day]:
		return false
	}
	return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday
}

// AddWorkdays returns the same time of day on the n-th working day after
// start's day: a case filed on Friday at 10:00 with one working day is due
// on Monday at 10:00.
func (c *Calendar) AddWorkdays(start time.Time, n int) time.Time {
	t := start.In(c.location())
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if c.Workday(t) {
			n--
		}
	}
	return t
}

// Deadline is when a case of category cat started at start is due: hours
// on the clock, or working days by the town's calendar.
func (t *Town) Deadline(cat *Category, start time.Time) time.Time {
	if cat.DeadlineWorkdays > 0 {
		return t.Calendar.AddWorkdays(start, cat.DeadlineWorkdays)
	}
	return start.Add(time.Duration(cat.DeadlineHours) * time.Hour)
}

// location is the town's zone; a Calendar not indexed by NewTown reads
// China's.
func (c *Calendar) location() *time.Location {
	if c.zone == nil {
		return chinaStandardTime()
	}
	return c.zone
}
