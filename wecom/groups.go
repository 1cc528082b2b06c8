package wecom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridbot/core"
)

// DefaultDigestAt is when the morning digest goes out, after midnight in
// the town's zone.
const DefaultDigestAt = 8 * time.Hour

// DigestLate is how late after its time a digest may still go out.
const DigestLate = 2 * time.Hour

// Groups posts to the grid teams' WeCom groups (the directory's
// robot_webhook): each morning a digest of the group's cases, and each new
// case where the group asked for it. New cases wait a moment in a durable
// queue (Queue), so a burst goes out batched within the robot's 20 messages
// a minute, and a case queued before a crash is posted after the restart.
type Groups struct {
	Robot *Robot
	Town  core.TownSource
	// Cases lists cases (the store's Cases).
	Cases func(ctx context.Context, q core.CaseQuery) ([]core.Case, error)
	// Marks makes each day's digest go out once, whichever instance
	// sends it, and lets one instance at a time post the queue.
	Marks core.Ephemeral
	// Queue keeps the new cases waiting to be posted, in the store's
	// durable records shared by every instance.
	Queue core.Records
	// PublicBase is where the case pages are reached; empty lists cases
	// without links.
	PublicBase string
	// DigestAt is the digest's time of day; 0 means DefaultDigestAt.
	DigestAt time.Duration
	Now      func() time.Time
	Log      *slog.Logger
	// Observe hears of each post: "digest" or "new_case", and its outcome
	// (RobotPosted, RobotBusy, RobotFailed); nil hears nothing.
	Observe func(kind, outcome string)
}

// Outcomes of a robot post, as Observe hears them.
const (
	RobotPosted = "posted"
	RobotBusy   = "busy" // the minute's 20 were spent: it waits
	RobotFailed = "failed"
)

// nsRobotQueue is the Records namespace of the new cases waiting for their
// groups: robot ID, the case's time and number → the case's line. The
// webhook itself (its key is a secret) stays in the directory.
const nsRobotQueue = "wecom-robot-queue"

// flushLock is the Marks key one instance holds while it posts the queue;
// flushFor bounds a flush, well within the lock's life, so a lock is never
// freed by an instance whose flush outlived it.
const (
	flushLock    = "wecom:robot:flush"
	flushLockTTL = 30 * time.Second
	flushFor     = 15 * time.Second
)

func (g *Groups) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Groups) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (g *Groups) observe(kind string, err error) {
	if g.Observe == nil {
		return
	}
	switch {
	case err == nil:
		g.Observe(kind, RobotPosted)
	case errors.Is(err, ErrRobotBusy):
		g.Observe(kind, RobotBusy)
	default:
		g.Observe(kind, RobotFailed)
	}
}

// queueKey orders a group's waiting cases by when they were queued.
func queueKey(robot string, at time.Time, number string) string {
	return fmt.Sprintf("%s:%020d:%s", robot, at.UnixNano(), number)
}

// NewCase queues c for the groups that follow its grid and want each case.
// When it returns nil the case is in the durable queue: it is posted once,
// after a crash and a restart too. An error means it was not queued (the
// caller retries).
func (g *Groups) NewCase(ctx context.Context, c core.Case) error {
	town := g.Town.Town()
	// Keyed by the case's own time, not the moment it is queued: a case
	// handed over again (its event redelivered after a crash) lands on
	// the same record.
	at := c.CreatedAt
	if at.IsZero() {
		at = g.now()
	}
	for _, grp := range town.RobotGroups() {
		if !grp.EachCase || !slices.Contains(grp.Grids, c.Grid) {
			continue
		}
		if err := g.Queue.PutRecord(ctx, nsRobotQueue, queueKey(robotID(grp.Webhook), at, c.Number), []byte(g.caseLine(town, c))); err != nil {
			return fmt.Errorf("wecom group: queue %s: %w", c.Number, err)
		}
	}
	return nil
}

