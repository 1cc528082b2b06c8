package valuecodec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gridbot/core"
)

// An event in a case's log is a JSON array without the field names or the
// case number (the log says it):
//
//	[seq,"kind","actor",at,data,"text",offset]
//
// at is Unix nanoseconds (null for the zero time, an RFC 3339 string
// outside the years nanoseconds cover), offset the zone's offset in
// seconds when not UTC; data, text and offset are left off from the end
// when empty. A store writes "[" and the sequence number, then the tail
// (EventTail), packed (PackEventTail) or plain; the number comes first so that a
// store whose write takes it (a Valkey script) can put it in front of what
// Go encoded.

// EventTail encodes ev for a case's log, all but the opening "[" and the
// sequence number.
func EventTail(ev core.Event) (string, error) {
	var b bytes.Buffer
	put := func(v any) error {
		b.WriteByte(',')
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode event of %s: %w", ev.Case, err)
		}
		b.Write(raw)
		return nil
	}
	if err := put(ev.Kind); err != nil {
		return "", err
	}
	if err := put(ev.Actor); err != nil {
		return "", err
	}
	b.WriteByte(',')
	switch at := ev.At; {
	case at.IsZero():
		b.WriteString("null")
	case at.Year() > 1677 && at.Year() < 2262:
		b.WriteString(strconv.FormatInt(at.UnixNano(), 10))
	default:
		raw, err := at.MarshalJSON()
		if err != nil {
			return "", fmt.Errorf("encode event of %s: %w", ev.Case, err)
		}
		b.Write(raw)
	}
	_, offset := ev.At.Zone()
	// What follows is left off from the end when empty.
	rest := []any{nil, "", 0}
	last := -1
	if len(ev.Data) > 0 {
		rest[0], last = ev.Data, 0
	}
	if ev.Text != "" {
		rest[1], last = ev.Text, 1
	}
	if offset != 0 && !ev.At.IsZero() {
		rest[2], last = offset, 2
	}
	for _, v := range rest[:last+1] {
		if err := put(v); err != nil {
			return "", err
		}
	}
	b.WriteByte(']')
	return b.String(), nil
}

// PackEventTail is the stored form of an EventTail.
func PackEventTail(tail string) ([]byte, error) { return Event.Pack([]byte(tail)) }

// ExpandEntry returns a log entry as the JSON array it stands for: after
// "[" and the sequence number, the rest is either plain (",…") or packed
// by Event.
func ExpandEntry(raw string) ([]byte, error) {
	i := 1
	for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
		i++
	}
	if !strings.HasPrefix(raw, "[") || i == 1 || i == len(raw) {
		return nil, fmt.Errorf("log entry %.40q", raw)
	}
	if raw[i] == ',' {
		return []byte(raw), nil
	}
	tail, err := Event.Unpack([]byte(raw[i:]))
	if err != nil {
		return nil, err
	}
	return append([]byte(raw[:i]), tail...), nil
}

// DecodeEntry decodes an entry of number's log: the array above, packed or
// plain, or a JSON object of the event with its field names (as written
// before the array).
func DecodeEntry(number, raw string) (core.Event, error) {
	var ev core.Event
	if strings.HasPrefix(raw, "{") {
		err := json.Unmarshal([]byte(raw), &ev)
		return ev, err
	}
	plain, err := ExpandEntry(raw)
	if err != nil {
		return ev, err
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(plain, &parts); err != nil {
		return ev, err
	}
	if len(parts) < 4 {
		return ev, fmt.Errorf("%d fields in a log entry", len(parts))
	}
	ev.Case = number
	if err := json.Unmarshal(parts[0], &ev.Seq); err != nil {
		return ev, err
	}
	if err := json.Unmarshal(parts[1], &ev.Kind); err != nil {
		return ev, err
	}
	if err := json.Unmarshal(parts[2], &ev.Actor); err != nil {
		return ev, err
	}
	var offset int
	if len(parts) > 6 {
		if err := json.Unmarshal(parts[6], &offset); err != nil {
			return ev, err
		}
	}
	switch at := parts[3]; {
	case string(at) == "null":
	case len(at) > 0 && at[0] == '"':
		if err := json.Unmarshal(at, &ev.At); err != nil {
			return ev, err
		}
	default:
		n, err := strconv.ParseInt(string(at), 10, 64)
		if err != nil {
			return ev, err
		}
		// As a JSON round trip gives it (time.Parse): UTC, the local zone
		// where its offset is the same, or else a fixed zone.
		ev.At = time.Unix(0, n)
		switch _, local := ev.At.Zone(); {
		case offset == 0:
			ev.At = ev.At.UTC()
		case offset != local:
			ev.At = ev.At.In(time.FixedZone("", offset))
		}
	}
	if len(parts) > 4 && string(parts[4]) != "null" {
		if err := json.Unmarshal(parts[4], &ev.Data); err != nil {
			return ev, err
		}
	}
	if len(parts) > 5 {
		if err := json.Unmarshal(parts[5], &ev.Text); err != nil {
			return ev, err
		}
	}
	return ev, nil
}
