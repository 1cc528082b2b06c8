package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestWebsocketLimitSetting: console.websockets_per_person reaches the
// running hub: past it one person's next websocket is refused with 429.
func TestWebsocketLimitSetting(t *testing.T) {
	r := boot(t, rigOptions{environ: []string{"GRIDBOT_CONSOLE_WEBSOCKETS_PER_PERSON=2"}})
	c := r.login("town-admin")
	c.feed()
	c.feed()
	u, _ := http.NewRequest("GET", c.base, nil)
	header := http.Header{"Origin": {c.base}}
	for _, ck := range c.http.Jar.Cookies(u.URL) {
		header.Add("Cookie", ck.String())
	}
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(c.base, "http")+"/api/ws", header)
	if err == nil {
		ws.Close()
		t.Fatal("a third websocket of one person was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("third websocket: %v %v, want 429", err, resp)
	}
}
