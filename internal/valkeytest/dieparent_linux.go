package valkeytest

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the node when the test binary dies
// without stopping it (a panic, a timeout), so no cluster outlives its tests
// on a shared machine.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
