// Package browsertest starts the headless Chromium that the browser tests of
// several packages drive, so that each does not repeat how: where Chromium
// is, when a missing one skips (never under CI=true), and how a tab gets
// its own cookies.
package browsertest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path is Debian's Chromium, which .ci/run installs.
const Path = "/usr/bin/chromium"

// Require skips the test when Chromium is missing, except under CI=true,
// where a browser test must run and so fails.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs %s for the browser test: %v", Path, err)
		}
		t.Skipf("no %s; install it with apt-get install -y chromium", Path)
	}
}

// options are the flags every test browser starts with.
func options() []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Path),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.Flag("disable-background-networking", true),
	)
}

// Shared is one Chromium for a whole test binary, started by the first Tab
// and stopped by Close (from TestMain). Its zero value is ready to use.
type Shared struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

// Tab opens a tab with its own cookies in the shared browser, which ends
// with the test or after timeout.
func (s *Shared) Tab(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	Require(t)
	s.once.Do(func() {
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), options()...)
		ctx, cancelBrowser := chromedp.NewContext(alloc)
		s.ctx = ctx
		s.cancel = func() {
			cancelBrowser()
			cancelAlloc()
		}
		s.err = chromedp.Do(ctx) // start the browser now
	})
	if s.err != nil {
		t.Fatalf("start chromium: %v", s.err)
	}
	ctx, cancel := chromedp.NewContext(s.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// Close stops the shared browser, if one was started.
func (s *Shared) Close() {
	if s.cancel != nil {
		s.cancel()
	}
}

// Start starts a Chromium of the test's own, stopped with the test or
// after timeout: for a package with a single browser test.
func Start(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	Require(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), options()...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}
