package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/internal/valkeytest"
	"gridbot/wechatsim"
)

// A storm of WeChat retries: every message of several residents' intakes is
// posted three times at once (same MsgId and CreateTime), spread over two
// instances sharing one Valkey. Each message has exactly one effect: one
// case per resident, one push to the leader per case, and every answer to
// the three copies is the same (or empty while the first is still at work).
func TestFaultRetryStorm(t *testing.T) {
	addr, prefix := valkeytest.Addr(t), valkeytest.Prefix(t)
	a := boot(t, rigOptions{valkey: addr, prefix: prefix})
	b := boot(t, rigOptions{valkey: addr, prefix: prefix, peer: a})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const residents = 8
	script := []struct {
		m    wechatsim.OutgoingMessage
		want string
	}{
		{wechatsim.OutgoingMessage{MsgType: "text", Content: "报事"}, "道路照明"},
		{wechatsim.OutgoingMessage{MsgType: "text", Content: "2"}, "描述"},
		{wechatsim.OutgoingMessage{MsgType: "text", Content: "路灯不亮"}, "位置"},
		{wechatsim.OutgoingMessage{MsgType: "location", Lat: 22.355, Lng: 112.545, Scale: 15}, "石桥"},
		{wechatsim.OutgoingMessage{MsgType: "text", Content: "跳过"}, "确认"},
		{wechatsim.OutgoingMessage{MsgType: "text", Content: "确认"}, "编号："},
	}
	numbers := make([]string, residents)
	var wg sync.WaitGroup
	for i := range residents {
		wg.Go(func() {
			openid := fmt.Sprintf("oresident-storm-%d", i)
			for step, s := range script {
				m := s.m
				m.MsgID = int64(1_000_000*(i+1) + step)
				m.CreateTime = time.Now().Unix()
				replies := make([]string, 3)
				var storm sync.WaitGroup
				for copy := range 3 {
					storm.Go(func() {
						via := []*rig{a, b}[(i+copy)%2]
						res, err := via.sim.Post(ctx, openid, m)
						if err != nil || res.Status != 200 {
							t.Errorf("%s step %d copy %d: %v %d", openid, step, copy, err, res.Status)
							return
						}
						replies[copy] = res.Reply
					})
				}
				storm.Wait()
				var answer string
				for _, r := range replies {
					if r == "" {
						continue // a copy that arrived while the first was at work
					}
					if answer != "" && r != answer {
						t.Errorf("%s step %d: copies answered differently: %q", openid, step, replies)
					}
					answer = r
				}
				if !strings.Contains(answer, s.want) {
					t.Errorf("%s step %d: answers %q, want %q", openid, step, replies, s.want)
					return
				}
				if m := caseNumber.FindStringSubmatch(answer); m != nil {
					numbers[i] = m[1]
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	admin := a.login("town-admin")
	var list struct {
		Cases []struct {
			Number string `json:"number"`
		} `json:"cases"`
	}
	admin.get("/api/cases", &list)
	if len(list.Cases) != residents {
		t.Fatalf("%d cases after %d intakes under a retry storm, want one each", len(list.Cases), residents)
	}
	for _, n := range numbers {
		a.waitPush("osample-L10-a", n)
	}
	time.Sleep(500 * time.Millisecond) // room for a wrong second push to show
	for _, n := range numbers {
		count := 0
		for _, p := range a.api.Pushes("osample-L10-a") {
			if strings.Contains(p.Text, n) {
				count++
			}
		}
		if count != 1 {
			t.Errorf("case %s reached the leader %d times", n, count)
		}
	}
}
