package bot

import (
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"gridbot/internal/flatxml"
)

// decodeMessage decodes a callback's inner XML. WeChat's messages are flat:
// <xml>, then one element per field holding text or a CDATA section. That
// shape is read by hand (flatxml), about six times faster than encoding/xml's
// reflection (the decoder was a tenth of a message's CPU); anything else —
// a nested element, an entity, a comment, a field this reader does not
// know — goes to encoding/xml, so both always agree (FuzzDecodeMessage).
//
// mm is the caller's, so that on the usual path the SDK's large message
// struct stays on the caller's stack; only encoding/xml's path allocates.
func decodeMessage(b []byte, mm *message.MixMessage) error {
	if decodeFlat(b, mm) {
		return nil
	}
	var slow message.MixMessage
	err := xml.Unmarshal(b, &slow)
	*mm = slow
	return err
}

// storeFlat stores the text of element name into mm, converted the way
// encoding/xml converts it. known is false for an element this reader does
// not handle; ok is false where encoding/xml would refuse the text.
func storeFlat(mm *message.MixMessage, name, s string) (known, ok bool) {
	ok = true
	switch name {
	case "ToUserName":
		mm.ToUserName = message.CDATA(s)
	case "FromUserName":
		mm.FromUserName = message.CDATA(s)
	case "CreateTime":
		ok = xmlInt(s, &mm.CreateTime)
	case "MsgType":
		mm.MsgType = message.MsgType(s)
	case "MsgId":
		ok = xmlInt(s, &mm.MsgID)
	case "Content":
		mm.Content = s
	case "Recognition":
		mm.Recognition = s
	case "PicUrl":
		mm.PicURL = s
	case "MediaId":
		mm.MediaID = s
	case "Format":
		mm.Format = s
	case "ThumbMediaId":
		mm.ThumbMediaID = s
	case "Location_X":
		ok = xmlFloat(s, &mm.LocationX)
	case "Location_Y":
		ok = xmlFloat(s, &mm.LocationY)
	case "Scale":
		ok = xmlFloat(s, &mm.Scale)
	case "Label":
		mm.Label = s
	case "Event":
		mm.Event = message.EventType(s)
	case "EventKey":
		mm.EventKey = s
	case "Latitude":
		mm.Latitude = s
	case "Longitude":
		mm.Longitude = s
	case "Precision":
		mm.Precision = s
	default:
		return false, false
	}
	return true, ok
}

// xmlInt and xmlFloat convert as encoding/xml does: empty is zero, space
// around the number is allowed.
func xmlInt(s string, dst *int64) bool {
	if s == "" {
		*dst = 0
		return true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	*dst = n
	return err == nil
}

func xmlFloat(s string, dst *float64) bool {
	if s == "" {
		*dst = 0
		return true
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	*dst = f
	return err == nil
}

// decodeFlat reads b into mm if b is a flat message it fully understands.
// b has been through cleanXML, so it is valid UTF-8 of XML characters.
func decodeFlat(b []byte, mm *message.MixMessage) bool {
	return flatxml.Read(b, func(name, text string) bool {
		known, ok := storeFlat(mm, name, text)
		return known && ok
	})
}
