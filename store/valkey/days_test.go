package valkey_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/internal/valkeytest"
	"gridbot/store/valkey"
)

// listAll lists every case, newest first, a page of size at a time
// (?before=), and returns their numbers.
func listAll(t *testing.T, ctx context.Context, s *valkey.Store, size int) []string {
	t.Helper()
	var out []string
	before := ""
	for {
		page, err := s.Cases(ctx, core.CaseQuery{Limit: size, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			out = append(out, c.Number)
		}
		if len(page) < size {
			return out
		}
		before = page[len(page)-1].Number
	}
}

// A ledger lists every case from its days and their counters, in pages,
// as it did from the set of every number; a ledger written with that set
// is moved to the days when opened and the set goes; a ledger whose set
// holds a number of another prefix keeps it and goes on as before.
func TestEveryCaseListedFromTheDays(t *testing.T) {
	ctx := context.Background()
	for _, foreign := range []bool{false, true} {
		t.Run(fmt.Sprintf("foreign=%v", foreign), func(t *testing.T) {
			prefix := valkeytest.Prefix(t)
			s := open(t, prefix, nil)
			zone := time.FixedZone("CST", 8*3600)
			var want []string
			for i := range 23 {
				// Seven days, some with several cases, with gaps between.
				at := time.Date(2025, 12, 28, 10, 0, 0, 0, zone).AddDate(0, 0, (i%7)*5)
				c, _, err := createCase(ctx, s, at, fmt.Sprintf("case %d", i))
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, c.Number)
			}
			slices.Sort(want)
			slices.Reverse(want)
			// A number counted whose write never happened is skipped.
			cl := s.Client()
			if err := cl.Do(ctx, cl.B().Incr().Key(prefix+"{gb}:day:20260101").Build()).Error(); err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{1, 4, 500} {
				if got := listAll(t, ctx, s, size); !slices.Equal(got, want) {
					t.Fatalf("pages of %d: %v\nwant %v", size, got, want)
				}
			}
			// Odd ?before= values page as the set of every number did.
			for _, before := range []string{"A", "ST", "SU", "ST2026", "ST20260101", "ST202601019999x", want[3]} {
				page, err := s.Cases(ctx, core.CaseQuery{Limit: 500, Before: before})
				if err != nil {
					t.Fatal(err)
				}
				var got, below []string
				for _, c := range page {
					got = append(got, c.Number)
				}
				for _, n := range want {
					if n < before {
						below = append(below, n)
					}
				}
				if !slices.Equal(got, below) {
					t.Errorf("before %q: %v\nwant %v", before, got, below)
				}
			}
			if n, _ := cl.Do(ctx, cl.B().Exists().Key(prefix+"{gb}:cases").Build()).AsInt64(); n != 0 {
				t.Fatal("a new ledger keeps the set of every case")
			}

			// The layout before: the set of every number, no days.
			members := cl.B().Zadd().Key(prefix + "{gb}:cases").ScoreMember()
			for _, n := range want {
				members = members.ScoreMember(0, n)
			}
			if foreign {
				members = members.ScoreMember(0, "XX202401010001")
			}
			for _, cmd := range []interface{ Error() error }{
				cl.Do(ctx, members.Build()),
				cl.Do(ctx, cl.B().Del().Key(prefix+"{gb}:days", prefix+"{gb}:daysbuilt").Build()),
			} {
				if err := cmd.Error(); err != nil {
					t.Fatal(err)
				}
			}
			moved := open(t, prefix, nil)
			if got := listAll(t, ctx, moved, 5); !slices.Equal(got, want) {
				t.Fatalf("after the move: %v\nwant %v", got, want)
			}
			set, _ := cl.Do(ctx, cl.B().Exists().Key(prefix+"{gb}:cases").Build()).AsInt64()
			if foreign != (set == 1) {
				t.Fatalf("the set of every case is there: %v", set == 1)
			}
			c, _, err := createCase(ctx, moved, time.Date(2026, 3, 1, 9, 0, 0, 0, zone), "after the move")
			if err != nil {
				t.Fatal(err)
			}
			want = append([]string{c.Number}, want...)
			if got := listAll(t, ctx, moved, 7); !slices.Equal(got, want) {
				t.Fatalf("after a new case: %v\nwant %v", got, want)
			}
		})
	}
}
