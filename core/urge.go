package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// 催办 and 加急: the village or the town presses the handler of an open
// case. An urge pushes the handler (and the departments working on it) and
// is counted on the case; an urgent flag shortens the deadline by the
// category's rule (Category.UrgentHours) and tells the handler the new one.

// Events of urging.
const (
	EventUrged     EventKind = "urged"     // 催办: Text the supervisor's words, DataCount the urges so far
	EventExpedited EventKind = "expedited" // 加急: Text the reason, DataDeadline the new deadline
)

// DataCount is the number of urges a case has had, on an urge.
const DataCount = "count"

// UrgeInterval is how long after one urge the next is refused: a handler
// pushed every minute stops reading the pushes.
const UrgeInterval = 30 * time.Minute

// Urge presses the handler of case number (StepUrge) with optional words.
// Refused while the last urge is younger than UrgeInterval.
func (l *Ledger) Urge(ctx context.Context, number, staff, text string) (Case, []Event, error) {
	text = strings.TrimSpace(text)
	if len([]rune(text)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("urge %s: text length: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepUrge, func(c *Case, _ *Staff) ([]Event, error) {
		now := l.now()
		if !c.UrgedAt.IsZero() && now.Sub(c.UrgedAt) < UrgeInterval {
			return nil, refuse(StepUrge, ErrNoChange, "刚刚催办过，请半小时后再催。")
		}
		c.Urges++
		c.UrgedAt = now
		return []Event{{Kind: EventUrged, Actor: staff, Text: text, At: now,
			Data: map[string]string{DataCount: strconv.Itoa(c.Urges), DataAssignee: c.Assignee}}}, nil
	})
}

// MarkUrgent flags case number urgent (StepUrgent): its deadline becomes
// the earlier of the one it has and the category's urgent term from now.
// A reason is required.
func (l *Ledger) MarkUrgent(ctx context.Context, number, staff, reason string) (Case, []Event, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("urgent %s: reason: %w", number, ErrInvalid)
	}
	town := l.Town.Town()
	return l.staffStep(ctx, number, staff, StepUrgent, func(c *Case, _ *Staff) ([]Event, error) {
		now := l.now()
		c.Urgent = true
		if d := town.UrgentDeadline(town.Category(c.Category), now); c.Deadline.IsZero() || d.Before(c.Deadline) {
			c.Deadline = d
		}
		return []Event{{Kind: EventExpedited, Actor: staff, Text: reason, At: now,
			Data: map[string]string{DataDeadline: c.Deadline.Format(time.RFC3339)}}}, nil
	})
}

// UrgentDeadline is when a case of category cat flagged urgent at now is
// due: cat's UrgentHours from now, or, when the category sets none, half
// its ordinary term (a working day counted as 24 hours), at least two hours.
func (t *Town) UrgentDeadline(cat *Category, now time.Time) time.Time {
	if cat == nil {
		return now.Add(minUrgentTerm)
	}
	if cat.UrgentHours > 0 {
		return now.Add(time.Duration(cat.UrgentHours) * time.Hour)
	}
	term := time.Duration(cat.DeadlineHours) * time.Hour
	if cat.DeadlineWorkdays > 0 {
		term = time.Duration(cat.DeadlineWorkdays) * 24 * time.Hour
	}
	return now.Add(max(term/2, minUrgentTerm))
}

// minUrgentTerm is the shortest term an urgent case gets by default.
const minUrgentTerm = 2 * time.Hour
