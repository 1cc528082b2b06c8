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
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
)

// DefaultTag is the hash tag of a deployment's ledger and streams when none
// is given: the keys of a deployment written before tags could be chosen.
const DefaultTag = "gb"

// CheckTag reports whether tag may be a hash tag (Config.Tag, the Valkey
// store's Options.Tag, valkey.tag): 1 to 64 ASCII letters, digits and
// "-_.:", e.g. "gb:chikan". Braces would end the tag early and put a town's
// keys in another slot; spaces and other bytes have no place in a key.
func CheckTag(tag string) error {
	if tag == "" || len(tag) > 64 {
		return fmt.Errorf("hash tag %q: want 1 to 64 characters", tag)
	}
	for _, r := range tag {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)
		if !ok {
			return fmt.Errorf("hash tag %q: only letters, digits and - _ . : (no braces, no spaces)", tag)
		}
	}
	return nil
}

// TaggedStreamKey is the stream that carries topic for the ledger under the
// hash tag tag ({tag}). The tag puts every stream in the slot of the
// ledger's keys, so a case and the events that announce it are written in
// one script on a cluster too; each town under a tag of its own has its
// own streams in its own slot.
func TaggedStreamKey(prefix, tag, topic string) string {
	return prefix + "{" + tag + "}:stream:" + topic
}

// StreamKey is TaggedStreamKey under DefaultTag.
func StreamKey(prefix, topic string) string {
	return TaggedStreamKey(prefix, DefaultTag, topic)
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
