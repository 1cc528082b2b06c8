package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	vk "github.com/valkey-io/valkey-go"

	"gridbot/internal/valkeytest"
	"gridbot/wechatsim"
)

func TestMain(m *testing.M) { valkeytest.Main(m) }

// Two instances on one Valkey behave as one service: a dialog hops between
// them, a case filed through one shows live on the other's console, the same
// MsgId posted to both at once files one case, and they share one token.
func TestValkeyTwoInstances(t *testing.T) {
	twoInstances(t, rigOptions{valkey: valkeytest.Addr(t), prefix: valkeytest.Prefix(t), safeMode: true})
}

// The same on a real cluster of three masters, the town under a hash tag of
// its own (valkey.tag): the ledger, the streams and the consumer groups on
// the tag's master, sessions, dedupe marks, the token and records spread
// over the others. Afterwards the town's cases are under its tag and
// nowhere else.
func TestValkeyTwoInstancesOnThreeMasters(t *testing.T) {
	addrs := valkeytest.SharedCluster(t)
	const tag = "gb:e2e"
	o := rigOptions{valkey: strings.Join(addrs, ","), prefix: valkeytest.Prefix(t), safeMode: true,
		environ: []string{"GRIDBOT_VALKEY_TAG=" + tag}}
	numbers := twoInstances(t, o)
	client, err := vk.NewClient(vk.ClientOption{InitAddress: addrs, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()
	master := valkeytest.NodeOf(t, addrs, "{"+tag+"}")
	for _, n := range numbers {
		for _, key := range []string{o.prefix + "{" + tag + "}:case:" + n, o.prefix + "{gb}:case:" + n} {
			found := 0
			for addr, node := range client.Nodes() {
				if c, err := node.Do(ctx, node.B().Exists().Key(key).Build()).AsInt64(); err == nil && c == 1 {
					found++
					if addr != master {
						t.Errorf("%s is on %s, not the tag's master %s", key, addr, master)
					}
				}
			}
			if want := strings.Contains(key, tag); (found == 1) != want {
				t.Errorf("%s found on %d masters, want it under the town's tag only", key, found)
			}
		}
	}
}

// gridbot fill on a cluster, the town under a tag of its own: serve on
// the same configuration lists the history it wrote.
func TestFillValkeyOnThreeMasters(t *testing.T) {
	fillThenServe(t, rigOptions{valkey: strings.Join(valkeytest.SharedCluster(t), ","), prefix: valkeytest.Prefix(t),
		environ: []string{"GRIDBOT_VALKEY_TAG=gb:fill"}})
}

// twoInstances runs two instances with o (the second with a as its peer)
// through a dialog that hops between them and a doubly-delivered 确认, and
// returns the numbers of the two cases filed.
func twoInstances(t *testing.T, o rigOptions) []string {
	a := boot(t, o)
	o.peer = a
	b := boot(t, o)
	feedA, feedB := a.login("gl-L10-a").feed(), b.login("gl-L10-a").feed()

	// The dialog starts on A and ends on B.
	resident := "oresident-valkey-1"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	turns := []struct {
		via  *rig
		send func(*wechatsim.Sim) (string, error)
		want string
	}{
		{a, func(s *wechatsim.Sim) (string, error) { return s.SendText(ctx, resident, "报事") }, "道路照明"},
		{b, func(s *wechatsim.Sim) (string, error) { return s.SendText(ctx, resident, "2") }, "描述"},
		{a, func(s *wechatsim.Sim) (string, error) { return s.SendText(ctx, resident, "路灯不亮") }, "位置"},
		{b, func(s *wechatsim.Sim) (string, error) { return s.SendLocation(ctx, resident, 22.355, 112.545, "") }, "石桥"},
		{a, func(s *wechatsim.Sim) (string, error) { return s.SendText(ctx, resident, "跳过") }, "确认"},
		{b, func(s *wechatsim.Sim) (string, error) { return s.SendText(ctx, resident, "确认") }, "编号："},
	}
	var reply string
	for i, turn := range turns {
		var err error
		if reply, err = turn.send(turn.via.sim); err != nil || !strings.Contains(reply, turn.want) {
			t.Fatalf("turn %d: %q, %v; want %q", i, reply, err, turn.want)
		}
	}
	number := caseNumber.FindStringSubmatch(reply)[1]
	waitEvent(t, feedA, number, "assigned")
	waitEvent(t, feedB, number, "assigned")
	a.waitPush("osample-L10-a", number)

	// The same 确认 (same MsgId) reaches both instances at once.
	second := "oresident-valkey-2"
	for i, text := range []string{"报事", "1", "垃圾堆在路边", "10", "1", "跳过"} {
		via := []*rig{a, b}[i%2]
		if _, err := via.sim.SendText(ctx, second, text); err != nil {
			t.Fatal(err)
		}
	}
	msg := wechatsim.OutgoingMessage{MsgType: "text", Content: "确认", MsgID: 987654321, CreateTime: time.Now().Unix()}
	var wg sync.WaitGroup
	replies := make([]string, 2)
	for i, via := range []*rig{a, b} {
		wg.Go(func() {
			res, err := via.sim.Post(ctx, second, msg)
			if err != nil {
				t.Error(err)
			}
			replies[i] = res.Reply
		})
	}
	wg.Wait()
	admin := b.login("town-admin")
	var list struct {
		Cases []struct {
			Number string `json:"number"`
		} `json:"cases"`
	}
	admin.get("/api/cases", &list)
	if len(list.Cases) != 2 {
		t.Fatalf("after one dialog and one doubly-delivered 确认: %d cases, want 2 (replies %q)", len(list.Cases), replies)
	}
	for _, r := range replies {
		if r != "" && !strings.Contains(r, list.Cases[0].Number) {
			t.Errorf("an answer to the duplicate names another case: %q", r)
		}
	}
	a.waitPush("osample-L10-a", list.Cases[0].Number)
	time.Sleep(300 * time.Millisecond) // room for a wrong second push to show
	if got := len(a.api.Pushes("osample-L10-a")); got != 2 {
		t.Errorf("the leader got %d pushes for 2 cases", got)
	}
	if n := a.api.TokenRequests(); n != 1 {
		t.Errorf("%d access-token requests from two instances, want 1", n)
	}
	return []string{list.Cases[0].Number, list.Cases[1].Number}
}
