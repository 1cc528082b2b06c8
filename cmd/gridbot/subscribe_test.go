package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"gridbot/wechatsim"
)

// 订阅通知 through the whole service: the resident taps the subscribe button
// (the simulator posts subscribe_msg_popup_event), and when WeChat says the
// window is closed the next progress notice goes by 订阅通知, the one after
// it (the grant spent) by template.
func TestProgressBySubscribeMessage(t *testing.T) {
	r := boot(t, rigOptions{})
	resident := "oresident-sub-1"
	number := r.fileByLocation(resident)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := r.sim.Subscribe(ctx, resident, []string{"sub-progress"}, true); err != nil || res.Status != 200 {
		t.Fatalf("subscribe: %v %+v", err, res)
	}
	staff := r.login("gl-L10-a")
	for i, text := range []string{"明天上午派电工来", "电工已到现场"} {
		r.api.FailNext(resident, "custom", 45015)
		if status := staff.post("/api/cases/"+number+"/reply", map[string]string{"text": text}, nil); status != 200 {
			t.Fatalf("reply: %d", status)
		}
		want := []string{"subscribe", "template"}[i]
		var p wechatsim.Push
		for replies := 0; replies <= i; {
			if ctx.Err() != nil {
				t.Fatalf("reply %d never reached the resident", i+1)
			}
			time.Sleep(20 * time.Millisecond)
			replies = 0
			for _, q := range r.api.Pushes(resident) {
				if strings.Contains(q.Text, "已回复") {
					replies, p = replies+1, q
				}
			}
		}
		if p.Channel != want {
			t.Fatalf("reply %d went by %s, want %s", i+1, p.Channel, want)
		}
		if p.URL != "https://grid.example.org/wx/cases/"+number {
			t.Fatalf("push %+v", p)
		}
	}
	if n := r.api.Grants(resident, "sub-progress"); n != 0 {
		t.Fatalf("%d grants left", n)
	}
}
