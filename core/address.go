package core

import "strings"

// Channel is a way gridbot reaches people and hears from them: WeChat's
// official account, or a WeCom (企业微信) self-built app. A person is not an
// address: staff have one address per channel they use, and a notice is
// addressed to the person and carried by a channel's adapter.
type Channel string

// The channels gridbot speaks. Adding one takes an adapter package that
// implements Notifier and the wiring; the domain names it only here.
const (
	ChannelWeChat Channel = "wechat"
	ChannelWeCom  Channel = "wecom"
)

// Address is where a person is reached on one channel: an openid on WeChat,
// a userid on WeCom.
type Address struct {
	Channel Channel
	ID      string
}

// String writes a as the sender of a Message and as stores key it: a WeChat
// openid bare (an openid never holds a colon, and everything kept before
// other channels knows it so), any other channel as channel:id.
func (a Address) String() string {
	if a.Channel == ChannelWeChat || a.Channel == "" {
		return a.ID
	}
	return string(a.Channel) + ":" + a.ID
}

// ParseAddress reads what String writes. A resident ID of a case filed
// through Open311 ("hotline:…") reads as an address on a channel nothing
// pushes to.
func ParseAddress(s string) Address {
	ch, id, ok := strings.Cut(s, ":")
	if !ok {
		return Address{Channel: ChannelWeChat, ID: s}
	}
	return Address{Channel: Channel(ch), ID: id}
}
