package valkey

import (
	"context"
	"fmt"
	"slices"
	"strings"

	vk "github.com/valkey-io/valkey-go"
)

// Every case number is the town's prefix, the day it was filed and that
// day's count (core.FormatCaseNumber), and the day counters
// (P{gb}:day:<yyyymmdd>) already say how many numbers each day gave. So the
// ledger keeps no set of every case number (P{gb}:cases was one, about 113
// bytes a case, a large sorted set costing that much a member): it keeps
// the days that gave numbers, P{gb}:days (a sorted set of yyyymmdd, score
// 0: a thousand members for three years, whatever the cases), and lists
// every case by walking the days newest first and counting each day's
// numbers down. A number whose write failed after it was counted has no
// case, and is skipped as a case gone always was.
//
// A ledger written before keeps its set until a store opens it
// (buildDays): the days are taken from its numbers, and the set goes.
// casesKey still names "every case" for indexFor and numbersPage.
// When a number in it is not of the town's prefix (a ledger renumbered),
// the set stays and the store goes on writing and reading it, as before.

// dayBatch is how many days one round trip reads the counters of.
const dayBatch = 64

func (s *Store) daysKey() string      { return s.ledger + "days" }
func (s *Store) daysBuiltKey() string { return s.ledger + "daysbuilt" }

// dayOf returns the yyyymmdd of number, when it is of the town's prefix.
func (s *Store) dayOf(number string) (string, bool) {
	p := len(s.casePrefix)
	if len(number) < p+12 || number[:p] != s.casePrefix {
		return "", false
	}
	for _, r := range number[p:] {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return number[p : p+8], true
}

// numbersPage lists at most page numbers of index, newest first, starting
// below upper ("+" for the newest, or "(" and a number): ZRANGE … BYLEX
// REV, or for every case (casesKey) the days' walk.
func (s *Store) numbersPage(ctx context.Context, index, upper string, page int) ([]string, error) {
	if index != s.casesKey() || !s.byDays.Load() {
		return s.client.Do(ctx, s.client.B().Zrange().Key(index).Min(upper).Max("-").Bylex().Rev().Limit(0, int64(page)).Build()).AsStrSlice()
	}
	below := ""
	from := "+"
	if upper != "+" {
		// A number is the prefix, eight digits of its day and its count:
		// the days after below's eight characters have no number below it.
		below = upper[1:]
		rest, ok := strings.CutPrefix(below, s.casePrefix)
		switch {
		case below <= s.casePrefix:
			return nil, nil // below every number
		case !ok:
			below = "" // above every number
		default:
			from = "[" + rest[:min(8, len(rest))]
		}
	}
	var out []string
	for {
		days, err := s.client.Do(ctx, s.client.B().Zrange().Key(s.daysKey()).Min(from).Max("-").Bylex().Rev().Limit(0, dayBatch).Build()).AsStrSlice()
		if err != nil || len(days) == 0 {
			return out, err
		}
		keys := make([]string, len(days))
		for i, d := range days {
			keys[i] = s.dayKey(d)
		}
		counts, err := s.client.Do(ctx, s.client.B().Mget().Key(keys...).Build()).ToArray()
		if err != nil {
			return nil, err
		}
		for i, d := range days {
			n, err := counts[i].AsInt64()
			if err != nil && !vk.IsValkeyNil(err) {
				return nil, fmt.Errorf("day %s: %w", d, err)
			}
			numbers := make([]string, 0, n)
			for k := n; k >= 1; k-- {
				number := s.casePrefix + d + fmt.Sprintf("%04d", k)
				if below == "" || number < below {
					numbers = append(numbers, number)
				}
			}
			// Byte order, as the set kept them: a day's ten-thousandth
			// number sorts before its 9,999th.
			slices.Sort(numbers)
			slices.Reverse(numbers)
			out = append(out, numbers...)
			if len(out) >= page {
				return out[:page], nil
			}
		}
		if len(days) < dayBatch {
			return out, nil
		}
		from = "(" + days[len(days)-1]
	}
}

// buildDays moves a ledger written with the set of every case number to
// the days, once: a page of numbers at a time, their days added, then the
// set deleted. Several instances doing it at once do the same idempotent
// work; a case filed meanwhile adds its day itself.
func (s *Store) buildDays(ctx context.Context) error {
	done, err := s.client.Do(ctx, s.client.B().Exists().Key(s.daysBuiltKey()).Build()).AsInt64()
	if err != nil {
		return fmt.Errorf("days: %w", err)
	}
	if done == 1 {
		s.byDays.Store(true)
		return nil
	}
	foreign := false
	err = s.eachCaseNumbers(ctx, 1000, func(numbers []string) error {
		members := s.client.B().Zadd().Key(s.daysKey()).ScoreMember()
		for _, n := range numbers {
			day, ok := s.dayOf(n)
			if !ok {
				foreign = true
				return nil
			}
			members = members.ScoreMember(0, day)
		}
		return s.client.Do(ctx, members.Build()).Error()
	})
	if err != nil {
		return fmt.Errorf("days: %w", err)
	}
	if foreign {
		return nil // the set stays (see above)
	}
	s.byDays.Store(true)
	return s.doAll(ctx, vk.Commands{
		s.client.B().Set().Key(s.daysBuiltKey()).Value("1").Build(),
		s.client.B().Del().Key(s.casesKey()).Build()})
}

// countDay is CreateCase's numbering: the day's count taken, and the day
// added to the days.
func (s *Store) countDay(ctx context.Context, day string) (int, error) {
	res := s.client.DoMulti(ctx,
		s.client.B().Incr().Key(s.dayKey(day)).Build(),
		s.client.B().Zadd().Key(s.daysKey()).ScoreMember().ScoreMember(0, day).Build())
	n, err := res[0].AsInt64()
	if err != nil {
		return 0, err
	}
	if err := res[1].Error(); err != nil {
		return 0, err
	}
	return int(n), nil
}

// allCasesKey is writeScript's key of the set of every case number: the
// set itself on a ledger that keeps one, else the case's own key, which
// the script takes for "none".
func (s *Store) allCasesKey(number string) string {
	if s.byDays.Load() {
		return s.caseKey(number)
	}
	return s.casesKey()
}
