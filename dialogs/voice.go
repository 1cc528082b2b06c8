package dialogs

import (
	"context"
	"strings"
)

// hear returns what voice note mediaID says, through e.Hear; "" when there
// is no Hearer, nothing could be made out or hearing failed (the resident
// is then asked to write, and the voice is kept).
func (e *Engine) hear(ctx context.Context, mediaID string) string {
	if e.Hear == nil || mediaID == "" {
		return ""
	}
	text, err := e.Hear.Hear(ctx, mediaID)
	if err != nil {
		e.log().WarnContext(ctx, "dialogs: voice note not heard", "err", err)
		return ""
	}
	return strings.TrimSpace(text)
}
