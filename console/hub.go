package console

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"gridbot/core"
)

// Hub carries ledger events to the console's websockets, each client getting
// only the events on cases its staff member may see. One goroutine (Run) owns
// the set of clients; each client has a reader and a writer goroutine and a
// bounded send buffer, and a client that cannot keep up is closed rather than
// allowed to hold up the others.
type Hub struct {
	log        *slog.Logger
	events     chan published
	register   chan *client
	unregister chan *client
	done       chan struct{} // closed when Run stops taking clients
	lost       atomic.Bool   // Publish dropped an event since Run last looked
	clients    atomic.Int64

	// Limits; the tests shorten them.
	sendBuffer int           // messages waiting for one client
	writeWait  time.Duration // to write one message
	pongWait   time.Duration // silence after which a client is dead
	pingPeriod time.Duration // must be shorter than pongWait
	readLimit  int64         // largest message a client may send
}

// published is one event as the router handed it over.
type published struct {
	event core.Event
	c     core.Case
}

// messageFilter renders an event for one client, or reports false when the
// client's staff member may not see it.
type messageFilter func(ev core.Event, c core.Case) ([]byte, bool)

type client struct {
	conn   *websocket.Conn
	staff  string
	filter messageFilter
	send   chan []byte
	// closeCode and closeReason are set by Run before it closes send; the
	// writer puts them in the close frame.
	closeCode   int
	closeReason string
	writerDone  chan struct{}
}

// Close codes the hub sends.
const (
	closeTooSlow  = websocket.CloseTryAgainLater // fell behind; reconnect and re-fetch
	closeShutdown = websocket.CloseGoingAway
)

// publishQueue is how many events may wait for Run before Publish starts
// dropping them.
const publishQueue = 1024

// NewHub returns a hub; start it with Run.
func NewHub(log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		log:        log,
		events:     make(chan published, publishQueue),
		register:   make(chan *client),
		unregister: make(chan *client),
		done:       make(chan struct{}),
		sendBuffer: 64,
		writeWait:  10 * time.Second,
		pongWait:   60 * time.Second,
		pingPeriod: 50 * time.Second,
		readLimit:  4 << 10,
	}
}

// Clients returns the number of connected clients.
func (h *Hub) Clients() int { return int(h.clients.Load()) }

// Publish hands a ledger event and the case as it stands after it to the
// clients. It never blocks: when the hub is too far behind the event is
// dropped and every client is closed, so that each reconnects and fetches the
// list again instead of silently missing it.
func (h *Hub) Publish(ev core.Event, c core.Case) {
	if ev.Case == "" {
		ev.Case = c.Number
	}
	select {
	case h.events <- published{event: ev, c: c}:
	default:
		h.lost.Store(true)
		h.log.Warn("console hub: event dropped, clients will resync", "case", ev.Case, "seq", ev.Seq)
	}
}