// Flush posts what waits, each group's new cases in as few messages as fit:
// one case alone, a burst together, oldest first. What the robot's minute
// cannot take waits for the next flush. One instance flushes at a time; a
// case leaves the queue once its post is taken, so only a crash between
// the robot's answer and that removal can post it twice.
func (g *Groups) Flush(ctx context.Context) {
	won, err := g.Marks.SetNX(ctx, flushLock, []byte("1"), flushLockTTL)
	if err != nil || !won {
		return
	}
	defer func() {
		if err := g.Marks.Delete(context.WithoutCancel(ctx), flushLock); err != nil {
			g.log().WarnContext(ctx, "wecom group: queue lock not freed", "err", err)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, flushFor)
	defer cancel()
	waiting, err := g.Queue.RecordsIn(ctx, nsRobotQueue)
	if err != nil {
		g.log().WarnContext(ctx, "wecom group: reading the queue", "err", err)
		return
	}
	if len(waiting) == 0 {
		return
	}
	hooks := map[string]string{}
	for _, grp := range g.Town.Town().RobotGroups() {
		hooks[robotID(grp.Webhook)] = grp.Webhook
	}
	byRobot := map[string][]string{}
	lines := map[string]string{}
	for k := range waiting {
		// A store may answer the list from a cache another instance's
		// removals reach a moment later (Valkey's client-side cache):
		// each case is read again, directly, before it is posted.
		v, ok, err := g.Queue.Record(ctx, nsRobotQueue, k)
		if err != nil {
			g.log().WarnContext(ctx, "wecom group: reading the queue", "err", err)
			return
		}
		if !ok {
			continue
		}
		robot, _, _ := strings.Cut(k, ":")
		byRobot[robot] = append(byRobot[robot], k)
		lines[k] = string(v)
	}
	for robot, keys := range byRobot {
		slices.Sort(keys)
		webhook, ok := hooks[robot]
		if !ok {
			// The group's robot left the directory: nowhere to post.
			g.log().WarnContext(ctx, "wecom group: robot gone, its waiting cases dropped", "cases", len(keys))
			g.dequeue(ctx, keys)
			continue
		}
		todo := make([]string, len(keys))
		for i, k := range keys {
			todo[i] = lines[k]
		}
		for len(todo) > 0 {
			msg, n := batch("新事项", todo)
			err := g.Robot.Post(ctx, webhook, msg)
			g.observe("new_case", err)
			if err != nil {
				if !errors.Is(err, ErrRobotBusy) {
					g.log().WarnContext(ctx, "wecom group: new cases not posted", "err", err)
				}
				break
			}
			if !g.dequeue(ctx, keys[:n]) {
				return
			}
			keys, todo = keys[n:], todo[n:]
		}
	}
}

// dequeue removes posted cases from the queue; false when the store
// failed, and the flush stops rather than post them again.
func (g *Groups) dequeue(ctx context.Context, keys []string) bool {
	for _, k := range keys {
		if err := g.Queue.DeleteRecord(context.WithoutCancel(ctx), nsRobotQueue, k); err != nil {
			g.log().ErrorContext(ctx, "wecom group: a posted case left in the queue", "err", err)
			return false
		}
	}
	return true
}

// Waiting counts the new cases not yet posted.
func (g *Groups) Waiting(ctx context.Context) (int, error) {
	waiting, err := g.Queue.RecordsIn(ctx, nsRobotQueue)
	if err != nil {
		return 0, fmt.Errorf("wecom group: reading the queue: %w", err)
	}
	return len(waiting), nil
}

// batch makes one markdown message of as many of lines as fit, and says how
// many it took.
func batch(title string, lines []string) (string, int) {
	if len(lines) == 1 {
		return "**" + title + "**\n" + lines[0], 1
	}
	head := "**" + title + "**（" + strconv.Itoa(len(lines)) + " 件）\n"
	var b strings.Builder
	b.WriteString(head)
	n := 0
	for _, l := range lines {
		if b.Len()+len(l)+1 > MaxMarkdown-64 && n > 0 {
			break
		}
		b.WriteString(l + "\n")
		n++
	}
	if n < len(lines) {
		b.WriteString("（余下 " + strconv.Itoa(len(lines)-n) + " 件随后发出）")
	}
	return b.String(), n
}

// caseLine is one case as a group reads it: number (linked), category,
// place and deadline; never the resident or their words.
func (g *Groups) caseLine(town *core.Town, c core.Case) string {
	what := c.Category
	if cat := town.Category(c.Category); cat != nil {
		what = cat.Name
	}
	number := c.Number
	if link := CaseLink(g.PublicBase, c.Number); link != "" {
		number = "[" + c.Number + "](" + link + ")"
	}
	line := "> " + number + " " + what + " · " + town.PlaceName(c.Grid)
	if !c.Deadline.IsZero() {
		line += " · 期限 " + c.Deadline.In(town.Zone()).Format("01-02 15:04")
	}
	return line
}

// SendDigests posts today's digest to every group once it is DigestAt in
// the town, once a day whichever instance gets there first.
func (g *Groups) SendDigests(ctx context.Context) {
	town := g.Town.Town()
	now := g.now()
	at := g.DigestAt
	if at <= 0 {
		at = DefaultDigestAt
	}
	local := now.In(town.Zone())
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, town.Zone())
	if now.Before(midnight.Add(at)) || !now.Before(midnight.Add(at+DigestLate)) {
		// A digest is for the morning: one not sent by DigestLate after
		// its time (the service was down) is skipped for the day.
		return
	}
	day := local.Format("2006-01-02")
	for _, grp := range town.RobotGroups() {
		mark := "wecom:digest:" + day + ":" + robotID(grp.Webhook)
		won, err := g.Marks.SetNX(ctx, mark, []byte("1"), 36*time.Hour)
		if err != nil || !won {
			continue
		}
		err = g.sendDigest(ctx, town, grp, now)
		g.observe("digest", err)
		if err != nil {
			// Not sent: free the mark so the next tick tries again.
			_ = g.Marks.Delete(context.WithoutCancel(ctx), mark)
			if !errors.Is(err, ErrRobotBusy) {
				g.log().WarnContext(ctx, "wecom group: digest not posted", "group", grp.Name, "err", err)
			}
		}
	}
}

