package console

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// FuzzAPIBodies posts arbitrary bodies to every endpoint that reads one, as
// a logged-in town administrator and (for login) as nobody. Every answer is
// a status the API documents, never a 500, with a JSON body whose error, if
// any, is a short message and not internal detail.
func FuzzAPIBodies(f *testing.F) {
	for _, s := range []string{
		`{"username":"admin","password":"pw-admin"}`,
		`{"text":"已安排"}`,
		`{"result":"已修复"}`,
		`{"text":"` + string([]byte{0xff, 0xfe}) + `"}`,
		`{"text":"\u0000\u001b\ud800"}`,
		`{"text":1e999}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
		`{"text":"a","text":"b","__proto__":{}}`,
		`null`, ``, `{"username":{"$ne":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture(t)
		admin := fx.login(t, "admin")
		number := fx.cases["g1"]
		for _, ep := range []struct {
			path   string
			cookie *http.Cookie
		}{
			{"/api/login", nil},
			{"/api/cases/" + number + "/reply", admin},
			{"/api/cases/" + number + "/resolve", admin},
		} {
			resp, answer := fx.request(t, http.MethodPost, ep.path, ep.cookie, body)
			switch resp.StatusCode {
			case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
				http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
			default:
				t.Fatalf("POST %s with %q: status %d %s", ep.path, body, resp.StatusCode, answer)
			}
			if !json.Valid(answer) {
				t.Fatalf("POST %s with %q: answer is not JSON: %q", ep.path, body, answer)
			}
			if resp.StatusCode != http.StatusOK {
				var e struct {
					Error string `json:"error"`
				}
				if err := json.Unmarshal(answer, &e); err != nil || e.Error == "" || utf8.RuneCountInString(e.Error) > 40 {
					t.Fatalf("POST %s with %q: error answer %q", ep.path, body, answer)
				}
			}
		}
	})
}

// FuzzWebsocketFrames sends one arbitrary frame on the live feed. The
// console's clients send nothing, so any frame closes that connection (with
// a close code, not a crash), and the hub keeps serving everyone else.
func FuzzWebsocketFrames(f *testing.F) {
	// kind picks the frame: 0 text, 1 binary, 2 ping, 3 pong, 4 close.
	f.Add(byte(0), []byte(`{"type":"subscribe"}`))
	f.Add(byte(1), []byte{0, 1, 2, 0xff})
	f.Add(byte(0), make([]byte, 5000))
	f.Add(byte(2), []byte("ping"))
	f.Add(byte(4), []byte{0x03, 0xe8})
	f.Fuzz(func(t *testing.T, kind byte, payload []byte) {
		fx := newFixture(t)
		hostile := fx.connect(t, "admin", nil)
		mt := []int{websocket.TextMessage, websocket.BinaryMessage, websocket.PingMessage, websocket.PongMessage, websocket.CloseMessage}[int(kind)%5]
		if mt == websocket.PingMessage || mt == websocket.PongMessage || mt == websocket.CloseMessage {
			if len(payload) > 125 {
				payload = payload[:125] // control frames are short by the protocol
			}
			_ = hostile.WriteControl(mt, payload, time.Now().Add(time.Second))
		} else {
			_ = hostile.WriteMessage(mt, payload)
		}
		if mt != websocket.PingMessage && mt != websocket.PongMessage {
			if code := readUntilClosed(t, hostile); code == 0 {
				t.Logf("closed without a code after a %d-byte frame", len(payload))
			}
			waitClients(t, fx.hub, 0) // the server lets go of it too
		}
		// Everyone else is still served.
		other := fx.connect(t, "admin", nil)
		fx.replyAndPublish(t, fx.cases["g1"], "lead1", "仍在服务")
		readEventMessages(t, other, 1)
	})
}
