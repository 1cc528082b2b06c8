package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"gridbot/core"
	"gridbot/internal/clientaddr"
)

// The live feed cannot silently go stale because it is not a stream of its
// own: the store's event log is. Every websocket follows the log from a
// sequence number — the one the page last saw, or the one its list answer
// carried — reading core.CaseStore.EventsSince and sending, in order, the
// events on cases its staff member may see. Publish only rings a doorbell
// that makes the followers read now; a slow poll reads anyway, so an event
// written by another instance, or a doorbell lost, costs a few seconds, not
// an event. A page that reconnects (a network drop, a laptop asleep, a
// restarted server, another instance) asks for ?since= the last number it
// saw and receives exactly what it missed, then live events; when that is
// more than Hub.maxReplay events it is told to reload instead.

// Hub rings the live feeds: it keeps the set of open websockets and wakes
// them when the router publishes an event. It never blocks the router.
type Hub struct {
	log *slog.Logger

	mu      sync.Mutex
	clients map[*follower]struct{}
	closed  bool
	// Open websockets per staff member and per client address, for the
	// limits below.
	perStaff map[string]int
	perAddr  map[string]int
	// bell is closed by Publish, and replaced, to wake every feed at once:
	// one close instead of a send per feed. A feed takes the current bell
	// before it reads the log, so a Publish in between is never missed.
	bell atomic.Pointer[chan struct{}]
	wg   sync.WaitGroup

	// Limits; the tests shorten them.
	writeWait  time.Duration // to write one message
	pongWait   time.Duration // silence after which a client is dead
	pingPeriod time.Duration // heartbeat, shorter than pongWait
	poll       time.Duration // read the log this often even without a doorbell
	readLimit  int64         // largest message a client may send
	batch      int           // events read from the store at once
	maxReplay  int           // events a reconnecting page may be behind
	// sessionEvery is how often the sessions behind the websockets are
	// checked in the store, in one batch: a session ended on another
	// instance (a logout, a reset) or expired closes its websockets
	// within it.
	sessionEvery time.Duration
	maxPerStaff  int // websockets one staff member may hold open here
	maxPerAddr   int // websockets one client address may hold open here

	// writeBuffers lends a write buffer to a connection only while it
	// writes: thousands of mostly idle consoles need not hold one each.
	writeBuffers sync.Pool

	// pages shares the reads of the log between the feeds: consoles that
	// are up to date all ask for the same page after the same event, and
	// one of them reads it for all. A page is good until the next Publish, and
	// for pageFresh at most.
	pagesMu sync.Mutex
	pages   map[uint64]*logPage
}

// pageFresh bounds how long a page is shared even without a Publish, so the
// poll still finds what no Publish announced (another process's writes).
const pageFresh = 250 * time.Millisecond

// logPage is the log after one sequence number, read once for every feed
// that asks in the same generation, with the cases its events belong to.
type logPage struct {
	at    time.Time
	done  chan struct{}
	evs   []core.Event
	cases map[string]*core.Case // nil entries: the case is gone
	err   error

	// frames holds the page as sent to one staff member, encoded once for
	// all their connections (key: staff ID); a nil frame means they may see
	// none of its events.
	framesMu sync.Mutex
	frames   map[string]*websocket.PreparedMessage
}

// follower is one websocket following the log.
type follower struct {
	// Whose it is: the server that admitted it checks its session.
	srv     *Server
	staff   string
	addr    string
	session string // the session's store key

	// stop is closed, under Hub.mu and with code and reason set, to close
	// the connection: the hub shutting down, or (tests) a network drop.
	stop   chan struct{}
	code   int
	reason string
}

// stopWith closes f's connection with code; the first reason stands.
// Callers hold Hub.mu.
func (f *follower) stopWith(code int, reason string) {
	select {
	case <-f.stop:
	default:
		f.code, f.reason = code, reason
		close(f.stop)
	}
}

// Close codes of the feed.
const (
	closeShutdown = websocket.CloseGoingAway
	// closeResync tells the page it is too far behind to catch up event
	// by event: reload from the API, then follow from the list's seq.
	closeResync = 4000
	// closeSessionEnded tells the page its login has ended (a logout, a
	// password reset, a disabled account, an expired session).
	closeSessionEnded = 4001
)

