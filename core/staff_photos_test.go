package core_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"gridbot/core"
)

// TestStaffPhotosKeptWithTheCase: a photo staff relay to the resident is
// kept among the case's photos (so the console shows it and retention
// erases it), once even when it is sent again as the photo of the fix;
// a case full of photos refuses one more with words and changes nothing.
func TestStaffPhotosKeptWithTheCase(t *testing.T) {
	ctx := context.Background()
	l, _ := deskLedger(t)
	c := filed(t, l, "r1", "桥头路灯不亮")
	photo := core.Media{MediaID: "fix-1"}
	got, evs, err := l.Relay(ctx, c.Number, "a", &photo, nil)
	if err != nil || len(got.Photos) != 1 || got.Photos[0].MediaID != "fix-1" || len(evs) != 1 || evs[0].Data[core.DataMedia] != "fix-1" {
		t.Fatalf("relay: %+v %+v %v", got.Photos, evs, err)
	}
	if _, _, err := l.Relay(ctx, c.Number, "v2", &core.Media{MediaID: "other"}, nil); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("another village relayed a photo: %v", err)
	}
	if got, _, err = l.ResolveWithPhoto(ctx, c.Number, "a", "已修好", photo); err != nil || len(got.Photos) != 1 {
		t.Fatalf("resolve with the relayed photo: %+v %v", got.Photos, err)
	}

	full := filed(t, l, "r2", "垃圾没人收")
	for i := 0; len(full.Photos) < 20; i++ {
		if full, _, err = l.Relay(ctx, full.Number, "a", &core.Media{MediaID: fmt.Sprint("p", i)}, nil); err != nil {
			t.Fatalf("relay %d: %v", i, err)
		}
	}
	_, _, err = l.Relay(ctx, full.Number, "a", &core.Media{MediaID: "one-more"}, nil)
	if reason, ok := core.RefusalReason(err); !errors.Is(err, core.ErrInvalid) || !ok || reason == "" {
		t.Fatalf("a photo past the limit: %v", err)
	}
	if after, err := l.Case(ctx, full.Number); err != nil || len(after.Photos) != 20 || after.Version != full.Version {
		t.Fatalf("the refused photo changed the case: %d photos, version %d→%d, %v", len(after.Photos), full.Version, after.Version, err)
	}
}
