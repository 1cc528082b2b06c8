package console

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store/embedded"
)

// BenchmarkEndedFeeds is one round of the hub's session check: 10,000
// websockets of 1,000 sessions (ten tabs each), every session alive.
func BenchmarkEndedFeeds(b *testing.B) {
	town, err := core.NewTown(core.Town{Name: "石塘镇", CasePrefix: "ST",
		Staff:      []core.Staff{{ID: "admin", Name: "王镇长", Role: core.RoleTown, PasswordHash: "$2a$04$x"}},
		Categories: []core.Category{{Code: "road", Name: "道路设施", DeadlineHours: 24}}})
	if err != nil {
		b.Fatal(err)
	}
	keys := &embedded.MemoryKeys{}
	srv := &Server{Town: town, Sessions: keys, Now: time.Now}
	ctx := context.Background()
	staff := town.StaffMember("admin")
	var fs []*follower
	for i := range 1000 {
		key := sessionKey(fmt.Sprint("token-", i))
		v, _ := json.Marshal(session{Staff: staff.ID, Created: time.Now(), Grant: grant(staff)})
		if err := keys.Set(ctx, key, v, time.Hour); err != nil {
			b.Fatal(err)
		}
		for range 10 {
			fs = append(fs, &follower{srv: srv, staff: staff.ID, session: key})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if ended := srv.endedFeeds(ctx, fs); len(ended) != 0 {
			b.Fatalf("%d ended", len(ended))
		}
	}
}