// Default websocket limits: a person needs a few tabs and a phone; an
// office behind one address a few hundred.
const (
	defaultMaxPerStaff = 10
	defaultMaxPerAddr  = 300
)

// NewHub returns a hub; start it with Run.
func NewHub(log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{
		log:          log,
		clients:      make(map[*follower]struct{}),
		perStaff:     map[string]int{},
		perAddr:      map[string]int{},
		sessionEvery: time.Second,
		maxPerStaff:  defaultMaxPerStaff,
		maxPerAddr:   defaultMaxPerAddr,
		writeWait:    10 * time.Second,
		pongWait:     60 * time.Second,
		pingPeriod:   25 * time.Second,
		poll:         5 * time.Second,
		readLimit:    4 << 10,
		batch:        200,
		maxReplay:    1000,
	}
	bell := make(chan struct{})
	h.bell.Store(&bell)
	return h
}

// Limit sets how many websockets one staff member, and one client address,
// may hold open on this hub (defaults 10 and 300); call it before serving.
// Values below 1 keep the default.
func (h *Hub) Limit(perPerson, perAddr int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if perPerson >= 1 {
		h.maxPerStaff = perPerson
	}
	if perAddr >= 1 {
		h.maxPerAddr = perAddr
	}
}

// Clients returns the number of connected websockets.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// Publish tells the feeds that the log has grown. The event itself is not
// needed: each feed reads the log, filtered for its staff member. It never
// blocks.
func (h *Hub) Publish(core.Event, core.Case) {
	h.pagesMu.Lock()
	clear(h.pages) // pages read before this event may lack it
	h.pagesMu.Unlock()
	next := make(chan struct{})
	close(*h.bell.Swap(&next))
}

// Run checks the sessions behind the websockets every sessionEvery until
// ctx is done, then closes every websocket with a close frame and returns
// once they are closed (or writeWait has passed). Call it once.
func (h *Hub) Run(ctx context.Context) {
	tick := time.NewTicker(h.sessionEvery)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			h.checkSessions(ctx)
		}
	}
	tick.Stop()
	h.mu.Lock()
	h.closed = true
	for f := range h.clients {
		f.stopWith(closeShutdown, "server shutting down")
	}
	h.mu.Unlock()
	all := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(all)
	}()
	select {
	case <-all:
	case <-time.After(h.writeWait + time.Second):
	}
}

// join admits a websocket of staff from addr, or reports why not: the
// hub is shutting down (msgNoLiveFeed) or a limit is reached.
func (h *Hub) join(srv *Server, staff, addr, session string) (*follower, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, msgNoLiveFeed
	}
	if h.perStaff[staff] >= h.maxPerStaff || h.perAddr[addr] >= h.maxPerAddr {
		return nil, msgTooManyFeeds
	}
	f := &follower{stop: make(chan struct{}), srv: srv, staff: staff, addr: addr, session: session}
	h.clients[f] = struct{}{}
	h.perStaff[staff]++
	h.perAddr[addr]++
	h.wg.Add(1)
	return f, ""
}

// endStaff closes the websockets of staff id on this hub at once.
func (h *Hub) endStaff(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for f := range h.clients {
		if f.staff == id {
			f.stopWith(closeSessionEnded, "session ended")
		}
	}
}

// checkSessions asks each server which of its websockets' sessions have
// ended, and closes those.
func (h *Hub) checkSessions(ctx context.Context) {
	h.mu.Lock()
	byServer := map[*Server][]*follower{}
	for f := range h.clients {
		byServer[f.srv] = append(byServer[f.srv], f)
	}
	h.mu.Unlock()
	for srv, fs := range byServer {
		ended := srv.endedFeeds(ctx, fs)
		if len(ended) == 0 {
			continue
		}
		h.mu.Lock()
		for _, f := range ended {
			f.stopWith(closeSessionEnded, "session ended")
		}
		h.mu.Unlock()
	}
}

// dropAll closes every websocket as a restarting server would (1012); the
// pages reconnect and resume. The tests use it to cut the line.
func (h *Hub) dropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for f := range h.clients {
		f.stopWith(websocket.CloseServiceRestart, "restart")
	}
}