// Run delivers events until ctx is done, then closes every client with a
// close frame and returns once they are closed (or writeWait has passed).
// Call it once.
func (h *Hub) Run(ctx context.Context) {
	clients := make(map[*client]struct{})
	remove := func(c *client, code int, reason string) {
		if _, ok := clients[c]; !ok {
			return
		}
		delete(clients, c)
		h.clients.Add(-1)
		c.closeCode, c.closeReason = code, reason
		close(c.send)
	}
	defer func() {
		close(h.done)
		closing := make([]*client, 0, len(clients))
		for c := range clients {
			closing = append(closing, c)
			remove(c, closeShutdown, "server shutting down")
		}
		deadline := time.NewTimer(h.writeWait + time.Second)
		defer deadline.Stop()
		for _, c := range closing {
			select {
			case <-c.writerDone:
			case <-deadline.C:
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-h.register:
			clients[c] = struct{}{}
			h.clients.Add(1)
		case c := <-h.unregister:
			remove(c, websocket.CloseNormalClosure, "")
		case p := <-h.events:
			if h.lost.Swap(false) {
				for c := range clients {
					remove(c, closeTooSlow, "resync")
				}
				continue
			}
			for c := range clients {
				msg, ok := c.filter(p.event, p.c)
				if !ok {
					continue
				}
				select {
				case c.send <- msg:
				default:
					h.log.Info("console hub: dropping a slow client", "staff", c.staff)
					remove(c, closeTooSlow, "too slow")
				}
			}
		}
	}
}

// serve runs a websocket for staff until it closes. It is called on the
// upgraded connection's own request goroutine, which becomes the reader.
func (h *Hub) serve(ctx context.Context, conn *websocket.Conn, staff string, filter messageFilter) {
	c := &client{
		conn:       conn,
		staff:      staff,
		filter:     filter,
		send:       make(chan []byte, h.sendBuffer),
		writerDone: make(chan struct{}),
	}
	select {
	case h.register <- c:
	case <-h.done:
		h.closeNow(conn, closeShutdown, "server shutting down")
		return
	case <-ctx.Done():
		h.closeNow(conn, closeShutdown, "")
		return
	}
	go h.write(c)
	h.read(c)
	select {
	case h.unregister <- c:
	case <-h.done:
	}
}

func (h *Hub) closeNow(conn *websocket.Conn, code int, reason string) {
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(h.writeWait))
	_ = conn.Close()
}

// read keeps the read deadline moving with the client's pongs and returns
// when the connection fails or the client sends anything: the console's
// clients have nothing to say, so any message is treated as hostile.
func (h *Hub) read(c *client) {
	c.conn.SetReadLimit(h.readLimit)
	_ = c.conn.SetReadDeadline(time.Now().Add(h.pongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(h.pongWait))
	})
	for {
		kind, _, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		code := websocket.ClosePolicyViolation
		if kind == websocket.BinaryMessage {
			code = websocket.CloseUnsupportedData
		}
		h.log.Info("console hub: closing a client that sent a message", "staff", c.staff)
		_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, "clients send nothing"),
			time.Now().Add(h.writeWait))
		return
	}
}

// write sends the client's messages and pings, and closes the connection
// with a close frame once Run closes the send buffer.
func (h *Hub) write(c *client) {
	defer close(c.writerDone)
	defer c.conn.Close()
	ping := time.NewTicker(h.pingPeriod)
	defer ping.Stop()
	for {
		select {
		case msg, ok := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(h.writeWait))
			if !ok {
				_ = c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, c.closeReason))
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ping.C:
			_ = c.conn.SetWriteDeadline(time.Now().Add(h.writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

// wireMessage is what a client receives.
type wireMessage struct {
	Type  string    `json:"type"`
	Event eventView `json:"event"`
	Case  caseView  `json:"case"`
}

// liveFilter renders events for the websocket of staff member id, looking
// the staff member up for every event so that a role change or a disabled
// account takes effect at once.
func (s *Server) liveFilter(id string) messageFilter {
	return func(ev core.Event, c core.Case) ([]byte, bool) {
		town := s.Town.Town()
		if !town.CanSee(town.StaffMember(id), &c) {
			return nil, false
		}
		msg, err := json.Marshal(wireMessage{Type: "event", Event: newEventView(town, ev), Case: newCaseView(town, &c, s.now())})
		if err != nil {
			s.log().Error("console hub: encode event", "case", c.Number, "err", err)
			return nil, false
		}
		return msg, true
	}
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
	staff, err := s.sessionStaff(r)
	if err != nil {
		s.log().ErrorContext(r.Context(), "console websocket session", "err", err)
		writeError(w, http.StatusInternalServerError, msgServerError)
		return
	}
	if staff == nil {
		writeError(w, http.StatusUnauthorized, msgLoginFirst)
		return
	}
	upgrader := websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 4096,
		CheckOrigin:     allowed,
		Error: func(w http.ResponseWriter, r *http.Request, status int, _ error) {
			writeError(w, status, msgBadRequest)
		},
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log().DebugContext(r.Context(), "console websocket upgrade", "err", err)
		return
	}
	s.Hub.serve(r.Context(), conn, staff.ID, s.liveFilter(staff.ID))
}
