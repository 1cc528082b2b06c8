package core

import (
	"context"
	"fmt"
	"strings"
)

// Internal notes (内部备注): what staff tell each other about a case — who
// was phoned, what the department said, what to watch for. They are on the
// case's log for staff; residents never read them: no notice is sent for
// one, the pages inside WeChat show residents an allow-list of steps that
// does not include them, and Open311 publishes no log.

// EventNoted is an internal note (Text) on a case.
const EventNoted EventKind = "noted"

// AddNote records staff's internal note on case number (StepNote).
// ErrInvalid: empty, or longer than MaxTextLen.
func (l *Ledger) AddNote(ctx context.Context, number, staff, text string) (Case, []Event, error) {
	text = strings.TrimSpace(text)
	if text == "" || len([]rune(text)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("note %s: text length: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepNote, func(c *Case, _ *Staff) ([]Event, error) {
		return []Event{{Kind: EventNoted, Actor: staff, Text: text, At: l.now()}}, nil
	})
}