func (h *Hub) leave(f *follower) {
	h.mu.Lock()
	delete(h.clients, f)
	if h.perStaff[f.staff]--; h.perStaff[f.staff] <= 0 {
		delete(h.perStaff, f.staff)
	}
	if h.perAddr[f.addr]--; h.perAddr[f.addr] <= 0 {
		delete(h.perAddr, f.addr)
	}
	h.mu.Unlock()
	h.wg.Done()
}

// wireMessage is what a client receives: an event ("event"), several at
// once ("events"), a heartbeat carrying the feed's position ("ping"), or the
// word to reload ("resync", before a close with code 4000).
type wireMessage struct {
	Type  string     `json:"type"`
	Seq   uint64     `json:"seq,omitempty"`
	Event *eventView `json:"event,omitempty"`
	Case  *caseView  `json:"case,omitempty"`
	// Events are the "event" messages an "events" message carries, in
	// order; its Seq is the last one's.
	Events []wireMessage `json:"events,omitempty"`
}

// seqHead is a store that knows the last sequence number it gave in one
// read (the Valkey store's counter): lastSeq asks it rather than bisect,
// each step of which is a round trip or two there.
type seqHead interface {
	LastSeq(ctx context.Context) (uint64, error)
}

// lastSeq finds the highest sequence number in the log by galloping and
// bisecting over EventsSince(x, 1), which is empty exactly when nothing
// lies above x: some forty small reads for a million events.
func lastSeq(ctx context.Context, st core.CaseStore) (uint64, error) {
	if h, ok := st.(seqHead); ok {
		return h.LastSeq(ctx)
	}
	above := func(x uint64) (bool, error) {
		evs, err := st.EventsSince(ctx, x, 1)
		return len(evs) > 0, err
	}
	lo, hi := uint64(0), uint64(1) // something above lo; find hi with nothing above
	for {
		ok, err := above(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, hi = hi, hi*2
	}
	if ok, err := above(lo); err != nil || !ok {
		return lo, err // empty log (lo = 0)
	}
	for hi-lo > 1 { // something above lo, nothing above hi
		mid := lo + (hi-lo)/2
		ok, err := above(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}

func (s *Server) handleWebsocket(w http.ResponseWriter, r *http.Request) {
	if s.Hub == nil {
		writeError(w, http.StatusServiceUnavailable, msgNoLiveFeed)
		return
	}
	allowed := func(r *http.Request) bool {
		o := r.Header.Get("Origin")
		return o != "" && s.originAllowed(r, o)
	}
	if !allowed(r) {
		writeError(w, http.StatusForbidden, msgForbidden)
		return
	}
	staff, session, err := s.sessionOf(r)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console websocket session", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	if staff == nil {
		writeError(w, http.StatusUnauthorized, msgLoginFirst)
		return
	}
	var since uint64
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, msgBadRequest)
			return
		}
	} else if since, err = lastSeq(r.Context(), s.Store); err != nil {
		s.log().ErrorContext(r.Context(), "console websocket position", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	f, refusal := s.Hub.join(s, staff.ID, clientaddr.Key(s.Proxies.Addr(r)), session)
	if refusal == msgTooManyFeeds {
		s.log().WarnContext(r.Context(), "console websocket refused: too many", "staff", staff.ID)
		writeError(w, http.StatusTooManyRequests, refusal)
		return
	}
	upgrader := websocket.Upgrader{
		// Clients send nothing but control frames: a small read buffer.
		ReadBufferSize:  256,
		WriteBufferSize: 4096,
		WriteBufferPool: &s.Hub.writeBuffers,
		CheckOrigin:     allowed,
		Error: func(w http.ResponseWriter, r *http.Request, status int, _ error) {
			writeError(w, status, msgBadRequest)
		},
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		if f != nil {
			s.Hub.leave(f)
		}
		s.log().DebugContext(r.Context(), "console websocket upgrade", "err", err)
		return
	}
	if f == nil { // the hub is shutting down
		s.Hub.closeWith(conn, closeShutdown, "server shutting down")
		conn.Close()
		return
	}
	// The feed runs on a goroutine of its own and the request's returns:
	// its stack, grown by the HTTP handling, would otherwise be held for the
	// connection's life (thousands of consoles). The connection is hijacked,
	// so the request's end does not touch it; its context does end, so the
	// feed keeps only its values.
	go s.follow(context.WithoutCancel(r.Context()), conn, f, since)
}

// follow sends the log after since to conn, filtered for f's staff
// member, until the connection fails, the client speaks, or the hub stops
// it (shutting down, or the session ended). A second goroutine reads.
func (s *Server) follow(ctx context.Context, conn *websocket.Conn, f *follower, since uint64) {
	h := s.Hub
	id := f.staff
	defer conn.Close()
	defer h.leave(f)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer cancel()
		h.read(conn, id)
	}()

	last := since
	// The first page must be read after the client came back: a page of
	// the same position another feed read a moment ago may lack what was
	// written since by another instance, which no Publish here announces.
	notBefore := time.Now()
	// A page that was away for long reloads rather than replaying.
	if backlog, err := s.Store.EventsSince(ctx, since, h.maxReplay+1); err != nil {
		s.log().ErrorContext(ctx, "console feed: read the log", "err", err)
		h.closeWith(conn, websocket.CloseInternalServerErr, "")
		return
	} else if len(backlog) > h.maxReplay {
		_ = s.send(conn, wireMessage{Type: "resync"})
		h.closeWith(conn, closeResync, "resync")
		return
	}
	// One ticker for the poll and the heartbeat, and one bell for every
	// feed: each case of the select below costs every feed on every event.
	every := min(h.poll, h.pingPeriod)
	tick := time.NewTicker(every)
	defer tick.Stop()
	ticks, pingEvery := 0, max(1, int(h.pingPeriod/every))
	// The write deadline is moved on only once half of it is used: setting
	// it costs a timer update, once per connection per event.
	var deadline time.Time
	for {
		bell := *h.bell.Load()
		page := s.logPage(ctx, last, notBefore)
		notBefore = time.Time{}
		evs, err := page.evs, page.err
		if err != nil {
			if ctx.Err() == nil {
				s.log().ErrorContext(ctx, "console feed: read the log", "err", err)
				h.closeWith(conn, websocket.CloseInternalServerErr, "")
			}
			return
		}
		frame, err := s.frame(page, id)
		if err != nil {
			s.log().ErrorContext(ctx, "console feed: encode", "err", err)
			h.closeWith(conn, websocket.CloseInternalServerErr, "")
			return
		}
		if frame != nil {
			if now := time.Now(); deadline.Sub(now) < h.writeWait/2 {
				deadline = now.Add(h.writeWait)
				_ = conn.SetWriteDeadline(deadline)
			}
			if err := conn.WritePreparedMessage(frame); err != nil {
				return // too slow or gone
			}
		}
		if len(evs) > 0 {
			last = evs[len(evs)-1].Seq
		}
		if len(evs) == h.batch {
			continue // more waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-f.stop:
			h.mu.Lock()
			code, reason := f.code, f.reason
			h.mu.Unlock()
			h.closeWith(conn, code, reason)
			return
		case <-bell:
		case now := <-tick.C:
			if ticks++; ticks%pingEvery != 0 {
				continue // a poll of the log
			}
			deadline = now.Add(h.writeWait)
			_ = conn.SetWriteDeadline(deadline)
			if err := conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
			if err := s.send(conn, wireMessage{Type: "ping", Seq: last}); err != nil {
				return
			}
		}
	}
}

