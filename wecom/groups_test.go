package wecom_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/store/embedded"
	"gridbot/wecom"
	"gridbot/wecomsim"
)

// clock is a settable time for the robot, its counts and the simulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type groupRig struct {
	sim    *wecomsim.Sim
	groups *wecom.Groups
	town   *core.Town
	cases  []core.Case
	clock  *clock
	store  *embedded.Store
	posts  map[string]int // observed posts by kind and outcome
}

// newGroupRig: grid L10 and village v10 have group robots; L10 wants each
// new case; the queue is an embedded store in a new folder.
func newGroupRig(t testing.TB, at time.Time) *groupRig {
	t.Helper()
	return newGroupRigAt(t, at, filepath.Join(t.TempDir(), "queue.db"))
}

// newGroupRigAt is newGroupRig with the queue's store at path.
func newGroupRigAt(t testing.TB, at time.Time, path string) *groupRig {
	t.Helper()
	clk := &clock{t: at}
	sim := wecomsim.New(wecomsim.Config{CorpID: corpID, AgentID: 1000002, Secret: secret, Token: token, AESKey: aesKey,
		Robots: map[string]string{"key-l10": "石桥网格群", "key-v10": "石桥村群"}, Now: clk.Now})
	api := httptest.NewServer(sim.Handler())
	t.Cleanup(api.Close)
	sample, err := configs.SampleTown()
	if err != nil {
		t.Fatal(err)
	}
	base := *sample
	base.Grids, base.Villages = slices.Clone(base.Grids), slices.Clone(base.Villages)
	for i := range base.Grids {
		if base.Grids[i].ID == "L10" {
			base.Grids[i].RobotWebhook = api.URL + "/cgi-bin/webhook/send?key=key-l10"
			base.Grids[i].RobotEachCase = true
		}
	}
	for i := range base.Villages {
		if base.Villages[i].ID == "v10" {
			base.Villages[i].RobotWebhook = api.URL + "/cgi-bin/webhook/send?key=key-v10"
		}
	}
	town, err := core.NewTown(base)
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(path, embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &groupRig{sim: sim, town: town, clock: clk, store: st, posts: map[string]int{}}
	keys := &embedded.MemoryKeys{Now: clk.Now}
	var mu sync.Mutex
	r.groups = &wecom.Groups{Robot: &wecom.Robot{Counts: keys, Now: clk.Now}, Town: town, Marks: keys, Queue: st,
		PublicBase: "https://grid.example.org", Now: clk.Now,
		Observe: func(kind, outcome string) { mu.Lock(); r.posts[kind+" "+outcome]++; mu.Unlock() },
		Cases: func(_ context.Context, q core.CaseQuery) ([]core.Case, error) {
			var out []core.Case
			for _, c := range r.cases {
				if q.Match(&c) {
					out = append(out, c)
				}
			}
			return out, nil
		}}
	return r
}

// waiting counts the cases in the queue.
func (r *groupRig) waiting(t testing.TB) int {
	t.Helper()
	n, err := r.groups.Waiting(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The morning digest counts each list right, links the cases, goes out at
// 08:00 town time and once a day to each group; the village's group counts
// its grids' cases.
func TestMorningDigest(t *testing.T) {
	zone := time.FixedZone("CST", 8*3600)
	morning := time.Date(2026, 12, 3, 7, 59, 0, 0, zone)
	r := newGroupRig(t, morning)
	c := func(n, grid string, state core.State, created, deadline time.Time, w core.Warning) core.Case {
		return core.Case{Number: n, Grid: grid, Category: "light", State: state, CreatedAt: created, Deadline: deadline, Warning: w}
	}
	day := func(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, zone) }
	r.cases = []core.Case{
		c("ST202612020001", "L10", core.StateAssigned, day(2, 20), day(4, 18), ""),                                 // new
		c("ST202612030001", "L10", core.StateInProgress, day(3, 7), day(3, 18), ""),                                // new, due today
		c("ST202612010001", "L10", core.StateInProgress, day(1, 9), day(3, 12), core.WarningYellow),                // due today, yellow
		c("ST202611280001", "L10", core.StateInProgress, day(28, 9).AddDate(0, -1, 0), day(2, 9), core.WarningRed), // red, overdue
		c("ST202611200001", "L10", core.StateClosed, day(20, 9).AddDate(0, -1, 0), day(22, 9).AddDate(0, -1, 0), ""),
		c("ST202612020002", "L11", core.StateAssigned, day(2, 21), day(4, 18), ""), // another village's grid
	}
	ctx := context.Background()
	r.groups.SendDigests(ctx)
	if n := len(r.sim.RobotPosts("")); n != 0 {
		t.Fatalf("%d posts before 08:00", n)
	}
	r.clock.Add(2 * time.Minute)
	r.groups.SendDigests(ctx)
	r.groups.SendDigests(ctx) // a second tick, or another instance
	for _, key := range []string{"key-l10", "key-v10"} {
		posts := r.sim.RobotPosts(key)
		if len(posts) != 1 {
			t.Fatalf("%s: %d digests, want 1", key, len(posts))
		}
		text := posts[0].Content
		if !strings.Contains(text, "新增 2　今日到期 2　<font color=\"warning\">黄灯 1</font>　<font color=\"warning\">红灯 1</font>　超期 1") {
			t.Errorf("%s counts:\n%s", key, text)
		}
		if !strings.Contains(text, "[ST202611280001](https://grid.example.org/wx/cases/ST202611280001?via=wecom)") ||
			strings.Contains(text, "ST202611200001") || strings.Contains(text, "ST202612020002") {
			t.Errorf("%s lists:\n%s", key, text)
		}
	}
	// The next day, the next digest.
	r.clock.Add(24 * time.Hour)
	r.groups.SendDigests(ctx)
	if n := len(r.sim.RobotPosts("key-l10")); n != 2 {
		t.Errorf("the next morning: %d digests in all", n)
	}
}

// A burst of 100 new cases, one every 100 ms: the group gets the first ones
// one by one, then the robot's 20 messages a minute are spent and the rest
// wait and go out together the next minute; WeCom never refuses a post,
// and every case is posted once.
func TestNewCaseBurstKeepsRobotRate(t *testing.T) {
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	r := newGroupRig(t, start)
	ctx := context.Background()
	for i := range 100 {
		if err := r.groups.NewCase(ctx, core.Case{Number: fmt.Sprintf("ST20261203%04d", i+1), Grid: "L10", Category: "light",
			Deadline: start.Add(48 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := r.groups.NewCase(ctx, core.Case{Number: fmt.Sprintf("ST20261203%04d", 500+i), Grid: "L11", Category: "light"}); err != nil { // no group wants it
			t.Fatal(err)
		}
		r.groups.Flush(ctx)
		r.clock.Add(100 * time.Millisecond)
	}
	if n, waiting := len(r.sim.RobotPosts("key-l10")), r.waiting(t); n != wecom.RobotPerMinute || waiting != 80 {
		t.Fatalf("after 10 s: %d posts, %d waiting; want 20 and 80", n, waiting)
	}
	// Within the minute after the first posts nothing more goes out.
	r.clock.Add(45 * time.Second)
	r.groups.Flush(ctx)
	if n := len(r.sim.RobotPosts("key-l10")); n != wecom.RobotPerMinute {
		t.Fatalf("%d posts within a minute of the first", n)
	}
	r.clock.Add(30 * time.Second)
	r.groups.Flush(ctx)
	if r.waiting(t) != 0 {
		t.Fatalf("%d still waiting over a minute later", r.waiting(t))
	}
	posts := r.sim.RobotPosts("")
	seen := map[string]int{}
	perMinute := map[int64]int{}
	number := regexp.MustCompile(`\[(ST\d+)\]`)
	for _, p := range posts {
		if p.Key != "key-l10" {
			t.Errorf("a post to %s", p.Group)
		}
		perMinute[p.At.Unix()/60]++
		for _, m := range number.FindAllStringSubmatch(p.Content, -1) {
			seen[m[1]]++
		}
	}
	for m, n := range perMinute {
		if n > wecom.RobotPerMinute {
			t.Errorf("minute %d: %d posts", m, n)
		}
	}
	if len(seen) != 100 || r.sim.RobotRefused("key-l10") != 0 {
		t.Errorf("%d cases posted, %d refused", len(seen), r.sim.RobotRefused("key-l10"))
	}
	for n, k := range seen {
		if k != 1 {
			t.Errorf("%s posted %d times", n, k)
		}
	}
	t.Logf("%d posts for 100 cases: %d single, then batches", len(posts), wecom.RobotPerMinute)
}

// postedNumber finds each case a post lists: its number starts the line,
// linked or not.
var postedNumber = regexp.MustCompile(`(?m)^> \[?(ST\d{12})`)

// New cases handed to the groups are in the store's queue when NewCase
// returns: the process dies before its next flush, and after a restart on
// the same store each is posted, once; what was posted before the crash is
// not posted again.
func TestQueuedCasesSurviveARestart(t *testing.T) {
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "queue.db")
	r := newGroupRigAt(t, start, path)
	ctx := context.Background()
	queue := func(g *wecom.Groups, from, to int) {
		for i := from; i <= to; i++ {
			if err := g.NewCase(ctx, core.Case{Number: fmt.Sprintf("ST20261203%04d", i), Grid: "L10", Category: "light"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	queue(r.groups, 1, 3)
	r.groups.Flush(ctx)
	queue(r.groups, 4, 6)
	// Killed before the next flush: nothing of the process is left but
	// the store's file.
	if err := r.store.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(path, embedded.Options{CasePrefix: "ST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys := &embedded.MemoryKeys{Now: r.clock.Now}
	after := &wecom.Groups{Robot: &wecom.Robot{Counts: keys, Now: r.clock.Now}, Town: r.town, Marks: keys, Queue: st, Now: r.clock.Now}
	if n, err := after.Waiting(ctx); err != nil || n != 3 {
		t.Fatalf("after the restart %d cases wait (%v), want 3", n, err)
	}
	after.Flush(ctx)
	after.Flush(ctx) // the next tick
	seen := map[string]int{}
	for _, p := range r.sim.RobotPosts("key-l10") {
		for _, m := range postedNumber.FindAllStringSubmatch(p.Content, -1) {
			seen[m[1]]++
		}
	}
	for i := 1; i <= 6; i++ {
		if n := seen[fmt.Sprintf("ST20261203%04d", i)]; n != 1 {
			t.Errorf("case %d posted %d times", i, n)
		}
	}
	if n, _ := after.Waiting(ctx); n != 0 || len(r.sim.RobotPosts("key-l10")) != 2 {
		t.Errorf("%d still waiting, %d posts", n, len(r.sim.RobotPosts("key-l10")))
	}
}

// Two instances flushing the same queue at once post each case once.
func TestQueueFlushedOnceByTwoInstances(t *testing.T) {
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	r := newGroupRig(t, start)
	ctx := context.Background()
	for i := 1; i <= 10; i++ {
		if err := r.groups.NewCase(ctx, core.Case{Number: fmt.Sprintf("ST20261203%04d", i), Grid: "L10", Category: "light"}); err != nil {
			t.Fatal(err)
		}
	}
	other := *r.groups // another instance: the same store and marks
	var wg sync.WaitGroup
	for _, g := range []*wecom.Groups{r.groups, &other, r.groups, &other} {
		wg.Go(func() { g.Flush(ctx) })
	}
	wg.Wait()
	r.groups.Flush(ctx)
	seen := map[string]int{}
	for _, p := range r.sim.RobotPosts("key-l10") {
		for _, m := range postedNumber.FindAllStringSubmatch(p.Content, -1) {
			seen[m[1]]++
		}
	}
	if len(seen) != 10 {
		t.Errorf("%d cases posted", len(seen))
	}
	for n, k := range seen {
		if k != 1 {
			t.Errorf("%s posted %d times", n, k)
		}
	}
	if r.posts["new_case posted"] != len(r.sim.RobotPosts("key-l10")) {
		t.Errorf("observed %v for %d posts", r.posts, len(r.sim.RobotPosts("key-l10")))
	}
}

// A case handed over twice before a flush (its event redelivered) waits
// once and is posted once.
func TestQueuedCaseHandedOverTwiceIsPostedOnce(t *testing.T) {
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	r := newGroupRig(t, start)
	ctx := context.Background()
	c := core.Case{Number: "ST202612030001", Grid: "L10", Category: "light", CreatedAt: start}
	for range 2 {
		if err := r.groups.NewCase(ctx, c); err != nil {
			t.Fatal(err)
		}
		r.clock.Add(time.Second)
	}
	if n := r.waiting(t); n != 1 {
		t.Errorf("%d waiting", n)
	}
	r.groups.Flush(ctx)
	if posts := r.sim.RobotPosts("key-l10"); len(posts) != 1 || len(postedNumber.FindAllString(posts[0].Content, -1)) != 1 {
		t.Errorf("posts: %+v", posts)
	}
}
