package console

import (
	"net/http"
	"runtime"

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
