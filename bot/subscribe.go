package bot

import (
	"context"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"gridbot/core"
)

// maxPopupGrants bounds the templates read from one subscribe pop-up: WeChat
// shows a handful at most, and the callback body is the sender's to choose.
const maxPopupGrants = 8

// popupGrants reads a subscribe_msg_popup_event's choices; nil for any
// other message.
func popupGrants(mm *message.MixMessage) []core.SubscribeChoice {
	if string(mm.Event) != core.EventNameSubscribePopup {
		return nil
	}
	var out []core.SubscribeChoice
	for _, e := range mm.GetSubscribeMsgPopupEvents() {
		if len(out) == maxPopupGrants {
			break
		}
		id := cleanText(e.TemplateID, 128)
		if id != "" {
			out = append(out, core.SubscribeChoice{TemplateID: id, Accept: e.SubscribeStatusString == "accept"})
		}
	}
	return out
}

// granted records the 订阅通知 grants of a subscribe pop-up, once per
// event (after the retry check).
func (c *Callback) granted(ctx context.Context, m core.Message) {
	if len(m.Grants) == 0 {
		return
	}
	if err := c.cfg.Window.Grant(ctx, m); err != nil {
		c.cfg.Log.Warn("wechat subscribe grants not recorded", "err", err)
	}
}
