package core

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Instructions (督办/批示): a town leader writes an instruction on a case;
// whoever handles it is pushed it, it stays on the case, and the figures
// count the cases under supervision.

// StepInstruct is writing an instruction on a case (督办批示).
const StepInstruct Step = "instruct"

// EventInstructed records an instruction; Text is its words.
const EventInstructed EventKind = "instructed"

// MaxInstructions bounds the instructions kept on one case.
const MaxInstructions = 50

// Instruction is a leader's written instruction on a case.
type Instruction struct {
	By   string    `json:"by"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// permitInstruct is who may instruct, and when: the town, on a case not
// closed.
func permitInstruct(s *Staff, c *Case) error {
	if s.Role != RoleTown {
		return refuse(StepInstruct, ErrForbidden, "督办批示须由镇领导作出。")
	}
	if c.State == StateClosed {
		return refuse(StepInstruct, ErrWrongState, reasonClosed)
	}
	if len(c.Instructions) >= MaxInstructions {
		return refuse(StepInstruct, ErrWrongState, "这件事项的批示已达上限。")
	}
	return nil
}

// Instruct writes staff's instruction on case number (StepInstruct).
// ErrInvalid: no words, or too many.
func (l *Ledger) Instruct(ctx context.Context, number, staff, text string) (Case, []Event, error) {
	text = strings.TrimSpace(text)
	if text == "" || len([]rune(text)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("instruct %s: text: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepInstruct, func(c *Case, _ *Staff) ([]Event, error) {
		now := l.now()
		c.Instructions = append(c.Instructions, Instruction{By: staff, Text: text, At: now})
		return []Event{{Kind: EventInstructed, Actor: staff, Text: text, At: now}}, nil
	})
}

// Supervised reports whether a leader has instructed on c (督办).
func (c *Case) Supervised() bool { return len(c.Instructions) > 0 }
