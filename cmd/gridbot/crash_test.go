package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbot/internal/valkeytest"
)

// buildBinary builds gridbot once for the tests that run it as a process.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gridbot-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "gridbot")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, out)
	}
	return bin, nil
})

// bootProcess runs an instance as a separate process, so the test can kill
// it with SIGKILL.
func bootProcess(t *testing.T, o rigOptions) (*rig, *exec.Cmd) {
	t.Helper()
	return bootProcessLimited(t, o, 0)
}

// bootProcessLimited is bootProcess with the process's open file limit set
// to nofile (soft and hard, so Go cannot raise it); 0 leaves it.
func bootProcessLimited(t *testing.T, o rigOptions, nofile int) (*rig, *exec.Cmd) {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	r := prepare(t, o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "-config", r.cfgPath)
	if nofile > 0 {
		cmd = exec.Command("/bin/sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile), bin, "serve", "-config", r.cfgPath)
	}
	// The test binary's own GRIDBOT_TEST_ variables would be unknown keys.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GRIDBOT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GRIDBOT_WECHAT_APP_SECRET=e2esecret", "GRIDBOT_HTTP_ADDR="+addr, "GRIDBOT_ADMIN_ADDR=")
	cmd.Env = append(cmd.Env, o.environ...)
	cmd.Stderr = r.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr
	r.urls = URLs{Console: base + "/", WeChat: base + "/wechat"}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("the gridbot process did not become ready:\n%s", r.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.sim.SetCallbackURL(r.urls.WeChat)
	return r, cmd
}

// An instance killed (SIGKILL) while it pushes a case to the leader leaves
// that work unacknowledged; another instance reclaims it and the leader
// gets the case.
func TestValkeyKilledInstanceWorkIsReclaimed(t *testing.T) {
	killedInstance(t, rigOptions{valkey: valkeytest.Addr(t), prefix: valkeytest.Prefix(t)})
}

// The same on a real cluster of three masters, the town under a tag of its
// own: the stream and its consumer groups are on the tag's master.
func TestValkeyKilledInstanceWorkIsReclaimedOnThreeMasters(t *testing.T) {
	addrs := valkeytest.SharedCluster(t)
	killedInstance(t, rigOptions{valkey: strings.Join(addrs, ","), prefix: valkeytest.Prefix(t),
		environ: []string{"GRIDBOT_VALKEY_TAG=gb:crash"}})
}

func killedInstance(t *testing.T, o rigOptions) {
	a, proc := bootProcess(t, o)
	stalled := a.api.StallNext("osample-L10-a", time.Minute)
	number := a.fileByLocation("oresident-crash-1")
	select {
	case <-stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the push to the leader never started")
	}
	proc.Process.Kill() // SIGKILL: no shutdown, nothing acked
	proc.Wait()

	killed := time.Now()
	o.peer = a
	b := boot(t, o)
	b.waitPush("osample-L10-a", number)
	t.Logf("the push left by the killed instance arrived %s after the kill", time.Since(killed).Round(time.Millisecond))
	time.Sleep(time.Second)
	if n := len(b.api.Pushes("osample-L10-a")); n != 1 {
		t.Fatalf("the leader got %d pushes for one case", n)
	}
	admin := b.login("town-admin")
	var view caseView
	if admin.get("/api/cases/"+number, &view); view.Case.State != "assigned" {
		t.Fatalf("case after the crash: %+v", view.Case)
	}
}

// The Valkey server restarts while residents file cases: every case a
// resident saw confirmed exists afterwards and reached its leader once.
// During the outage the bot answers politely and changes nothing; residents
// try again, as they would.
func TestValkeyServerRestartLosesNothing(t *testing.T) {
	restart := valkeytest.RestartCommand()
	if restart == nil {
		t.Skip("the Valkey server is not this test binary's own to restart")
	}
	addr, prefix := valkeytest.Addr(t), valkeytest.Prefix(t)
	a := boot(t, rigOptions{valkey: addr, prefix: prefix})
	b := boot(t, rigOptions{valkey: addr, prefix: prefix, peer: a})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// say sends text until the bot answers with something other than its
	// busy reply: what a resident does when the bot is busy.
	busyAnswers := 0
	var mu sync.Mutex
	say := func(via *rig, openid, text string) string {
		for {
			reply, err := via.sim.SendText(ctx, openid, text)
			if err == nil && !strings.Contains(reply, "系统繁忙") && reply != "" {
				return reply
			}
			mu.Lock()
			busyAnswers++
			mu.Unlock()
			if ctx.Err() != nil {
				t.Fatalf("no answer to %q: %v", text, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Residents file cases one after another, through both instances,
	// before, during and after the restart.
	const residents = 6
	stop := make(chan struct{})
	confirmed := make([][]string, residents)
	var wg sync.WaitGroup
	for i := range residents {
		wg.Go(func() {
			via := []*rig{a, b}[i%2]
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				openid := fmt.Sprintf("oresident-restart-%d-%d", i, n)
				for _, text := range []string{"报事", "2", "路灯坏了", "10", "1", "跳过"} {
					say(via, openid, text)
				}
				reply := say(via, openid, "确认")
				m := caseNumber.FindStringSubmatch(reply)
				if m == nil {
					t.Errorf("resident %s: no case number in %q", openid, reply)
					return
				}
				confirmed[i] = append(confirmed[i], m[1])
			}
		})
	}
	// /readyz follows the server: unready while it is down, ready again
	// by itself once it is back.
	readiness := make(chan []int, 1)
	restarted := make(chan struct{})
	go func() {
		var seen []int
		for {
			select {
			case <-restarted:
				readiness <- seen
				return
			case <-time.After(20 * time.Millisecond):
			}
			if resp, err := http.Get(a.urls.Console + "readyz"); err == nil {
				resp.Body.Close()
				if len(seen) == 0 || seen[len(seen)-1] != resp.StatusCode {
					seen = append(seen, resp.StatusCode)
				}
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	if out, err := exec.Command(restart[0], restart[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("restart: %v %s", err, out)
	}
	time.Sleep(time.Second)
	close(restarted)
	if seen := <-readiness; fmt.Sprint(seen) != "[200 503 200]" {
		t.Errorf("/readyz through the restart went %v, want [200 503 200]", seen)
	}
	close(stop)
	wg.Wait()
	var all []string
	for _, c := range confirmed {
		all = append(all, c...)
	}
	if len(all) < residents {
		t.Fatalf("only %d cases confirmed", len(all))
	}

	admin := a.login("town-admin")
	for _, n := range all {
		var view caseView
		if status := admin.get("/api/cases/"+n, &view); status != 200 {
			t.Errorf("confirmed case %s is gone after the restart", n)
		}
		a.waitPush("osample-L10-a", n)
	}
	time.Sleep(500 * time.Millisecond)
	if got, want := len(a.api.Pushes("osample-L10-a")), len(all); got != want {
		t.Errorf("the leader got %d pushes for %d cases", got, want)
	}
	t.Logf("%d cases confirmed; %d busy answers during the restart", len(all), busyAnswers)
}
