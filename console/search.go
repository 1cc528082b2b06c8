package console

import (
	"context"
	"slices"
	"strings"

	"gridbot/core"
)

// The search box (搜索): a case number, words, a phone number whole or its
// last four digits, a name or an address (core.CaseSearch), over the cases
// (a phone given at 代录 finds the resident's cases, bound or not, since
// the case carries it; a whole phone or a whole name registered in a
// household file finds that resident's cases too). Personal data matches
// only on the cases whose personal data the staff member may read.

// maxSearchResidents bounds the residents whose cases one search reads
// besides its index: the one bound with the phone searched for, or the
// namesakes registered with the name searched for.
const maxSearchResidents = 20

// searcher returns the filter of search text for staff, the search as
// the store reads it (CaseQuery.Search: its word index), and the residents
// whose cases the search finds too (a second read of each one's index:
// their cases carry neither the phone nor the name): the one bound with
// the phone searched for, or those who registered the name searched for,
// whole, in their household file (一户一档).
func (s *Server) searcher(ctx context.Context, town *core.Town, staff *core.Staff, text string) (func(*core.Case) bool, core.CaseSearch, []string, error) {
	q := core.SearchIndex{Simplify: s.Simplify}.Parse(text)
	var residents []string
	switch {
	case s.Households == nil:
	case q.Phone() != "":
		// A whole phone also finds the cases of the resident bound with
		// it, filed in WeChat without it.
		hh, ok, err := s.Households.ByPhone(ctx, q.Phone())
		if err != nil {
			return nil, q, nil, err
		}
		if ok {
			residents = []string{hh.OpenID}
		}
	case len([]rune(strings.TrimSpace(text))) >= 2:
		named, err := s.Households.ByName(ctx, text)
		if err != nil {
			return nil, q, nil, err
		}
		residents = named[:min(len(named), maxSearchResidents)]
	}
	return func(c *core.Case) bool {
		personal := town.SeesPersonalData(staff, c)
		return q.Match(c, personal) || personal && slices.Contains(residents, c.Resident)
	}, q, residents, nil
}

// searchCases lists the cases of q found by its search, and those of the
// residents the search names (the one bound with the phone, the namesakes
// of the name), newest first, at most q.Limit.
func (s *Server) searchCases(ctx context.Context, q core.CaseQuery, residents []string) ([]core.Case, error) {
	found, err := s.Store.Cases(ctx, q)
	if err != nil || len(residents) == 0 {
		return found, err
	}
	out := found
	for _, r := range residents {
		rq := q
		rq.Search, rq.Resident = core.CaseSearch{}, r
		theirs, err := s.Store.Cases(ctx, rq)
		if err != nil {
			return nil, err
		}
		out = append(out, theirs...)
	}
	slices.SortFunc(out, func(a, b core.Case) int { return strings.Compare(b.Number, a.Number) })
	out = slices.CompactFunc(out, func(a, b core.Case) bool { return a.Number == b.Number })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// addNearby adds to a case's household list the cases of its grid within
// HouseholdRadiusM of it (附近), whatever words they were filed with: the
// same leaking pipe told by three neighbours. Only for staff who may read
// the case's location, and only the cases whose location they may read
// too: nearness is where people live.
func (s *Server) addNearby(town *core.Town, staff *core.Staff, c *core.Case, near []core.Case,
	add func([]core.Case, string, func(*core.Case) bool)) {
	if s.HouseholdRadiusM <= 0 || c.Location == nil || (c.Location.Lat == 0 && c.Location.Lng == 0) ||
		!town.SeesPersonalData(staff, c) {
		return
	}
	add(near, "附近", func(o *core.Case) bool {
		return o.Location != nil && !(o.Location.Lat == 0 && o.Location.Lng == 0) && town.SeesPersonalData(staff, o) &&
			core.DistanceM(c.Location.Point, o.Location.Point) <= s.HouseholdRadiusM
	})
}
