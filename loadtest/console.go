package loadtest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"gridbot/console"
)

// Login signs staff in on the console at base (http://host:port) and
// returns the session cookie, as the page does: JSON body, Origin and
// X-Requested-With headers.
func Login(ctx context.Context, base, user, password string) (*http.Cookie, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/login", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	req.Header.Set("X-Requested-With", "gridbot")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("login %s: HTTP %d", user, resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "gridbot_session" {
			return c, nil
		}
	}
	return nil, fmt.Errorf("login %s: no session cookie", user)
}

// apiGet fetches a console API path as the session's staff member.
func apiGet(ctx context.Context, base string, cookie *http.Cookie, path string, timeout time.Duration) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	req.AddCookie(cookie)
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return resp, nil
}

// APIGet fetches a console API path as the session's staff member and
// decodes the JSON answer into out; it returns the HTTP status.
func APIGet(ctx context.Context, base string, cookie *http.Cookie, path string, out any) (int, error) {
	resp, err := apiGet(ctx, base, cookie, path, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("GET %s: %w", path, err)
		}
	}
	return resp.StatusCode, nil
}

// APIGetCSV reads a CSV download of the console API (the byte-order mark
// the console writes for spreadsheets removed) as records.
func APIGetCSV(ctx context.Context, base string, cookie *http.Cookie, path string) ([][]string, error) {
	resp, err := apiGet(ctx, base, cookie, path, time.Minute)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return recs, nil
}

// Receipts records when console clients received each case's events.
type Receipts struct {
	mu sync.Mutex
	// at[case][kind] lists the arrival times, one per client that got it.
	at map[string]map[string][]time.Time
	// closed counts connections the server closed, by close code.
	closed map[int]int
}

func (r *Receipts) add(number, kind string, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at == nil {
		r.at = map[string]map[string][]time.Time{}
	}
	k := r.at[number]
	if k == nil {
		k = map[string][]time.Time{}
		r.at[number] = k
	}
	k[kind] = append(k[kind], t)
}

func (r *Receipts) close(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed == nil {
		r.closed = map[int]int{}
	}
	r.closed[code]++
}

// Times returns the arrival times of case number's event kind.
func (r *Receipts) Times(number, kind string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.at[number][kind]...)
}

// Closed returns how many connections the server closed, by code.
func (r *Receipts) Closed() map[int]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int]int{}
	for k, v := range r.closed {
		out[k] = v
	}
	return out
}

// Feed is one console websocket.
type Feed struct {
	Conn *websocket.Conn
	done chan struct{}
}

// Done is closed when the feed's reader stops.
func (f *Feed) Done() <-chan struct{} { return f.done }

// DialFeed opens the console websocket at base with the session cookie.
// Unless read is false, a goroutine reads it and records every event in rec
// until the connection ends; with read false nobody reads (a stuck client).
func DialFeed(ctx context.Context, base string, cookie *http.Cookie, rec *Receipts, read bool) (*Feed, error) {
	header := http.Header{"Origin": {base}}
	header.Add("Cookie", cookie.String())
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 2048, WriteBufferSize: 512}
	if !read {
		// A client that never reads: its kernel buffers fill fast.
		d.ReadBufferSize = 256
	}
	conn, resp, err := d.DialContext(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/ws", header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, fmt.Errorf("websocket (HTTP %d): %w", status, err)
	}
	f := &Feed{Conn: conn, done: make(chan struct{})}
	if !read {
		return f, nil
	}
	go func() {
		defer close(f.done)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				if ce, ok := err.(*websocket.CloseError); ok {
					rec.close(ce.Code)
				}
				return
			}
			now := time.Now()
			evs, _ := console.DecodeFeed(data)
			for _, ev := range evs {
				rec.add(ev.Case, ev.Kind, now)
			}
		}
	}()
	return f, nil
}
