package console

import (
	"net/http"
	"runtime"
	"strings"
	"time"

	"gridbot/core"
)

// The figures and the downloads read every case staff may see and its
// history (about a second of server time per 5,000 cases, see
// docs/benchmarks.md). A hundred of them asked at once, by a page left
// open or by someone who means harm, must not starve the queue, the
// websocket and WeChat's callbacks of the CPU: at most heavySlots run at
// once, the rest wait their turn, and a request whose caller gave up
// leaves the line.

// msgBusy answers a heavy request whose caller left while it waited.
const msgBusy = "统计繁忙，请稍后再试"

// heavySlots is how many heavy requests run at once: one per CPU, and at
// least two.
func heavySlots() int { return max(2, runtime.GOMAXPROCS(0)) }

// The public first (issue 21): residents' callbacks (/wechat) and pages
// never wait behind console work. Every console API request but the
// websocket holds one of staffSlots while it runs, so however many staff
// browse at once, at most that many of their requests compete with the
// residents for the CPU (and, through it, for the store); the others wait
// in line, and one that waits longer than staffWait is answered 503.

// staffSlots is how many console requests run at once: configured, or one
// per CPU but one, which is left to the public, and at least one. On two
// CPUs under 20 staff browsing without pause, one slot against two took
// residents' steps from p99 53–86 ms to 35–40 ms (and twice the steps
// answered), the staff pages from p50 300–430 ms to about 550 ms
// (docs/benchmarks.md). A store across the network leaves a request
// waiting on it much of its time, which more slots can fill.
func staffSlots(configured int) int {
	if configured > 0 {
		return configured
	}
	return max(1, runtime.GOMAXPROCS(0)-1)
}

// staffWait bounds how long a console request waits for its turn.
const staffWait = 10 * time.Second

// msgStaffBusy answers a console request that waited too long.
const msgStaffBusy = "系统繁忙，请稍后再试"

// lined runs every /api/ request but the websocket (and the static page)
// through the staff line.
func (s *Server) lined(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/api/ws" {
			next.ServeHTTP(w, r)
			return
		}
		t := time.NewTimer(staffWait)
		defer t.Stop()
		select {
		case s.staffLine <- struct{}{}:
		case <-t.C:
			writeError(w, http.StatusServiceUnavailable, msgStaffBusy)
			return
		case <-r.Context().Done():
			writeError(w, http.StatusServiceUnavailable, msgStaffBusy)
			return
		}
		defer func() { <-s.staffLine }()
		next.ServeHTTP(w, r)
	})
}

// heavy wraps a handler that reads the whole visible history.
func (s *Server) heavy(h staffHandler) staffHandler {
	return func(w http.ResponseWriter, r *http.Request, staff *core.Staff) {
		select {
		case s.heavyLine <- struct{}{}:
		case <-r.Context().Done():
			writeError(w, http.StatusServiceUnavailable, msgBusy)
			return
		}
		defer func() { <-s.heavyLine }()
		h(w, r, staff)
	}
}
