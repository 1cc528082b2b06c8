package routing

import (
	"context"
	"errors"
	"fmt"

	"gridbot/core"
)

// MediaFetcher downloads a photo or voice note from WeChat's media API;
// bot.MediaFetcher implements it. An error wrapping core.ErrInvalid means
// retrying cannot help (the media is gone, or too big).
type MediaFetcher interface {
	Fetch(ctx context.Context, mediaID string) (contentType string, data []byte, err error)
}

// keepMedia fetches the photos and voice notes of a case just filed or
// added to, and keeps them (WeChat's copies expire after three days), so
// staff can view and play them on the console. What is kept already is
// skipped, which makes a redelivered event cheap and harmless. A photo
// staff send in chat (relayed to the resident, or of the fix with 办结) is
// kept too, so the console shows it and the resident can open it with the
// result.
func (h *Handlers) keepMedia(ctx context.Context, ev core.Event) error {
	staffPhoto := (ev.Kind == core.EventResolved || ev.Kind == core.EventReplied) && ev.Data[core.DataMedia] != ""
	if ev.Kind != core.EventSubmitted && ev.Kind != core.EventSupplemented && !staffPhoto {
		return nil
	}
	c, err := h.Ledger.Case(ctx, ev.Case)
	if err != nil {
		return fmt.Errorf("keep media of %s: %w", ev.Case, err)
	}
	type item struct{ id, kind string }
	var items []item
	for _, p := range c.Photos {
		items = append(items, item{p.MediaID, core.MediaImage})
	}
	for _, v := range c.Voices {
		items = append(items, item{v.MediaID, core.MediaVoice})
	}
	for _, it := range items {
		if it.id == "" {
			continue
		}
		if _, ok, err := h.Media.Get(ctx, it.id); err != nil {
			return fmt.Errorf("keep media of %s: %w", ev.Case, err)
		} else if ok {
			continue
		}
		ctype, data, err := h.Fetcher.Fetch(ctx, it.id)
		if err == nil {
			err = h.Media.Put(ctx, core.MediaFile{ID: it.id, Case: c.Number, Kind: it.kind, ContentType: ctype,
				Data: data, At: ev.At})
		}
		switch {
		case errors.Is(err, core.ErrInvalid):
			h.Log.Warn("media not kept", "case", c.Number, "kind", it.kind, "err", err)
			continue
		case err != nil:
			return fmt.Errorf("keep media of %s: %w", c.Number, err)
		}
		if err := h.Ledger.NoteMediaSaved(ctx, c.Number, it.id, it.kind); err != nil {
			return err
		}
	}
	return nil
}
