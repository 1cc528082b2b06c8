package bot

import "time"

// workers runs functions on goroutines kept between calls. The callback
// answers each message on a goroutine of its own, so that a responder that
// ignores its deadline cannot hold the answer; a fresh goroutine per
// message grew its stack anew every time (newstack was 5% of an idle
// message), and one that has answered before already has the stack.
// A goroutine left idle for workerIdle exits.
type workers struct {
	jobs chan func()
}

// workerIdle is how long a goroutine waits for the next call before it
// exits, so that a burst's goroutines do not outlive it by much.
const workerIdle = 10 * time.Second

// run calls f on an idle goroutine, or a new one if none is waiting.
func (w *workers) run(f func()) {
	select {
	case w.jobs <- f:
	default:
		go w.loop(f)
	}
}

func (w *workers) loop(f func()) {
	f()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		select {
		case f := <-w.jobs:
			f()
			idle.Reset(workerIdle)
		case <-idle.C:
			return
		}
	}
}
