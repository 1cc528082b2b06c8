package core

import (
	"context"
	"fmt"
	"strings"
)

// The steps of whoever handles a case: taking it on (受理), answering the
// resident (回复), resolving it (办结) and handing it to post B (转B). Who
// may take each is the policy's (policy.go).

// Accept records that staff took the case on (受理).
func (l *Ledger) Accept(ctx context.Context, number, staff string) (Case, []Event, error) {
	return l.staffStep(ctx, number, staff, StepAccept, func(c *Case, _ *Staff) ([]Event, error) {
		c.State = StateInProgress
		return []Event{{Kind: EventAccepted, Actor: staff, At: l.now()}}, nil
	})
}

// Reply records a message from staff to the resident; the router delivers it.
// Replying to an assigned case also takes it on.
func (l *Ledger) Reply(ctx context.Context, number, staff, text string) (Case, []Event, error) {
	text = strings.TrimSpace(text)
	if text == "" || len([]rune(text)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("reply %s: text length: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepReply, func(c *Case, _ *Staff) ([]Event, error) {
		if c.State == StateAssigned || c.State == StateReopened {
			c.State = StateInProgress
		}
		return []Event{{Kind: EventReplied, Actor: staff, Text: text, At: l.now()}}, nil
	})
}

// Relay records a photo or a location staff send the resident after a
// reply; the router delivers it like the reply.
func (l *Ledger) Relay(ctx context.Context, number, staff string, photo *Media, loc *Location) (Case, []Event, error) {
	data := map[string]string{}
	var text string
	switch {
	case photo != nil && photo.MediaID != "":
		data[DataMedia], data[DataPicURL] = photo.MediaID, photo.URL
		text = "[照片]"
	case loc != nil:
		data[DataLat], data[DataLng], data[DataLabel] = fmt.Sprint(loc.Lat), fmt.Sprint(loc.Lng), loc.Label
		text = strings.TrimSpace("[位置] " + loc.Label)
	default:
		return Case{}, nil, fmt.Errorf("relay %s: nothing to relay: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepRelay, func(c *Case, _ *Staff) ([]Event, error) {
		if photo != nil {
			if err := c.keepStaffPhoto(StepRelay, *photo); err != nil {
				return nil, err
			}
		}
		return []Event{{Kind: EventReplied, Actor: staff, Text: text, At: l.now(), Data: data}}, nil
	})
}

// Resolve marks the work done with a result; the resident is then asked to
// rate it, and the rating closes the case.
func (l *Ledger) Resolve(ctx context.Context, number, staff, result string) (Case, []Event, error) {
	result = strings.TrimSpace(result)
	if result == "" || len([]rune(result)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("resolve %s: result length: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepResolve, func(c *Case, _ *Staff) ([]Event, error) {
		c.State, c.Result, c.ResolvedAt = StateResolved, result, l.now()
		return c.settleFound(staff, Event{Kind: EventResolved, Actor: staff, Text: result, At: l.now()}), nil
	})
}

// Transfer hands the case to its grid's post B (转B). The policy refuses
// with ErrNoChange when it is with post B already or the grid has none.
func (l *Ledger) Transfer(ctx context.Context, number, staff string) (Case, []Event, error) {
	return l.staffStep(ctx, number, staff, StepTransfer, func(c *Case, _ *Staff) ([]Event, error) {
		ev, ok := l.toPostB(c, staff, ReasonByHand)
		if !ok {
			return nil, ErrNoChange
		}
		return []Event{ev}, nil
	})
}

// toPostB moves c to its grid's B post; ok is false when it is there already
// or there is no B to move to.
func (l *Ledger) toPostB(c *Case, actor, reason string) (Event, bool) {
	town := l.Town.Town()
	g := town.Grid(c.Grid)
	if g == nil || c.Post == PostB || c.Assignee == g.LeaderB {
		return Event{}, false
	}
	b := town.StaffMember(g.LeaderB)
	if b == nil || b.Disabled {
		return Event{}, false
	}
	now := l.now()
	c.Assignee, c.Post, c.AssignedAt = b.ID, PostB, now
	return Event{Kind: EventTransferred, Actor: actor, At: now, Data: map[string]string{
		DataAssignee: b.ID, DataPost: string(PostB), DataGrid: g.ID, DataReason: reason}}, true
}
