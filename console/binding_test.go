package console

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"gridbot/core"
)

// The town sees wrong binding codes on the console; nobody else does.
func TestBindingWatch(t *testing.T) {
	f := newFixture(t)
	f.srv.Roster = &core.Roster{Town: f.town, Records: f.store, Keys: f.store, BindAttempts: 3}
	for _, code := range []string{"AAAAABBBBB", "CCCCCDDDDD"} {
		if _, err := f.srv.Roster.Bind(context.Background(), "o-stranger", code); !errors.Is(err, core.ErrInvalid) {
			t.Fatalf("a wrong code: %v", err)
		}
	}
	resp, body := f.request(t, http.MethodGet, "/api/binding", f.login(t, "sysadm"), nil)
	got := decode[core.BindWatch](t, body)
	if resp.StatusCode != http.StatusOK || got.Tries != 2 || got.Wrong != 2 || got.Budget != 3 || got.Locked {
		t.Errorf("the system administrator sees %d %+v", resp.StatusCode, got)
	}
	if resp, _ := f.request(t, http.MethodGet, "/api/binding", f.login(t, "cadre1"), nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a village cadre: %d, want 404", resp.StatusCode)
	}
}
