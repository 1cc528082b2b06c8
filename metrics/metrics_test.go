package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMetricsRecordAndServe(t *testing.T) {
	var none *Metrics // parts built without metrics call a nil *Metrics
	none.Callback("text", "replied", time.Millisecond)
	none.Push("custom", "delivered", 0)

	m := New(Sources{WebsocketClients: func() int { return 3 }})
	m.Callback("text", "replied", 2*time.Millisecond)
	m.Dialog("started")
	m.Push("template", "refused", 43004)
	m.Handled("assign", time.Millisecond, errors.New("boom"))
	m.Retried()
	m.StoreUnreachable()
	rr := httptest.NewRecorder()
	m.Handler().ServeHTTP(rr, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rr.Body)
	for _, want := range []string{
		`gridbot_callbacks_total{outcome="replied",type="text"} 1`,
		`gridbot_reply_seconds_count 1`,
		`gridbot_dialogs_total{outcome="started"} 1`,
		`gridbot_pushes_total{channel="template",errcode="43004",outcome="refused"} 1`,
		`gridbot_router_handler_seconds_count{handler="assign",outcome="error"} 1`,
		`gridbot_router_retries_total 1`,
		`gridbot_store_unreachable_total 1`,
		`gridbot_websocket_clients 3`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
