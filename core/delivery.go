package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// What reached whom: pushes and kept media recorded on the case.

// Delivery is the outcome of one push, recorded on the case so staff can see
// what reached whom.
type Delivery struct {
	About   Event  // the event the push announced
	To      string // ActorResident or a staff ID
	Channel string // how it went: "custom" or "template" (WeChat), "wecom"
	ErrCode int    // the channel's error code when it failed
	Err     error  // nil when delivered
	// Reason says why nothing was sent when no channel was asked:
	// ReasonNoWeChat, ReasonGaveUp.
	Reason string
}

// Reasons of an undeliverable push that no channel refused (DataReason).
const (
	// ReasonNoWeChat: the person has no address on any channel that runs
	// (the name is what the ledger has always recorded).
	ReasonNoWeChat = "no_wechat"
	ReasonGaveUp   = "gave_up" // the channels kept failing through the retries
)

// RecordDelivery appends the outcome of a push to the case's log.
func (l *Ledger) RecordDelivery(ctx context.Context, d Delivery) error {
	kind := EventDelivered
	data := map[string]string{DataTo: d.To, DataAbout: d.About.ID()}
	if d.Channel != "" {
		data[DataChannel] = d.Channel
	}
	if d.Err != nil || d.Reason != "" {
		kind = EventUndeliverable
		data[DataErrCode] = strconv.Itoa(d.ErrCode)
	}
	if d.Reason != "" {
		data[DataReason] = d.Reason
	}
	_, _, err := l.Store.UpdateCase(ctx, d.About.Case, func(c *Case) ([]Event, error) {
		return []Event{{Kind: kind, Actor: ActorSystem, At: l.now(), Data: data}}, nil
	})
	if err != nil && !errors.Is(err, ErrNoChange) {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

// NoteMediaSaved records on the case that a photo or voice note was fetched
// from WeChat and kept, so the console can show it.
func (l *Ledger) NoteMediaSaved(ctx context.Context, number, mediaID, kind string) error {
	_, _, err := l.Store.UpdateCase(ctx, number, func(c *Case) ([]Event, error) {
		return []Event{{Kind: EventMediaSaved, Actor: ActorSystem, At: l.now(),
			Data: map[string]string{DataMedia: mediaID, DataKind: kind}}}, nil
	})
	if err != nil {
		return fmt.Errorf("note media saved on %s: %w", number, err)
	}
	return nil
}
