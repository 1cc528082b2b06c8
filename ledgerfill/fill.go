// Package ledgerfill writes a realistic synthetic history into a ledger:
// cases in every grid and category, filed over years, taken through the
// steps a real town takes them through (assigned, accepted, replied,
// whistled, signed, resolved, rated, reopened, transferred, warned,
// escalated, closed unrated, delivered notices). Every step goes through
// core.Ledger with its clock set to the moment of the step, so what is
// stored is exactly what the ledger writes; nothing is announced to the
// router (the history is past, its notices were delivered).
//
// It exists for the benchmarks of a years-deep ledger and for a demo that
// starts with a town's history instead of an empty console.
package ledgerfill

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gridbot/core"
)

// Options shape a fill.
type Options struct {
	Cases int
	Years int
	// Months, when Years is 0, spreads the cases over that many months
	// instead: the demo's first month of history.
	Months int
	// End is when the history ends (the newest cases are still open
	// then); zero means now.
	End time.Time
	// Seed makes a fill repeatable; the same seed writes the same cases.
	Seed uint64
	// Workers write cases at once (each case's steps in order); 0 means 16.
	Workers int
	// Progress, when set, is called now and then with the cases written.
	Progress func(done int)
	// From continues a fill that stopped (Stats.Next): the cases before it
	// of the same Cases, Years and Seed are in the ledger and are not
	// written again. A million cases take hours to write; a fill can be
	// stopped and taken up again.
	From int
}

// Stats count what a fill wrote.
type Stats struct {
	Cases  int
	Events int
	// Open is how many cases were left open (the last weeks' work).
	Open int
	// Next is where a fill stopped before its end goes on (Options.From):
	// every case before it was written.
	Next int
}

// openTail is how far back from End cases may still be open: the work of
// the last weeks, as a real ledger has.
const openTail = 21 * 24 * time.Hour

// Fill writes opt.Cases cases, filed over opt.Years years up to opt.End,
// through ledger, whose Now it replaces with each step's moment (the ledger
// passed is copied, not changed). The town must have at least one grid
// with a post A, and one category.
func Fill(ctx context.Context, ledger *core.Ledger, opt Options) (Stats, error) {
	town := ledger.Town.Town()
	if opt.Cases <= 0 || opt.Years < 0 || opt.Months < 0 || opt.Years == 0 && opt.Months == 0 {
		return Stats{}, fmt.Errorf("fill: cases, and years or months, must be positive")
	}
	if opt.From < 0 || opt.From >= opt.Cases {
		return Stats{}, fmt.Errorf("fill: from must be below the cases")
	}
	if len(town.Grids) == 0 || len(town.Categories) == 0 {
		return Stats{}, fmt.Errorf("fill: the town has no grids or no categories")
	}
	if opt.End.IsZero() {
		opt.End = time.Now()
	}
	if opt.Workers <= 0 {
		opt.Workers = 16
	}
	span := opt.End.Sub(opt.End.AddDate(-opt.Years, 0, 0))
	if opt.Years == 0 {
		span = opt.End.Sub(opt.End.AddDate(0, -opt.Months, 0))
	}
	// Filing times, oldest first, so that numbers and sequence numbers run
	// roughly with the calendar.
	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	times := make([]time.Time, opt.Cases)
	for i := range times {
		times[i] = opt.End.Add(-time.Duration(rng.Int64N(int64(span))))
	}
	sort.Slice(times, func(a, b int) bool { return times[a].Before(times[b]) })
	// Residents: about one per three cases, so household files have
	// history; each belongs to one worker, so that a resident's rating
	// always settles the case that worker resolved last.
	residents := max(opt.Cases/3, opt.Workers)
	// A fill that goes on from a stop has residents of its own: who of the
	// earlier run's still waits to rate a case is not known here.
	people := 0
	if opt.From > 0 {
		people = (opt.From + 1) << 30
	}

	var (
		stats   Stats
		events  atomic.Int64
		open    atomic.Int64
		done    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		failed  error
		openMu  sync.Mutex
		opened  []string // the numbers of the cases left open
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// next[w] is the case worker w writes next (or opt.Cases when done):
	// the least of them is where a stopped fill goes on.
	next := make([]int, opt.Workers)
	for w := range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := newFiller(ledger, town, opt.Seed, w)
			f.workers = opt.Workers
			first := opt.From + (w-opt.From%opt.Workers+opt.Workers)%opt.Workers
			next[w] = first
			for i := first; i < opt.Cases; i += opt.Workers {
				next[w] = i
				if ctx.Err() != nil {
					return
				}
				// A resident of this worker's share, not one whose earlier
				// case still waits for their rating: the ledger settles a
				// resident's earliest resolved case, so a second would
				// rate the first.
				res := people + w + opt.Workers*f.rng.IntN(max(residents/opt.Workers, 1))
				for f.waiting[res] {
					res += opt.Workers * max(residents/opt.Workers, 1)
				}
				n := 0
				isOpen, err := f.fillCase(ctx, times[i], opt.End, res)
				if err == nil {
					n, err = f.eventsOf(ctx)
				}
				if err != nil {
					errOnce.Do(func() { failed = fmt.Errorf("fill case %d: %w", i, err); cancel() })
					return
				}
				events.Add(int64(n))
				if isOpen {
					open.Add(1)
					openMu.Lock()
					opened = append(opened, f.last)
					openMu.Unlock()
				}
				if d := done.Add(1); opt.Progress != nil && d%1000 == 0 {
					opt.Progress(int(d))
				}
			}
			next[w] = opt.Cases
		}()
	}
	wg.Wait()
	stats.Next = slices.Min(next)
	if failed == nil && ctx.Err() == nil {
		closed, written, err := sweepToEnd(ctx, newFiller(ledger, town, opt.Seed, opt.Workers), opt.End, opened)
		open.Add(-int64(closed))
		events.Add(int64(written))
		failed = err
	}
	stats.Cases, stats.Events, stats.Open = int(done.Load()), int(events.Load()), int(open.Load())
	if failed != nil {
		return stats, failed
	}
	return stats, ctx.Err()
}

