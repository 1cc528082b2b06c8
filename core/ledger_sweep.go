package core

import (
	"context"
	"fmt"
)

// SweptStates are the states the supervision sweep looks at: every case
// the clock can still change, and the submitted ones it may have to route.
var SweptStates = []State{StateSubmitted, StateAssigned, StateInProgress, StateReopened, StateResolved}

// CasesToSweep lists up to limit cases the supervision sweep looks at
// (SweptStates), newest first, so that the router's sweeper asks the ledger
// and never its store.
func (l *Ledger) CasesToSweep(ctx context.Context, limit int) ([]Case, error) {
	cs, err := l.Store.Cases(ctx, CaseQuery{Limit: limit, States: SweptStates})
	if err != nil {
		return nil, fmt.Errorf("cases to sweep: %w", err)
	}
	return cs, nil
}
