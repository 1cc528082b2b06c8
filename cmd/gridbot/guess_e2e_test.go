package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestGuessLearnsFromStaffEndToEnd runs the real service: residents report
// sand dug from a river bank, a matter no configured cue knows; the town
// corrects the two cases to 农业农村 on the console; the router's learn
// handler teaches the guess, and the next resident who writes about it —
// in traditional characters and Cantonese — is offered 农业农村, in
// traditional characters. The figures page has the month's guesses.
func TestGuessLearnsFromStaffEndToEnd(t *testing.T) {
	r := boot(t, rigOptions{})
	admin := r.login("town-admin")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	probe := "又有人喺後山挖沙，河岸崩晒"
	guessed := "屬於“農業農村”類"
	if got := r.say("oresident-learn-probe", probe); strings.Contains(got, guessed) || strings.Contains(got, "属于“农业农村”类") {
		t.Fatalf("a cold guess already named 农业农村: %q", got)
	}
	r.say("oresident-learn-probe", "取消")
	for i, text := range []string{"后山有人日日挖沙，河岸崩咗一大截", "河边挖沙好严重，河岸都崩了"} {
		openid := fmt.Sprintf("oresident-learn-%d", i)
		r.say(openid, "报事")
		r.say(openid, "环境卫生")
		r.say(openid, text)
		if _, err := r.sim.SendLocation(ctx, openid, 22.355, 112.545, ""); err != nil {
			t.Fatal(err)
		}
		r.say(openid, "跳过")
		m := caseNumber.FindStringSubmatch(r.say(openid, "确认"))
		if m == nil {
			t.Fatalf("case %d not filed", i)
		}
		var out map[string]any
		if status := admin.post("/api/cases/"+m[1]+"/reclassify", map[string]string{"category": "farm", "reason": "挖沙归农业办"}, &out); status != 200 {
			t.Fatalf("reclassify %s: %d %v", m[1], status, out)
		}
	}
	var reply string
	for {
		reply = r.say("oresident-learn-next", probe)
		if strings.Contains(reply, guessed) || ctx.Err() != nil {
			break
		}
		r.say("oresident-learn-next", "取消")
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(reply, guessed) || strings.Contains(reply, "对吗") {
		t.Fatalf("after two corrections the guess answered %q", reply)
	}
	var figures struct {
		Months []struct{ Month string } `json:"months"`
	}
	if status := admin.get("/api/figures/guess", &figures); status != 200 {
		t.Fatalf("guess figures: %d", status)
	}
}
