package loadtest

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"
)

// The baseline answers as the SDK does, in plain and safe mode: an echo the
// simulator accepts (signature, encryption, addressing).
func TestBaselineEchoes(t *testing.T) {
	acct := WeChatAccount{AppID: "wxtest", AppSecret: "s", Token: "tok", AESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
	srv := httptest.NewServer(Baseline(BaselineConfig(acct)))
	defer srv.Close()
	ids := MsgIDs()
	for _, safe := range []bool{false, true} {
		ep := NewEndpoint("baseline", srv.URL+"/wechat", acct, safe, LoadClient(4), ids)
		tally := Idle(context.Background(), []*Endpoint{ep}, 4, 300*time.Millisecond, "t", "你好 😀", "你好 😀")
		if tally.Messages.Load() == 0 || tally.Errors.Total() != 0 {
			t.Fatalf("safe=%v: %d messages, errors %s", safe, tally.Messages.Load(), tally.Errors.String())
		}
	}
	if s := (&Latencies{}).Summary(); s.N != 0 {
		t.Fatal("an empty summary has samples")
	}
}

// ReadUsage reads this process's CPU and memory.
func TestReadUsage(t *testing.T) {
	u, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if u.RSS <= 0 || u.HWM < u.RSS || u.Threads <= 0 {
		t.Fatalf("usage %+v", u)
	}
}

// gridbotBinary builds gridbot once for the tests that run it.
func gridbotBinary(t *testing.T) string {
	t.Helper()
	bin := t.TempDir() + "/gridbot"
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/gridbot").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}