// sweepToEnd runs the supervision sweep at end over the cases left open,
// as the sweeper would have run it while the history happened: the
// hand-overs, warnings, escalations and unrated closes that were due by
// then are in the history. Otherwise the sweeper does them all when the
// service starts on the fill, and pushes a burst of notices about the past
// (a thousand to the leaders' phones on the demo's first run). closed
// counts the cases the sweep closed, events the events it wrote.
func sweepToEnd(ctx context.Context, f *filler, end time.Time, numbers []string) (closed, events int, err error) {
	f.at(end)
	for _, num := range numbers {
		// Each call takes one step (a hand-over, then a warning …), so
		// a case is swept until nothing more is due; a few steps at most.
		for range 8 {
			c, evs, err := f.l.Supervise(ctx, num)
			if errors.Is(err, core.ErrNoChange) {
				break
			}
			if err != nil {
				return closed, events, fmt.Errorf("sweep %s at the end: %w", num, err)
			}
			events += len(evs)
			if c.State == core.StateClosed {
				closed++
				break
			}
		}
	}
	return closed, events, nil
}

// filler is one worker: its own ledger (its own clock) and randomness.
type filler struct {
	l     core.Ledger
	town  *core.Town
	rng   *rand.Rand
	clock time.Time
	rules core.Rules
	depts map[string]string // department → a staff member of it
	// villages are a village's staff member who makes its callbacks.
	villages map[string]string
	workers  int
	last     string // the number of the case filled last
	// waiting are the residents with a resolved case left unrated.
	waiting map[int]bool
}

func newFiller(ledger *core.Ledger, town *core.Town, seed uint64, worker int) *filler {
	f := &filler{town: town, rng: rand.New(rand.NewPCG(seed, uint64(worker)+1)), depts: map[string]string{},
		villages: map[string]string{}, waiting: map[int]bool{}}
	f.l = *ledger
	f.l.Now = func() time.Time { return f.clock }
	for _, s := range town.StaffWhere(func(s *core.Staff) bool { return !s.Disabled }) {
		switch s.Role {
		case core.RoleDepartment:
			if f.depts[s.Department] == "" {
				f.depts[s.Department] = s.ID
			}
		case core.RoleVillage:
			if f.villages[s.Village] == "" {
				f.villages[s.Village] = s.ID
			}
		}
	}
	f.rules = ledger.Rules
	return f
}

