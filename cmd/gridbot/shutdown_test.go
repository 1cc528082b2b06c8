package main

import (
	"syscall"
	"testing"
	"time"
)

// A stop (SIGTERM) finishes in bounded time even while a push hangs on
// WeChat: the router gives its handlers a few seconds, and what they did
// not finish stays in the outbox. The next start delivers it.
func TestStopIsBoundedWhileAPushHangs(t *testing.T) {
	dir := t.TempDir()
	a, proc := bootProcess(t, rigOptions{dataDir: dir})
	stalled := a.api.StallNext("osample-L10-a", time.Minute)
	number := a.fileByLocation("oresident-stop-1")
	select {
	case <-stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the push to the leader never started")
	}
	start := time.Now()
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()
	select {
	case err := <-exited:
		took := time.Since(start)
		t.Logf("stopped %s after SIGTERM (%v)", took.Round(time.Millisecond), err)
		if err != nil {
			t.Errorf("the process ended with %v:\n%s", err, a.log.String())
		}
		if took > maxStop {
			t.Errorf("stopping took %s, more than %s", took, maxStop)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the process did not stop within 30 s of SIGTERM")
	}
	b := boot(t, rigOptions{dataDir: dir, peer: a})
	b.waitPush("osample-L10-a", number)
}

// maxStop is the stop time promised: under the 10 s a container runtime
// gives before SIGKILL.
const maxStop = 10 * time.Second
