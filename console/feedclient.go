package console

import (
	"encoding/json"
	"fmt"
)

// FeedEvent is one event of the live feed as a client reads it.
type FeedEvent struct {
	Seq  uint64
	Case string
	Kind string
}

// DecodeFeed decodes one message of the live feed (GET /api/ws) into the
// events it carries, in order: one for "event", several for "events", none
// for a heartbeat or "resync". It is for Go clients: the load tool and the
// end-to-end tests.
func DecodeFeed(data []byte) ([]FeedEvent, error) {
	var m wireMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("feed message: %w", err)
	}
	var out []FeedEvent
	for _, item := range append([]wireMessage{m}, m.Events...) {
		if item.Type == "event" && item.Event != nil {
			out = append(out, FeedEvent{Seq: item.Seq, Case: item.Event.Case, Kind: string(item.Event.Kind)})
		}
	}
	return out, nil
}