// ResidentID is the openid of the fill's resident n: recognisably made up.
func ResidentID(n int) string { return "ofill-resident-" + strconv.Itoa(n) }

// phone is resident n's made-up mobile number (the 170 range is virtual
// operators'; the digits are derived from n, not anyone's).
func phone(n int) string { return fmt.Sprintf("170%08d", n%100_000_000) }

// at moves the worker's clock to t, never backwards.
func (f *filler) at(t time.Time) {
	if t.After(f.clock) {
		f.clock = t
	}
}

// after advances the clock by a random time in [lo, hi).
func (f *filler) after(lo, hi time.Duration) {
	f.clock = f.clock.Add(lo + time.Duration(f.rng.Int64N(int64(hi-lo))))
}

func (f *filler) chance(p float64) bool { return f.rng.Float64() < p }

// eventsOf counts the events of the case the worker filled last: the
// steps do not all say how many they wrote (a rating that reopens writes
// three).
func (f *filler) eventsOf(ctx context.Context) (int, error) {
	evs, err := f.l.CaseEvents(ctx, f.last)
	return len(evs), err
}

// fillCase files one case at filed and takes it as far as a real case of
// its age would have gone by end. It reports whether the case is left open.
func (f *filler) fillCase(ctx context.Context, filed, end time.Time, resident int) (bool, error) {
	town := f.town
	g := &town.Grids[f.rng.IntN(len(town.Grids))]
	cat := &town.Categories[f.rng.IntN(len(town.Categories))]
	d := core.Draft{Category: cat.Code, Grid: g.ID, Village: g.Village, Text: caseText(f.rng, cat.Code),
		Phone: phone(resident)}
	if f.chance(0.7) {
		p := inside(f.rng, g)
		d.Location = &core.Location{Point: p, Label: placeLabel(f.rng, town, g)}
	} else {
		d.Address = placeLabel(f.rng, town, g)
	}
	f.clock = filed
	// Where the case comes from, as a town's ledger shows it: mostly
	// residents in WeChat, some found by the grid on patrol (主动发现,
	// settled when resolved), some filed at the desk for a resident who
	// phoned or came in (代录).
	var c core.Case
	var err error
	found := false
	switch leader, roll := g.LeaderA, f.rng.Float64(); {
	case leader != "" && roll < 0.12:
		found = true
		c, err = f.l.Patrol(ctx, leader, d)
	case leader != "" && roll < 0.20:
		via := core.IntakePhone
		if f.chance(0.4) {
			via = core.IntakeWalkIn
		}
		c, err = f.l.FileFor(ctx, leader, core.ProxyFiling{Draft: d, Channel: via, OpenID: ResidentID(resident)})
	default:
		c, err = f.l.Submit(ctx, ResidentID(resident), d)
	}
	if err != nil {
		return false, err
	}
	num := c.Number
	f.last = num
	if !found && f.chance(0.03) {
		// A neighbour joins it (附议): one of this worker's residents.
		f.after(10*time.Minute, 2*time.Hour)
		if _, err := f.l.Join(ctx, num, ResidentID(resident+f.workers)); err != nil {
			return false, fmt.Errorf("join: %w", err)
		}
	}
	count := func(_ core.Case, _ []core.Event, err error) error {
		if errors.Is(err, core.ErrNoChange) {
			return nil
		}
		return err
	}
	deliver := func(about core.Event, to string) error {
		f.after(2*time.Second, 40*time.Second)
		d := core.Delivery{About: about, To: to, Channel: "custom"}
		if f.chance(0.05) {
			d.Channel, d.Err, d.ErrCode = "template", errors.New("out of window"), 45015
		}
		if err := f.l.RecordDelivery(ctx, d); err != nil {
			return err
		}
		return nil
	}
	// How far this case gets: the older, the further.
	age := end.Sub(filed)
	stop := stageClosed
	if age < openTail {
		// Never left submitted: the router assigns within seconds, and a
		// case the sweep finds submitted is one the router lost (it is
		// routed at start, and logged as such).
		stop = stageAssigned + stage(f.rng.IntN(int(stageClosed-stageAssigned)+1))
	}
	// The router assigns at once.
	f.after(200*time.Millisecond, 3*time.Second)
	c, evs, err := f.l.Assign(ctx, num)
	if err := count(c, evs, err); err != nil {
		return false, fmt.Errorf("assign: %w", err)
	}
	if len(evs) > 0 {
		if err := deliver(evs[0], c.Assignee); err != nil {
			return false, err
		}
	}
	if f.chance(0.1) {
		// Post A does not answer in time: the sweep hands the case to B.
		f.at(c.AssignedAt.Add(f.acceptWithin(cat) + time.Minute))
		c2, evs, err := f.l.Supervise(ctx, num)
		if err := count(c2, evs, err); err != nil {
			return false, fmt.Errorf("supervise: %w", err)
		}
		// ErrNoChange (post A is post B, or B is away) returns no case:
		// the case stays as it was.
		if err == nil {
			c = c2
		}
	}
	if stop < stageAccepted {
		return true, nil
	}
	f.after(5*time.Minute, 90*time.Minute)
	c, evs, err = f.l.Accept(ctx, num, c.Assignee)
	if err := count(c, evs, err); err != nil {
		return false, fmt.Errorf("accept: %w", err)
	}
	worker := c.Assignee
	if !found && f.chance(0.7) {
		f.after(10*time.Minute, 4*time.Hour)
		_, evs, err := f.l.Reply(ctx, num, worker, replyText(f.rng))
		if err := count(c, evs, err); err != nil {
			return false, fmt.Errorf("reply: %w", err)
		}
		if len(evs) > 0 {
			if err := deliver(evs[0], core.ActorResident); err != nil {
				return false, err
			}
		}
	}
	if dept := cat.Department; dept != "" && f.depts[dept] != "" && f.chance(0.2) {
		f.after(30*time.Minute, 6*time.Hour)
		_, evs, err := f.l.Whistle(ctx, num, worker, dept, "需要部门协同处置")
		if err := count(c, evs, err); err != nil {
			return false, fmt.Errorf("whistle: %w", err)
		}
		f.after(20*time.Minute, 5*time.Hour)
		_, evs, err = f.l.Sign(ctx, num, f.depts[dept])
		if err := count(c, evs, err); err != nil {
			return false, fmt.Errorf("sign: %w", err)
		}
	}
	// Late (15%): overdue, warned and escalated on the way.
	late := f.chance(0.15)
	if late || f.chance(0.3) {
		// The sweep's yellow warning.
		start := c.TermStart
		f.at(start.Add(time.Duration(float64(c.Deadline.Sub(start)) * 0.8)))
		c2, evs, err := f.l.Supervise(ctx, num)
		if err := count(c2, evs, err); err != nil {
			return false, fmt.Errorf("warn: %w", err)
		}
	}
	if late {
		f.at(c.Deadline.Add(time.Duration(1+f.rng.IntN(50)) * time.Hour))
		c2, evs, err := f.l.Supervise(ctx, num)
		if err := count(c2, evs, err); err != nil {
			return false, fmt.Errorf("escalate: %w", err)
		}
	}
	if stop < stageResolved {
		return true, nil
	}
	if !late {
		f.at(c.Deadline.Add(-time.Duration(f.rng.Int64N(int64(c.Deadline.Sub(f.clock)/2 + time.Minute)))))
	} else {
		f.after(time.Hour, 20*time.Hour)
	}
	c, evs, err = f.l.Resolve(ctx, num, worker, resultText(f.rng))
	if err := count(c, evs, err); err != nil {
		return false, fmt.Errorf("resolve: %w", err)
	}
	if found {
		// Settled (销号) as it is resolved: no one to rate it.
		return c.State != core.StateClosed, nil
	}
	if len(evs) > 0 {
		if err := deliver(evs[0], core.ActorResident); err != nil {
			return false, err
		}
	}
	if stop < stageClosed {
		f.waiting[resident] = true
		return true, nil
	}
	open, err := f.settle(ctx, c, resident, count)
	if err != nil {
		return false, err
	}
	return open, f.callBack(ctx, c.Number, end)
}

