package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// WeChat's API failing: a busy system (-1), an expired token (40001), a
// hanging call (timeout), a closed window (45015) and a spent quota (45047),
// and a refusal for good (43004). Transient failures are retried with
// backoff until the push lands once; 45015/45047 fall back to the notice
// template; a refusal for good is recorded on the case where staff see it.
// No case is lost and none is pushed twice.
func TestFaultWeChatAPIFailing(t *testing.T) {
	r := boot(t, rigOptions{})
	leader := "osample-L10-a"
	admin := r.login("town-admin")
	kinds := func(number string) []string {
		var view caseView
		if status := admin.get("/api/cases/"+number, &view); status != 200 {
			t.Fatalf("case %s: %d", number, status)
		}
		var out []string
		for _, e := range view.Events {
			out = append(out, e.Kind)
		}
		return out
	}
	pushesOf := func(number string) int {
		n := 0
		for _, p := range r.api.Pushes(leader) {
			if strings.Contains(p.Text, number) {
				n++
			}
		}
		return n
	}
	waitKind := func(number, kind string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !slices.Contains(kinds(number), kind) {
			if time.Now().After(deadline) {
				t.Fatalf("case %s never showed %q: %v", number, kind, kinds(number))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// -1 twice on the template the leader's notice falls back to (the
	// leader has not written to the account: 45015 on the custom message).
	r.api.FailNext(leader, "template", -1)
	r.api.FailNext(leader, "template", -1)
	busy := r.fileByLocation("oresident-api-1")
	if p := r.waitPush(leader, busy); p.Channel != "template" {
		t.Errorf("after 45015 the notice went by %s, want the template", p.Channel)
	}
	waitKind(busy, "delivered")

	// Every access token expired: refresh and retry.
	before := r.api.TokenRequests()
	r.api.ExpireTokens()
	expired := r.fileByLocation("oresident-api-2")
	r.waitPush(leader, expired)
	if r.api.TokenRequests() <= before {
		t.Error("no new access token after 40001")
	}

	// Refused for good: recorded on the case, not retried.
	r.api.FailNext(leader, "template", 43004)
	refused := r.fileByLocation("oresident-api-3")
	waitKind(refused, "undeliverable")

	// A call that hangs past the client's timeout is retried.
	stalled := r.api.StallNext(leader, 8*time.Second)
	slow := r.fileByLocation("oresident-api-4")
	select {
	case <-stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the stalled push never started")
	}
	r.waitPush(leader, slow)

	// The leader writes to the account (their window opens), then the
	// quota is spent (45047): the template goes instead.
	r.say(leader, "帮助")
	r.api.FailNext(leader, "custom", 45047)
	spent := r.fileByLocation("oresident-api-5")
	if p := r.waitPush(leader, spent); p.Channel != "template" {
		t.Errorf("after 45047 the notice went by %s, want the template", p.Channel)
	}

	// A staff reply to a resident whose window WeChat says is closed.
	resident := "oresident-api-1"
	r.api.FailNext(resident, "custom", 45015)
	if status := admin.post("/api/cases/"+busy+"/reply", map[string]string{"text": "已安排电工"}, nil); status != 200 {
		t.Fatalf("reply: %d", status)
	}
	// The template says a reply came; the words are on the case's page.
	if p := r.waitPush(resident, "办理状态：已回复"); p.Channel != "template" || !strings.Contains(p.Text, busy) {
		t.Errorf("the reply after 45015 went by %s (%q), want the progress template", p.Channel, p.Text)
	}

	time.Sleep(500 * time.Millisecond) // room for a wrong second push to show
	for _, n := range []string{busy, expired, slow, spent} {
		if got := pushesOf(n); got != 1 {
			t.Errorf("case %s reached the leader %d times, want once", n, got)
		}
	}
	if got := pushesOf(refused); got != 0 {
		t.Errorf("the refused case %s was pushed %d times", refused, got)
	}
	t.Logf("timelines: busy %v; refused %v", kinds(busy), kinds(refused))
}
