package dialogs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store/embedded"
)

// staffTown is testTown's shape with openids, departments' and the town's
// staff: 张伟 (s1, o-zhang) holds g1 A and g2 B; 李娜 (s2, o-li) g1 B and
// g3 A; 王强 (s3, no openid: binds with a code) g2 A and g3 B.
func staffTown(t testing.TB) *core.Town {
	t.Helper()
	base := testTown(t)
	town := *base
	town.Departments = []core.Department{{ID: "cj", Name: "城建办"}, {ID: "zz", Name: "综治办"}}
	town.Staff = []core.Staff{
		{ID: "s1", Name: "张伟", Role: core.RoleGridLeader, Village: "v1", Addresses: map[core.Channel]string{core.ChannelWeChat: "o-zhang"}},
		{ID: "s2", Name: "李娜", Role: core.RoleGridLeader, Village: "v2", Addresses: map[core.Channel]string{core.ChannelWeChat: "o-li"}},
		{ID: "s3", Name: "王强", Role: core.RoleGridLeader, Village: "v1"},
		{ID: "d1", Name: "劳慧敏", Role: core.RoleDepartment, Department: "cj", Addresses: map[core.Channel]string{core.ChannelWeChat: "o-cj"}},
		{ID: "d2", Name: "甄伟东", Role: core.RoleDepartment, Department: "zz", Addresses: map[core.Channel]string{core.ChannelWeChat: "o-zz"}},
		{ID: "t1", Name: "陈志强", Role: core.RoleTown, Addresses: map[core.Channel]string{core.ChannelWeChat: "o-town"}},
		{ID: "c1", Name: "黄秀英", Role: core.RoleVillage, Village: "v1", Addresses: map[core.Channel]string{core.ChannelWeChat: "o-cun"}},
	}
	// 二十户包联: 黄秀英 (c1) has three households, 张伟 (s1) one.
	town.Linked = []core.LinkedHousehold{
		{Cadre: "c1", Grid: "g1", Address: "东村一巷3号", Name: "陈伯"},
		{Cadre: "c1", Grid: "g1", Address: "东村一巷8号", Name: "陈姨", Phone: "13800000001"},
		{Cadre: "c1", Grid: "g2", Address: "东村新村路5号", Name: "黄婆婆"},
		{Cadre: "s1", Grid: "g1", Address: "东村二巷1号", Name: "梁伯"},
	}
	out, err := core.NewTown(town)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// staffRig is a Service with a Desk over a real ledger on the embedded
// store.
type staffRig struct {
	clock  *clock
	town   *core.Town
	store  *embedded.Store
	ledger *core.Ledger
	roster *core.Roster
	svc    *Service
}

func newStaffRig(t testing.TB) *staffRig {
	t.Helper()
	c := newClock()
	town := staffTown(t)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "s.db"), embedded.Options{CasePrefix: "ST", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	roster := &core.Roster{Town: town, Records: st, Keys: st}
	ledger := &core.Ledger{Store: st, Town: town, Now: c.Now, Roster: roster}
	eng := &Engine{Town: town, Ledger: ledger, Now: c.Now, NewKey: countingKeys()}
	visits := &core.Visits{Links: &core.LinkBook{Town: town, Records: st}, Store: st, Ledger: ledger}
	desk := &Desk{Town: town, Ledger: ledger, Roster: roster, Keys: st, Now: c.Now, Visits: visits}
	return &staffRig{clock: c, town: town, store: st, ledger: ledger, roster: roster,
		svc: &Service{Engine: eng, Store: st, Desk: desk}}
}

// TestStaffTranscripts replays testdata/staff/*.txt: staff and residents
// talking to the account, with the router's part played by the harness.
//
//	> o-zhang: 受理                 openid o-zhang sends a text
//	> o-zhang: [image]              … a photo;  [location LAT LNG LABEL]
//	> [file g1 env 路灯不亮]         a resident files a case, it is assigned,
//	                                and pushed to the assignee (their last case)
//	> [bindcode s3]                 issue a bind code; $CODE stands for it
//	> [resolve ST… result]          staff resolve a case on the console
//	> [wait 3h]                     advance the clock
//	> [sweep ST…]                   the supervision sweep on a case
//	> [case ST…]                    "= " line: the case's state
//	> [events ST…]                  "= " line: its event kinds
//
// They run twice: with the session read ahead and its write left to the
// caller (as the callback batches them, in one round trip before the answer
// and one after) they must answer exactly as reading and writing it in place.
func TestStaffTranscripts(t *testing.T) {
	for _, batched := range []bool{false, true} {
		t.Run(fmt.Sprintf("batched=%v", batched), func(t *testing.T) {
			goldenFiles(t, filepath.Join("testdata", "staff", "*.txt"), func(t *testing.T, src string) string {
				return runStaffTranscript(t, src, batched)
			})
		})
	}
}

func runStaffTranscript(t *testing.T, src string, batched bool) string {
	t.Helper()
	r := newStaffRig(t)
	ctx := context.Background()
	var out strings.Builder
	emit := func(prefix, text string) {
		for _, l := range strings.Split(text, "\n") {
			out.WriteString(strings.TrimRight(prefix+l, " ") + "\n")
		}
	}
	code, media := "", 0
	for n, line := range strings.Split(strings.TrimRight(src, "\n"), "\n") {
		if strings.HasPrefix(line, "<") || strings.HasPrefix(line, "=") {
			continue
		}
		out.WriteString(line + "\n")
		in, ok := strings.CutPrefix(line, "> ")
		if !ok {
			continue
		}
		fail := func(err error) { t.Fatalf("line %d: %v", n+1, err) }
		if strings.HasPrefix(in, "[") {
			f := strings.Fields(strings.Trim(in, "[]"))
			switch f[0] {
			case "file":
				c, err := r.ledger.Submit(ctx, testResident, core.Draft{Grid: f[1], Category: f[2], Text: strings.Join(f[3:], " ")})
				if err != nil {
					fail(err)
				}
				c, _, err = r.ledger.Assign(ctx, c.Number)
				if err != nil {
					fail(err)
				}
				if err := r.roster.SetLastCase(ctx, c.Assignee, c.Number); err != nil {
					fail(err)
				}
				emit("= ", fmt.Sprintf("编号：%s → %s (%s岗)", c.Number, r.town.StaffMember(c.Assignee).Name, c.Post))
			case "bindcode":
				var err error
				if code, err = r.roster.IssueBindCode(ctx, f[1]); err != nil {
					fail(err)
				}
			case "resolve":
				if _, _, err := r.ledger.Resolve(ctx, f[1], "t1", strings.Join(f[2:], " ")); err != nil {
					fail(err)
				}
			case "sweep":
				if _, _, err := r.ledger.Supervise(ctx, f[1]); err != nil && !errors.Is(err, core.ErrNoChange) {
					fail(err)
				}
			case "wait":
				d, err := time.ParseDuration(f[1])
				if err != nil {
					fail(err)
				}
				r.clock.Advance(d)
			case "case":
				c, err := r.store.Case(ctx, f[1])
				if err != nil {
					fail(err)
				}
				var depts []string
				for _, a := range c.Departments {
					depts = append(depts, fmt.Sprintf("%s:%s:lead=%t", a.Department, a.State, a.Lead))
				}
				emit("= ", fmt.Sprintf("%s %s assignee=%s post=%s departments=[%s]", c.Number, c.State, c.Assignee, c.Post, strings.Join(depts, " ")))
			case "events":
				evs, err := r.store.Events(ctx, f[1])
				if err != nil {
					fail(err)
				}
				var kinds []string
				for _, e := range evs {
					k := string(e.Kind) + "/" + e.Actor
					if e.Text != "" {
						k += ":" + e.Text
					}
					if id := e.Data[core.DataMedia]; id != "" {
						k += "+" + id
					}
					kinds = append(kinds, k)
				}
				emit("= ", strings.Join(kinds, " "))
			default:
				t.Fatalf("line %d: unknown directive %q", n+1, f[0])
			}
			continue
		}
		from, text, ok := strings.Cut(in, ": ")
		if !ok {
			t.Fatalf("line %d: want \"> OPENID: TEXT\"", n+1)
		}
		m := core.Message{From: from, Kind: core.MessageText, Text: strings.ReplaceAll(text, "$CODE", code)}
		if f := strings.Fields(strings.Trim(text, "[]")); strings.HasPrefix(text, "[") && len(f) > 0 {
			switch f[0] {
			case "image":
				media++
				m = core.Message{From: from, Kind: core.MessageImage, MediaID: fmt.Sprintf("media-%d", media)}
			case "location":
				lat, _ := strconv.ParseFloat(f[1], 64)
				lng, _ := strconv.ParseFloat(f[2], 64)
				m = core.Message{From: from, Kind: core.MessageLocation,
					Location: &core.Location{Point: core.Point{Lat: lat, Lng: lng}, Label: strings.Join(f[3:], " ")}}
			}
		}
		mctx := ctx
		var writes *core.KeyWrites
		if batched {
			// As the callback does: read ahead beside its retry check,
			// and send the session's write after the answer is made.
			var ops []core.KeyOp
			for _, k := range r.svc.ReadsFirst(m) {
				ops = append(ops, core.KeyOp{Kind: core.KeyGet, Key: k})
			}
			core.BatchKeys(ctx, r.svc.Store, ops)
			for _, op := range ops {
				mctx = core.WithReadAhead(mctx, op)
			}
			mctx, writes = core.WithKeyWrites(mctx)
		}
		reply, err := r.svc.Respond(mctx, m)
		if err != nil {
			t.Fatalf("line %d: Respond: %v", n+1, err)
		}
		if writes != nil {
			ops := writes.Take()
			core.BatchKeys(ctx, r.svc.Store, ops)
			for _, op := range ops {
				if op.Err != nil {
					t.Fatalf("line %d: deferred write: %v", n+1, op.Err)
				}
			}
		}
		if reply == "" {
			reply = "[no reply]"
		}
		emit("< ", reply)
	}
	return out.String()
}
