package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandlerWithTowns(t *testing.T) {
	city := New(Sources{})
	city.Callback("text", "replied", time.Millisecond)
	a, b := New(Sources{WebsocketClients: func() int { return 2 }}), New(Sources{})
	a.Dialog("started")
	b.Dialog("started")
	b.Dialog("started")
	b.Push("template", "refused", 43004)
	rr := httptest.NewRecorder()
	city.HandlerWithTowns(map[string]*Metrics{"shatang": a, "chishui": b}).ServeHTTP(rr, httptest.NewRequest("GET", "/metrics", nil))
	if rr.Code != 200 {
		t.Fatalf("status %d: %s", rr.Code, rr.Body)
	}
	body, _ := io.ReadAll(rr.Body)
	text := string(body)
	for _, want := range []string{
		`gridbot_callbacks_total{outcome="replied",type="text"} 1`,
		`gridbot_dialogs_total{outcome="started",town="shatang"} 1`,
		`gridbot_dialogs_total{outcome="started",town="chishui"} 2`,
		`gridbot_pushes_total{channel="template",errcode="43004",outcome="refused",town="chishui"} 1`,
		`gridbot_websocket_clients{town="shatang"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The process is one: its collectors once, without a town.
	if n := strings.Count(text, "\nprocess_resident_memory_bytes "); n != 1 {
		t.Errorf("process_resident_memory_bytes %d times", n)
	}
	if strings.Contains(text, `go_goroutines{town=`) {
		t.Error("a town's Go collector gathered again")
	}
}
