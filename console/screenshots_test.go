package console

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"

	"github.com/chromedp/chromedp"
)

// The operator manual's pictures (docs/manual/) are taken by the browser
// tests, of the pages they drive, when GRIDBOT_SCREENSHOTS names a folder:
//
//	GRIDBOT_SCREENSHOTS=$PWD/docs/manual/img go test -run 'TestBrowser' ./console
//
// Without it the tests take none.

// screenshot saves the tab as a desktop shows it, 1280 × 800, as name.png
// in GRIDBOT_SCREENSHOTS; the tab is put back to its size after.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("GRIDBOT_SCREENSHOTS") == "" {
		return
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, name, chromedp.CaptureScreenshot())
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		return err
	})); err != nil {
		t.Fatal(err)
	}
}

// screenshotPhone saves the tab at the phone's size it emulates.
func screenshotPhone(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shoot(t, ctx, name, chromedp.CaptureScreenshot())
}

// screenshotPage saves the whole page, beyond the viewport.
func screenshotPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shoot(t, ctx, name, chromedp.FullScreenshot(100))
}

func shoot(t *testing.T, ctx context.Context, name string, take chromedp.Action[[]byte]) {
	t.Helper()
	dir := os.Getenv("GRIDBOT_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, take)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