// callBack records the callback visit (回访) a settled case was given — for
// a close without a rating, or a bad one — as a village does: most within
// their three working days, some late, a few never. One whose time comes
// after end is left waiting, as the newest are in a real ledger.
func (f *filler) callBack(ctx context.Context, number string, end time.Time) error {
	c, err := f.l.Case(ctx, number)
	if err != nil {
		return fmt.Errorf("callback: %w", err)
	}
	staff := f.villages[c.Village]
	if c.Callback == nil || staff == "" || f.chance(0.04) {
		return nil
	}
	at := c.Callback.At.Add(time.Duration(f.rng.Int64N(int64(c.Callback.Due.Sub(c.Callback.At)) + 1)))
	if f.chance(0.1) {
		at = c.Callback.Due.Add(time.Duration(1+f.rng.IntN(72)) * time.Hour)
	}
	if at.After(end) {
		return nil
	}
	f.at(at)
	// Reached and satisfied mostly; a resident not reached is noted.
	a := core.CallbackAnswer{Reached: true, Satisfied: true, Note: "居民表示问题已解决"}
	if f.chance(0.1) {
		a = core.CallbackAnswer{Note: "电话未接通，已留言"}
	}
	if _, _, err := f.l.RecordCallback(ctx, number, staff, a); err != nil {
		return fmt.Errorf("callback %s: %w", number, err)
	}
	return nil
}

