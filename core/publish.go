package core

import (
	"context"
	"fmt"
	"strings"
)

// 公开: what the public may read of a case. A resident's description names
// people, numbers and doors, so it is never published as written; staff of
// the village or the town write the text the public reads (like
// FixMyStreet's moderation), and a category marked never_publish
// (治安隐患, 矛盾纠纷) has none at all. Open311 shows Case.Published and
// nothing else of what anyone wrote.

// EventPublished records the text published, or "" when it was withdrawn.
const EventPublished EventKind = "published"

// MaxPublishedLen bounds a published text (runes).
const MaxPublishedLen = 500

// Publish sets the text the public may read of case number, as staff wrote
// it; an empty text withdraws it. The policy decides who may (town and
// village staff who can see the case) and which cases (none of a category
// that is never published). ErrInvalid: too long; ErrNoChange: that text is
// published already.
func (l *Ledger) Publish(ctx context.Context, number, staff, text string) (Case, []Event, error) {
	text = strings.TrimSpace(text)
	if len([]rune(text)) > MaxPublishedLen {
		return Case{}, nil, fmt.Errorf("publish %s: text length: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepPublish, func(c *Case, s *Staff) ([]Event, error) {
		if c.Published == text {
			return nil, refuse(StepPublish, ErrNoChange, "公开的内容没有变化。")
		}
		now := l.now()
		c.Published, c.UpdatedAt = text, now
		return []Event{{Case: c.Number, Kind: EventPublished, Actor: s.ID, Text: text, At: now}}, nil
	})
}

// permitPublish is which cases may be published: those of a category in
// the list that is not marked never_publish.
func (t *Town) permitPublish(c *Case) error {
	cat := t.Category(c.Category)
	if cat == nil {
		return refuse(StepPublish, ErrForbidden, "这件事项的类别已不在清单中，不能公开。")
	}
	if cat.NeverPublish {
		return refuse(StepPublish, ErrForbidden, "“"+cat.Name+"”类事项不对外公开。")
	}
	return nil
}

// Publishable reports whether the public may read the description of c:
// staff published one, and its category may be published.
func (t *Town) Publishable(c *Case) bool {
	return c.Published != "" && t.permitPublish(c) == nil
}
