package core

import (
	"context"
	"fmt"
	"strings"
)

// Departments called to a case (网格吹哨), taking charge of it (部门领办) or
// giving it back (退回).

// Whistle calls department dept to the case (网格吹哨). The first department
// called leads while it has not returned the case. ErrNoChange: it is
// called already.
func (l *Ledger) Whistle(ctx context.Context, number, staff, dept, reason string) (Case, []Event, error) {
	if l.Town.Town().Department(dept) == nil {
		return Case{}, nil, fmt.Errorf("whistle %s: department %q: %w", number, dept, ErrInvalid)
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("whistle %s: reason length: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepWhistle, func(c *Case, _ *Staff) ([]Event, error) {
		a := c.Assist(dept)
		switch {
		case a == nil:
			c.Departments = append(c.Departments, Assist{Department: dept, State: AssistCalled})
		case a.State == AssistReturned:
			a.State, a.Reason = AssistCalled, ""
		default:
			return nil, ErrNoChange
		}
		c.pickLead()
		data := map[string]string{DataDept: dept}
		if c.Assist(dept).Lead {
			data[DataLead] = "true"
		}
		return []Event{{Kind: EventWhistled, Actor: staff, Text: reason, At: l.now(), Data: data}}, nil
	})
}

// pickLead keeps one lead among the departments that have not returned
// the case: the current one, or else the first called.
func (c *Case) pickLead() {
	for _, a := range c.Departments {
		if a.Lead && a.State != AssistReturned {
			return
		}
	}
	found := false
	for i := range c.Departments {
		a := &c.Departments[i]
		a.Lead = !found && a.State != AssistReturned
		found = found || a.Lead
	}
}

// Sign records that the staff member's department takes charge of the case
// (部门领办). The policy refuses a department that was not called, or has
// signed already (ErrNoChange).
func (l *Ledger) Sign(ctx context.Context, number, staff string) (Case, []Event, error) {
	return l.staffStep(ctx, number, staff, StepSign, func(c *Case, s *Staff) ([]Event, error) {
		dept := s.Department
		a := c.Assist(dept)
		a.State = AssistSigned
		if c.State == StateAssigned || c.State == StateReopened || c.State == StateSubmitted {
			c.State = StateInProgress
		}
		data := map[string]string{DataDept: dept}
		if a.Lead {
			data[DataLead] = "true"
		}
		return []Event{{Kind: EventSigned, Actor: staff, At: l.now(), Data: data}}, nil
	})
}

// Return records that the staff member's department gives the case back
// with a reason (退回); the grid and the town decide what next.
func (l *Ledger) Return(ctx context.Context, number, staff, reason string) (Case, []Event, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("return %s: reason length: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepReturn, func(c *Case, s *Staff) ([]Event, error) {
		dept := s.Department
		a := c.Assist(dept)
		a.State, a.Reason, a.Lead = AssistReturned, reason, false
		c.pickLead()
		return []Event{{Kind: EventReturned, Actor: staff, Text: reason, At: l.now(), Data: map[string]string{DataDept: dept}}}, nil
	})
}