// settle takes a resolved case to closed: rated (now and then badly,
// which reopens it once), or left unrated until the sweep closes it.
func (f *filler) settle(ctx context.Context, c core.Case, resident int,
	count func(core.Case, []core.Event, error) error) (bool, error) {
	num := c.Number
	for round := 0; ; round++ {
		switch {
		case f.chance(0.25):
			// Not rated: closed by the sweep after the rating wait.
			f.at(c.ResolvedAt.Add(f.ratingWait() + time.Hour))
			if _, _, err := f.l.Supervise(ctx, num); err != nil {
				return false, fmt.Errorf("close unrated: %w", err)
			}
			return false, nil
		default:
			f.after(10*time.Minute, 30*time.Hour)
			score := 5 - f.rng.IntN(3) // mostly content
			if round == 0 && f.chance(0.06) {
				score = 1 + f.rng.IntN(2) // reopens it
			}
			c2, err := f.l.Rate(ctx, ResidentID(resident), score)
			if err != nil {
				return false, fmt.Errorf("rate: %w", err)
			}
			if c2.Number != num {
				return false, fmt.Errorf("rate settled %s, not %s", c2.Number, num)
			}
			if score >= 3 {
				return false, nil
			}
			// Reopened to the grid: worked again, resolved again.
			f.after(30*time.Minute, 3*time.Hour)
			c3, evs, err := f.l.Accept(ctx, num, c2.Assignee)
			if err := count(c3, evs, err); err != nil {
				return false, fmt.Errorf("accept reopened: %w", err)
			}
			f.after(2*time.Hour, 30*time.Hour)
			c, evs, err = f.l.Resolve(ctx, num, c3.Assignee, resultText(f.rng))
			if err := count(c, evs, err); err != nil {
				return false, fmt.Errorf("resolve reopened: %w", err)
			}
		}
	}
}

func (f *filler) acceptWithin(cat *core.Category) time.Duration {
	if cat.AcceptMinutes > 0 {
		return time.Duration(cat.AcceptMinutes) * time.Minute
	}
	if f.rules.AcceptWithin > 0 {
		return f.rules.AcceptWithin
	}
	return core.DefaultAcceptWithin
}

func (f *filler) ratingWait() time.Duration {
	if f.rules.RatingWait > 0 {
		return f.rules.RatingWait
	}
	return core.DefaultRatingWait
}

// stage is how far a recent case has got.
type stage int

const (
	stageSubmitted stage = iota
	stageAssigned
	stageAccepted
	stageResolved
	stageClosed
)
