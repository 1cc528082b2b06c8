package core

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Mediation (矛盾纠纷调解): a dispute case records its parties, the
// mediation sessions (who mediated, when, what came of it) and the result
// — settled (调解成功), not settled (未成功) or referred to the courts
// (转司法). The figures report the share settled (化解率) per grid and
// month.

// Steps of mediation.
const (
	StepMediate        Step = "mediate"         // 记录调解
	StepMediationEnded Step = "mediation_ended" // 调解结果
)

// Events of mediation.
const (
	EventMediated       EventKind = "mediated"        // a session (Text: its outcome; DataMediators)
	EventMediationEnded EventKind = "mediation_ended" // the result (DataResult)
)

// Keys of those events' Data.
const (
	DataMediators = "mediators"
	DataResult    = "result"
)

// Results of a mediation.
const (
	MediationSettled  = "settled"  // 调解成功
	MediationFailed   = "failed"   // 未成功
	MediationJudicial = "judicial" // 转司法
)

// MediationLabel names a result for people.
func MediationLabel(result string) string {
	switch result {
	case MediationSettled:
		return "调解成功"
	case MediationFailed:
		return "调解未成功"
	case MediationJudicial:
		return "转司法"
	}
	return result
}

// MaxSessions bounds the sessions kept on one case.
const MaxSessions = 30

// Mediation is a dispute's mediation.
type Mediation struct {
	Parties  string    `json:"parties"`
	Sessions []Session `json:"sessions,omitempty"`
	Result   string    `json:"result,omitempty"`
	ResultAt time.Time `json:"result_at,omitzero"`
}

// Session is one mediation session.
type Session struct {
	By        string    `json:"by"`        // who recorded it
	Mediators string    `json:"mediators"` // who mediated
	At        time.Time `json:"at"`
	Outcome   string    `json:"outcome"`
}

// IsDispute reports whether cases of category cat are disputes to mediate
// (矛盾纠纷): its code is "dispute" or its name says 纠纷.
func IsDispute(cat *Category) bool {
	return cat != nil && (cat.Code == "dispute" || strings.Contains(cat.Name, "纠纷"))
}

// permitMediation decides the mediation steps for staff s, who may see c.
func (t *Town) permitMediation(s *Staff, step Step, c *Case) error {
	if s.Role == RoleDepartment {
		return refuse(step, ErrForbidden, "调解由网格调解员和村（社区）、镇里负责。")
	}
	if !IsDispute(t.Category(c.Category)) {
		return refuse(step, ErrWrongState, "只有矛盾纠纷类事项才记录调解。")
	}
	if c.Mediation != nil && c.Mediation.Result != "" {
		return refuse(step, ErrNoChange, "这件纠纷的调解结果已记录（"+MediationLabel(c.Mediation.Result)+"）。")
	}
	if c.State == StateClosed {
		return refuse(step, ErrWrongState, reasonClosed)
	}
	switch step {
	case StepMediate:
		if c.Mediation != nil && len(c.Mediation.Sessions) >= MaxSessions {
			return refuse(step, ErrWrongState, "这件纠纷的调解记录已达上限。")
		}
	case StepMediationEnded:
		if c.Mediation == nil || len(c.Mediation.Sessions) == 0 {
			return refuse(step, ErrWrongState, "请先记录至少一次调解。")
		}
	}
	return nil
}

// Mediate records a mediation session on a dispute (StepMediate): who
// mediated and what came of it, and the parties (needed on the first).
func (l *Ledger) Mediate(ctx context.Context, number, staff, parties, mediators, outcome string) (Case, []Event, error) {
	parties, mediators, outcome = strings.TrimSpace(parties), strings.TrimSpace(mediators), strings.TrimSpace(outcome)
	if mediators == "" || outcome == "" || len([]rune(parties)) > 200 || len([]rune(mediators)) > 200 || len([]rune(outcome)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("mediate %s: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepMediate, func(c *Case, _ *Staff) ([]Event, error) {
		if c.Mediation == nil {
			if parties == "" {
				return nil, fmt.Errorf("mediate %s: no parties: %w", number, ErrInvalid)
			}
			c.Mediation = &Mediation{}
		}
		if parties != "" {
			c.Mediation.Parties = parties
		}
		now := l.now()
		c.Mediation.Sessions = append(c.Mediation.Sessions, Session{By: staff, Mediators: mediators, At: now, Outcome: outcome})
		return []Event{{Kind: EventMediated, Actor: staff, Text: outcome, At: now, Data: map[string]string{DataMediators: mediators}}}, nil
	})
}

// EndMediation records the mediation's result (StepMediationEnded).
func (l *Ledger) EndMediation(ctx context.Context, number, staff, result, note string) (Case, []Event, error) {
	note = strings.TrimSpace(note)
	if (result != MediationSettled && result != MediationFailed && result != MediationJudicial) || len([]rune(note)) > MaxTextLen {
		return Case{}, nil, fmt.Errorf("end mediation %s: %w", number, ErrInvalid)
	}
	return l.staffStep(ctx, number, staff, StepMediationEnded, func(c *Case, _ *Staff) ([]Event, error) {
		now := l.now()
		c.Mediation.Result, c.Mediation.ResultAt = result, now
		return []Event{{Kind: EventMediationEnded, Actor: staff, Text: note, At: now, Data: map[string]string{DataResult: result}}}, nil
	})
}