// logPage returns the log after seq (one batch) and its cases, reading it
// only if no other feed has since the last Publish (and lately, and not
// before notBefore).
func (s *Server) logPage(ctx context.Context, seq uint64, notBefore time.Time) *logPage {
	h := s.Hub
	h.pagesMu.Lock()
	if p := h.pages[seq]; p != nil && time.Since(p.at) < pageFresh && !p.at.Before(notBefore) {
		h.pagesMu.Unlock()
		select {
		case <-p.done:
			return p
		case <-ctx.Done():
			return &logPage{err: ctx.Err()}
		}
	}
	p := &logPage{at: time.Now(), done: make(chan struct{})}
	if h.pages == nil {
		h.pages = map[uint64]*logPage{}
	}
	h.pages[seq] = p
	h.pagesMu.Unlock()

	// The read is shared, so it must not end with the feed that started it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	p.evs, p.err = s.Store.EventsSince(rctx, seq, h.batch)
	p.cases = map[string]*core.Case{}
	for _, ev := range p.evs {
		if _, seen := p.cases[ev.Case]; seen || p.err != nil {
			continue
		}
		c, err := s.Store.Case(rctx, ev.Case)
		switch {
		case errors.Is(err, core.ErrNotFound):
			p.cases[ev.Case] = nil
		case err != nil:
			p.err = fmt.Errorf("read case %s: %w", ev.Case, err)
		default:
			p.cases[ev.Case] = &c
		}
	}
	close(p.done)
	if p.err != nil {
		h.pagesMu.Lock()
		if h.pages[seq] == p {
			delete(h.pages, seq) // let the next feed try again
		}
		h.pagesMu.Unlock()
	}
	return p
}

