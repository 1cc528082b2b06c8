// Package valkeystream is watermill's Publisher and Subscriber on Valkey
// Streams, written on valkey-go: the transport of the scaled-out deployment.
//
// This file fixes the wire format, which the Valkey store shares: it adds a
// case's events to the stream inside the same MULTI/EXEC that writes the
// case, so nothing acknowledged is lost between "saved" and "announced".
package valkeystream

import (
	"encoding/json"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
)

// StreamKey is the stream that carries topic. The hash tag {gb} puts every
// stream in the slot of the ledger's keys, so a case and the events that
// announce it can be written in one transaction on a cluster too.
func StreamKey(prefix, topic string) string {
	return prefix + "{gb}:stream:" + topic
}

// Field names of a stream entry.
const (
	FieldUUID     = "uuid"
	FieldMetadata = "metadata"
	FieldPayload  = "payload"
)

// EntryFields returns msg as the field/value pairs of an XADD.
func EntryFields(msg *message.Message) ([]string, error) {
	meta, err := json.Marshal(msg.Metadata)
	if err != nil {
		return nil, fmt.Errorf("encode metadata of %s: %w", msg.UUID, err)
	}
	return []string{FieldUUID, msg.UUID, FieldMetadata, string(meta), FieldPayload, string(msg.Payload)}, nil
}

// MessageFromFields rebuilds a message from an entry's fields.
func MessageFromFields(fields map[string]string) (*message.Message, error) {
	uuid, ok := fields[FieldUUID]
	if !ok {
		return nil, fmt.Errorf("stream entry without %s", FieldUUID)
	}
	msg := message.NewMessage(uuid, []byte(fields[FieldPayload]))
	if raw := fields[FieldMetadata]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &msg.Metadata); err != nil {
			return nil, fmt.Errorf("decode metadata of %s: %w", uuid, err)
		}
	}
	return msg, nil
}
