package wechatsim

import (
	"strconv"

	"gridbot/internal/flatxml"
)

// The simulator plays WeChat's servers at speed in the load tool, where
// encoding/xml's reflection was a third of the generator's own CPU: it
// wrote each message and read each reply, and a longer reply (a menu
// against an echo) cost the generator more to read than the bot to write.
// So the wire format WeChat uses — flat, one element per field — is written
// and read by hand (flatxml); anything else is read by encoding/xml as
// before, and tests hold both to the same results.

// appendElement appends <name>value</name>, value as CDATA; as
// encoding/xml does, an empty value gets no section.
func appendElement(b []byte, name, value string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	if value != "" {
		b = flatxml.AppendCDATA(b, value)
	}
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// appendRaw appends <name>text</name>, text already safe (a number).
func appendRaw(b []byte, name, text string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = append(b, text...)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// marshalWire writes w exactly as xml.Marshal(w) does.
func marshalWire(w *wireMessage) []byte {
	b := make([]byte, 0, 256+len(w.FromUserName.Text))
	b = append(b, "<xml>"...)
	b = appendElement(b, "ToUserName", w.ToUserName.Text)
	b = appendElement(b, "FromUserName", w.FromUserName.Text)
	b = appendRaw(b, "CreateTime", strconv.FormatInt(w.CreateTime, 10))
	b = appendElement(b, "MsgType", w.MsgType.Text)
	for _, f := range []struct {
		name string
		v    *cdata
	}{{"Content", w.Content}, {"PicUrl", w.PicURL}, {"MediaId", w.MediaID}, {"Format", w.Format}, {"Recognition", w.Recognition}} {
		if f.v != nil {
			b = appendElement(b, f.name, f.v.Text)
		}
	}
	if w.LocationX != nil {
		b = appendRaw(b, "Location_X", strconv.FormatFloat(*w.LocationX, 'g', -1, 64))
	}
	if w.LocationY != nil {
		b = appendRaw(b, "Location_Y", strconv.FormatFloat(*w.LocationY, 'g', -1, 64))
	}
	if w.Scale != nil {
		b = appendRaw(b, "Scale", strconv.Itoa(*w.Scale))
	}
	for _, f := range []struct {
		name string
		v    *cdata
	}{{"Label", w.Label}, {"Event", w.Event}, {"EventKey", w.EventKey}} {
		if f.v != nil {
			b = appendElement(b, f.name, f.v.Text)
		}
	}
	if w.MsgID != 0 {
		b = appendRaw(b, "MsgId", strconv.FormatInt(w.MsgID, 10))
	}
	return append(b, "</xml>"...)
}

// flatField is a string field for readFields.
type flatField struct {
	name string
	to   *string
}

// readFields fills the fields from a flat body; false means body is not
// flat, or names a field twice. Elements of other names are skipped, as
// encoding/xml skips them.
func readFields(body []byte, fields ...flatField) bool {
	var seen uint64
	return flatxml.Clean(body) && flatxml.Read(body, func(name, value string) bool {
		for i, f := range fields {
			if f.name != name {
				continue
			}
			if seen&(1<<i) != 0 {
				return false
			}
			seen |= 1 << i
			*f.to = value
		}
		return true
	})
}