// frame returns the page's events as sent to staff id, encoded once per
// page for all of that staff member's connections, or nil when they may see
// none of them. One event is an "event" message; several go as one "events"
// message, so a burst (a case filed, assigned, its pushes recorded) costs
// each connection one write, not one per event.
func (s *Server) frame(p *logPage, id string) (*websocket.PreparedMessage, error) {
	p.framesMu.Lock()
	defer p.framesMu.Unlock()
	if f, done := p.frames[id]; done {
		return f, nil
	}
	var items []wireMessage
	for _, ev := range p.evs {
		if msg, ok := s.render(id, ev, p.cases); ok {
			items = append(items, msg)
		}
	}
	var f *websocket.PreparedMessage
	if len(items) > 0 {
		msg := items[0]
		if len(items) > 1 {
			msg = wireMessage{Type: "events", Seq: items[len(items)-1].Seq, Events: items}
		}
		data, err := json.Marshal(msg)
		if err != nil {
			return nil, err
		}
		if f, err = websocket.NewPreparedMessage(websocket.TextMessage, data); err != nil {
			return nil, err
		}
	}
	if p.frames == nil {
		p.frames = map[string]*websocket.PreparedMessage{}
	}
	p.frames[id] = f
	return f, nil
}

// render turns ev into a message for staff id, or reports false when they
// may not see its case. The staff member is looked up now, so a role change
// or a disabled account takes effect at once; cases are the page's, shared
// read-only between the feeds.
func (s *Server) render(id string, ev core.Event, cases map[string]*core.Case) (wireMessage, bool) {
	c := cases[ev.Case]
	if c == nil {
		return wireMessage{}, false
	}
	town := s.Town.Town()
	staff := town.StaffMember(id)
	if staff == nil || staff.PasswordHash == "" || !town.CanSee(staff, c) {
		return wireMessage{}, false
	}
	ev.Case = c.Number
	evView, caseV := newEventView(town, ev), newCaseView(town, c, s.now())
	return wireMessage{Type: "event", Seq: ev.Seq, Event: &evView, Case: &caseV}, true
}

func (s *Server) send(conn *websocket.Conn, msg wireMessage) error {
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_ = conn.SetWriteDeadline(time.Now().Add(s.Hub.writeWait))
	return conn.WriteMessage(websocket.TextMessage, data)
}

func (h *Hub) closeWith(conn *websocket.Conn, code int, reason string) {
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(h.writeWait))
}

// read keeps the read deadline moving with the client's pongs and returns
// when the connection fails or the client sends anything: the console's
// clients have nothing to say, so any message is treated as hostile.
func (h *Hub) read(conn *websocket.Conn, staff string) {
	conn.SetReadLimit(h.readLimit)
	_ = conn.SetReadDeadline(time.Now().Add(h.pongWait))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(h.pongWait))
	})
	kind, _, err := conn.ReadMessage()
	if err != nil {
		return
	}
	code := websocket.ClosePolicyViolation
	if kind == websocket.BinaryMessage {
		code = websocket.CloseUnsupportedData
	}
	h.log.Info("console feed: closing a client that sent a message", "staff", staff)
	h.closeWith(conn, code, "clients send nothing")
}