func (g *Groups) sendDigest(ctx context.Context, town *core.Town, grp core.RobotGroup, now time.Time) error {
	since := now.Add(-24 * time.Hour)
	cases, err := g.Cases(ctx, core.CaseQuery{Grids: grp.Grids, Limit: 100000,
		Keep: func(c *core.Case) bool { return c.State.Open() || !c.CreatedAt.Before(since) }})
	if err != nil {
		return fmt.Errorf("digest cases: %w", err)
	}
	return g.Robot.Post(ctx, grp.Webhook, g.DigestText(town, grp.Name, core.DigestOf(town, cases, now), now))
}

// DigestText writes a digest as the group reads it: the counts, then each
// list with its cases linked, within the robot's 4096 bytes.
func (g *Groups) DigestText(town *core.Town, name string, d core.Digest, now time.Time) string {
	var b strings.Builder
	b.WriteString("**" + name + " 每日待办 " + now.In(town.Zone()).Format("1月2日") + "**\n")
	fmt.Fprintf(&b, "新增 %d　今日到期 %d　<font color=\"warning\">黄灯 %d</font>　<font color=\"warning\">红灯 %d</font>　超期 %d\n",
		len(d.New), len(d.DueToday), len(d.Yellow), len(d.Red), len(d.Overdue))
	if d.Empty() {
		b.WriteString("今天没有待办事项。")
		return b.String()
	}
	for _, sec := range []struct {
		title string
		cases []core.Case
	}{{"超期", d.Overdue}, {"红灯", d.Red}, {"今日到期", d.DueToday}, {"黄灯", d.Yellow}, {"新增", d.New}} {
		if len(sec.cases) == 0 {
			continue
		}
		head := "\n**" + sec.title + "**\n"
		for i, c := range sec.cases {
			line := g.caseLine(town, c) + "\n"
			if b.Len()+len(head)+len(line) > MaxMarkdown-80 {
				// The counts above are whole; the lists end here.
				fmt.Fprintf(&b, "\n…%s另有 %d 件，其余请在工作台查看", sec.title, len(sec.cases)-i)
				return b.String()
			}
			b.WriteString(head + line)
			head = ""
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// Run flushes the new cases every second and looks for the digest's time
// every half minute, until ctx ends.
func (g *Groups) Run(ctx context.Context) {
	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	digest := time.NewTicker(30 * time.Second)
	defer digest.Stop()
	g.SendDigests(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			g.Flush(ctx)
		case <-digest.C:
			g.SendDigests(ctx)
		}
	}
}
