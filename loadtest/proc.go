package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a child process gridload started (a gridbot instance, the
// baseline bot or a Valkey server), with its /proc figures.
type Process struct {
	Name    string
	Addr    string // host:port it serves on
	cmd     *exec.Cmd
	log     *tailBuffer
	started time.Time
	// Ready is how long it took from exec to its first healthy answer.
	Ready time.Duration
	done  chan struct{}
	err   error
}

// StartProcess runs argv with env added to a clean environment (no
// GRIDBOT_ variables of ours leak in), and waits until GET health on addr
// answers 200 or timeout passes.
func StartProcess(ctx context.Context, name string, argv, env []string, addr, health string, timeout time.Duration) (*Process, error) {
	p := &Process{Name: name, Addr: addr, log: &tailBuffer{max: 64 << 10}, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GRIDBOT_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	if health == "" {
		return p, nil
	}
	if err := p.waitHealthy(ctx, health, timeout); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

func (p *Process) waitHealthy(ctx context.Context, health string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Addr+health, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.Ready = time.Since(p.started)
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v):\n%s", p.Name, p.err, p.log.String())
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", p.Name, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s:\n%s", p.Name, timeout, p.log.String())
		}
	}
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Log is the tail of what the process wrote.
func (p *Process) Log() string { return p.log.String() }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop asks the process to end (SIGTERM) and kills it after grace.
func (p *Process) Stop(grace time.Duration) error {
	if p.Exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		p.Kill()
		return fmt.Errorf("%s did not stop within %s", p.Name, grace)
	}
}

// Kill ends the process with SIGKILL and waits for it.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Usage is a process's CPU time and memory at one moment.
type Usage struct {
	At      time.Time
	CPU     time.Duration // user + system
	RSS     int64         // bytes
	HWM     int64         // peak RSS, bytes
	Anon    int64         // anonymous RSS (the heap, not the mapped store file), bytes
	Threads int
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// ReadUsage reads /proc/<pid>/stat and status.
func ReadUsage(pid int) (Usage, error) {
	u := Usage{At: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, fmt.Errorf("read stat: %w", err)
	}
	// Fields after the command (which may hold spaces) in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return u, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return u, errors.New("short /proc stat")
	}
	// f[0] is field 3 (state): utime is field 14, stime 15.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	u.CPU = time.Duration(ut+st) * time.Second / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, fmt.Errorf("read status: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			u.RSS = n << 10
		case "VmHWM":
			u.HWM = n << 10
		case "RssAnon":
			u.Anon = n << 10
		case "Threads":
			u.Threads = int(n)
		}
	}
	return u, nil
}

// Usage reads the process's figures now.
func (p *Process) Usage() (Usage, error) { return ReadUsage(p.Pid()) }

// FreeAddr returns a free 127.0.0.1 port as host:port.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
