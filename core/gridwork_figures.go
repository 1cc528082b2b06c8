package core

import (
	"sort"
	"time"
)

// GridWorkRow counts the grid's own work in one unit (grid, village,
// department or month): cases found by the grid itself (主动发现) beside
// all cases. Like the rates, it is a pure function of cases and events, so
// the page and its download agree.
type GridWorkRow struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	Cases int    `json:"cases"`
	// Found counts the cases the grid found and reported itself.
	Found int `json:"found"`
	// CallbacksDue counts the callback visits (回访) recorded or past
	// their date; CallbacksOnTime those recorded by their date.
	CallbacksDue    int `json:"callbacks_due"`
	CallbacksOnTime int `json:"callbacks_on_time"`
	// Supervised counts the cases a town leader instructed on (督办).
	Supervised int `json:"supervised"`
	// Mediated counts the disputes whose mediation ended, Settled those
	// settled (化解).
	Mediated int `json:"mediated"`
	Settled  int `json:"settled"`
}

// SettleRate renders the mediation rate (化解率).
func (r GridWorkRow) SettleRate() string { return Percent(r.Settled, r.Mediated) }

func (r *GridWorkRow) add(o GridWorkRow) {
	r.Cases += o.Cases
	r.Found += o.Found
	r.CallbacksDue += o.CallbacksDue
	r.CallbacksOnTime += o.CallbacksOnTime
	r.Supervised += o.Supervised
	r.Mediated += o.Mediated
	r.Settled += o.Settled
}

// CallbackRate renders the share of callbacks done in time.
func (r GridWorkRow) CallbackRate() string { return Percent(r.CallbacksOnTime, r.CallbacksDue) }

// FoundRate renders the share of cases found by the grid.
func (r GridWorkRow) FoundRate() string { return Percent(r.Found, r.Cases) }

// GridWork computes the grid's own work grouped by by, as things stand at
// now, in key order (months newest first) with a total row keyed "total".
func GridWork(town *Town, cases []Case, events []Event, by Grouping, now time.Time) []GridWorkRow {
	rows := map[string]*GridWorkRow{}
	total := &GridWorkRow{Key: "total", Name: "合计"}
	byCase := make(map[string][]Event, len(cases))
	for _, e := range events {
		switch e.Kind {
		case EventCallbackDue, EventCalledBack:
			byCase[e.Case] = append(byCase[e.Case], e)
		}
	}
	for i := range cases {
		c := &cases[i]
		line := GridWorkRow{Cases: 1}
		if c.Found() {
			line.Found = 1
		}
		line.CallbacksDue, line.CallbacksOnTime = callbacksOf(byCase[c.Number], now)
		if c.Supervised() {
			line.Supervised = 1
		}
		if m := c.Mediation; m != nil && m.Result != "" {
			line.Mediated = 1
			if m.Result == MediationSettled {
				line.Settled = 1
			}
		}
		tallyRows(rows, unitsOf(town, c, by), line, func(key string) GridWorkRow {
			return GridWorkRow{Key: key, Name: unitName(town, by, key)}
		})
		total.add(line)
	}
	return sortedWithTotal(rows, *total, by, func(r GridWorkRow) string { return r.Key })
}

// GridWorkEvent reports whether events of kind k count in GridWork, so a
// caller need keep no others.
func GridWorkEvent(k EventKind) bool { return k == EventCallbackDue || k == EventCalledBack }

// callbacksOf counts a case's callbacks that are due (recorded, or past
// their date at now) and those recorded by their date, from its callback
// events.
func callbacksOf(evs []Event, now time.Time) (due, onTime int) {
	sort.Slice(evs, func(a, b int) bool { return evs[a].Seq < evs[b].Seq })
	var waiting *Event
	for i := range evs {
		e := &evs[i]
		switch e.Kind {
		case EventCallbackDue:
			waiting = e
		case EventCalledBack:
			if waiting == nil {
				continue
			}
			waiting = nil
			due++
			if e.Data[DataOnTime] == "true" {
				onTime++
			}
		}
	}
	if waiting != nil {
		if t, err := time.Parse(time.RFC3339, waiting.Data[DataDue]); err == nil && now.After(t) {
			due++
		}
	}
	return due, onTime
}
