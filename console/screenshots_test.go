package console

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// The operator manual's pictures (docs/manual/) are taken by the browser
// tests, of the pages they drive, when GRIDBOT_SCREENSHOTS names a folder:
//
//	GRIDBOT_SCREENSHOTS=$PWD/docs/manual/img go test -run 'TestBrowser' ./console
//
// Without it the tests take none.

// screenshot saves the tab's viewport as name.png in GRIDBOT_SCREENSHOTS.
func screenshot(t *testing.T, ctx context.Context, name string) {
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
