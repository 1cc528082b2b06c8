package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// TestHeavyRequestsWaitTheirTurn: with every slot taken, a figures request
// waits, and runs as soon as one is free; one whose caller left while
// waiting is let go.
func TestHeavyRequestsWaitTheirTurn(t *testing.T) {
	f := newFixture(t)
	admin := f.login(t, "admin")
	for range cap(f.srv.heavyLine) {
		f.srv.heavyLine <- struct{}{}
	}
	done := getHeld(t, f, admin, "/api/figures/rates?by=grid")
	<-f.srv.heavyLine
	answeredOnceFree(t, done)

	for len(f.srv.heavyLine) < cap(f.srv.heavyLine) {
		f.srv.heavyLine <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	staff := f.town.StaffMember("admin")
	f.srv.heavy(f.srv.handleRates)(rec, httptest.NewRequest(http.MethodGet, "/api/figures/rates", nil).WithContext(ctx), staff)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("a caller that left: %d", rec.Code)
	}
}

// TestCasesXLSXTooMany: a ledger workbook over the bound is refused with a
// clear answer, not cut short.
func TestCasesXLSXTooMany(t *testing.T) {
	f := newFixture(t)
	f.srv.excelRows = 2
	resp, body := f.request(t, http.MethodGet, "/api/cases.xlsx?state=", f.login(t, "admin"), nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || errorMessage(t, body) != msgTooManyRows {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	resp, _ = f.request(t, http.MethodGet, "/api/cases.xlsx?state=&grid=g1", f.login(t, "admin"), nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a narrower filter: %d", resp.StatusCode)
	}
}

// TestStaffLineBoundsConsoleRequests: with every staff slot taken, a
// console request waits its turn and runs when one is free; the websocket
// and the page never wait in that line.
func TestStaffLineBoundsConsoleRequests(t *testing.T) {
	f := newFixture(t)
	admin := f.login(t, "admin")
	for range cap(f.srv.staffLine) {
		f.srv.staffLine <- struct{}{}
	}
	done := getHeld(t, f, admin, "/api/cases")
	// Meanwhile the page and the websocket's path are not held.
	for _, path := range []string{"/", "/api/ws"} {
		ran := false
		f.srv.lined(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true })).
			ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
		if !ran {
			t.Errorf("%s waited in the staff line", path)
		}
	}
	<-f.srv.staffLine
	answeredOnceFree(t, done)
	for len(f.srv.staffLine) > 0 {
		<-f.srv.staffLine
	}
}

// getHeld requests path as cookie's holder in the background, while every
// slot of a line is taken, and checks it is not answered within 300 ms;
// the channel then gets its status (0: no answer at all).
func getHeld(t *testing.T, f *fixture, cookie *http.Cookie, path string) <-chan int {
	t.Helper()
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, f.ts.URL+path, nil)
		req.AddCookie(cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case code := <-done:
		t.Fatalf("%s answered %d with every slot taken", path, code)
	case <-time.After(300 * time.Millisecond):
	}
	return done
}

// answeredOnceFree checks that the request held by getHeld is answered
// 200 once a slot is free.
func answeredOnceFree(t *testing.T, done <-chan int) {
	t.Helper()
	select {
	case code := <-done:
		if code != http.StatusOK {
			t.Errorf("answered %d once a slot was free", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting with a slot free")
	}
}

// TestStaffSlotsConfigured: console.staff_slots sets how many console
// requests run at once; unset, one per CPU but one, and at least one.
func TestStaffSlotsConfigured(t *testing.T) {
	for _, tt := range []struct{ configured, want int }{
		{3, 3}, {1, 1}, {0, max(1, runtime.GOMAXPROCS(0)-1)},
	} {
		s := &Server{StaffSlots: tt.configured}
		s.Handler()
		if got := cap(s.staffLine); got != tt.want {
			t.Errorf("StaffSlots %d: %d slots, want %d", tt.configured, got, tt.want)
		}
	}
}
