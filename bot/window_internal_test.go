package bot

import (
	"context"
	"testing"
	"time"

	"gridbot/core"
	"gridbot/store/embedded"
)

// Every way a user opens (or does not open) a customer-service window,
// with WeChat's rules since June 2023: a message — text, photo, voice,
// location — allows 5 sends within 48 hours; a menu tap (CLICK or VIEW), a
// follow or a QR scan allows 3 within 1 minute and opens no 48-hour
// window; an unfollow, a location report, a delivery receipt or a
// subscribe pop-up opens nothing.
func TestEveryWayAWindowOpens(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		m     core.Message
		sends int           // customer-service sends allowed
		lasts time.Duration // how long the allowance lasts
	}{
		{"text message", core.Message{Kind: core.MessageText, Text: "你好"}, windowQuota, windowSpan},
		{"photo", core.Message{Kind: core.MessageImage}, windowQuota, windowSpan},
		{"voice note", core.Message{Kind: core.MessageVoice}, windowQuota, windowSpan},
		{"location", core.Message{Kind: core.MessageLocation}, windowQuota, windowSpan},
		{"menu tap (CLICK)", core.Message{Kind: core.MessageEvent, Event: core.EventNameClick}, tapQuota, tapSpan},
		{"menu link (VIEW)", core.Message{Kind: core.MessageEvent, Event: "VIEW"}, tapQuota, tapSpan},
		{"follow", core.Message{Kind: core.MessageEvent, Event: core.EventNameSubscribe}, tapQuota, tapSpan},
		{"QR scan", core.Message{Kind: core.MessageEvent, Event: "SCAN"}, tapQuota, tapSpan},
		{"unfollow", core.Message{Kind: core.MessageEvent, Event: core.EventNameUnsubscribe}, 0, 0},
		{"location report", core.Message{Kind: core.MessageEvent, Event: "LOCATION"}, 0, 0},
		{"template receipt", core.Message{Kind: core.MessageEvent, Event: "TEMPLATESENDJOBFINISH"}, 0, 0},
		{"subscribe pop-up", core.Message{Kind: core.MessageEvent, Event: core.EventNameSubscribePopup}, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			w := &Window{Store: &embedded.MemoryKeys{Now: clock}, Now: clock}
			tt.m.From = "o1"
			if err := w.Inbound(ctx, tt.m); err != nil {
				t.Fatal(err)
			}
			sent := 0
			for {
				open, err := w.open(ctx, "o1")
				if err != nil {
					t.Fatal(err)
				}
				if !open {
					break
				}
				if err := w.spend(ctx, "o1"); err != nil {
					t.Fatal(err)
				}
				if sent++; sent > 10 {
					break
				}
			}
			if sent != tt.sends {
				t.Fatalf("%d sends allowed, want %d", sent, tt.sends)
			}
			if tt.lasts == 0 {
				return
			}
			// A fresh allowance lasts its span, and not a second more.
			w2 := &Window{Store: &embedded.MemoryKeys{Now: clock}, Now: clock}
			if err := w2.Inbound(ctx, tt.m); err != nil {
				t.Fatal(err)
			}
			now = now.Add(tt.lasts - time.Second)
			if open, _ := w2.open(ctx, "o1"); !open {
				t.Fatalf("closed before %v", tt.lasts)
			}
			now = now.Add(2 * time.Second)
			if open, _ := w2.open(ctx, "o1"); open {
				t.Fatalf("still open after %v", tt.lasts)
			}
		})
	}
}
