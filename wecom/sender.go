package wecom

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/silenceper/wechat/v2/work/message"

	"gridbot/core"
)

// ChannelWeCom is how the Sender reports a delivery (core.Delivery.Channel).
const ChannelWeCom = "wecom"

// MemberPerMinute is WeCom's bound on an app's messages to one member in a
// minute; past it WeCom drops messages without a word, so the Sender
// refuses them itself.
const MemberPerMinute = 30

// CaseLink is the link of a case page for a reader coming from WeCom: the
// same page as in WeChat, authorised by WeCom (wxpages). "" without a base or
// a number.
func CaseLink(publicBase, number string) string {
	if publicBase == "" || number == "" {
		return ""
	}
	return strings.TrimRight(publicBase, "/") + "/wx/cases/" + url.PathEscape(number) + "?via=wecom"
}

// ValidUserID reports whether id can be one member's userid: 1 to 64
// letters, digits and _-@. (WeCom's rule), and not "@all", which WeCom reads
// as every member.
func ValidUserID(id string) bool {
	if id == "" || len(id) > 64 || strings.EqualFold(id, "@all") {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-@.", r)) {
			return false
		}
	}
	return true
}

// Sender pushes notices to staff through the app: core.Notifier for the
// WeCom channel.
type Sender struct {
	App *App
	// Counts keeps each member's sends where every instance counts (the
	// shared store), so together they stay within MemberPerMinute.
	Counts Counts
	// PublicBase is where the case pages are reached; empty sends text
	// without a link.
	PublicBase string
}

// textCard is message/send's textcard (the SDK has text, image and voice).
type textCard struct {
	*message.SendRequestCommon
	TextCard struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		URL         string `json:"url"`
		BtnTxt      string `json:"btntxt"`
	} `json:"textcard"`
}

// Notify sends n to the member whose userid is n.To: a text card that
// opens the case page, or text when there is no page to open. A photo goes
// as its words: a WeChat media ID means nothing to WeCom.
func (s *Sender) Notify(ctx context.Context, n core.Notice) (string, error) {
	if !ValidUserID(n.To) {
		// "|" lists several members and "@all" is everyone: never.
		return ChannelWeCom, fmt.Errorf("wecom push: recipient %q: %w", n.To, core.ErrInvalid)
	}
	if err := s.charge(ctx, n.To); err != nil {
		return ChannelWeCom, err
	}
	common := &message.SendRequestCommon{ToUser: n.To, AgentID: strconv.Itoa(s.App.AgentID())}
	var body any
	if link := CaseLink(s.PublicBase, n.Case); link != "" {
		card := textCard{SendRequestCommon: common}
		common.MsgType = "textcard"
		card.TextCard.Title = clip(n.Title, 128)
		card.TextCard.Description = cardDescription(n)
		card.TextCard.URL = link
		card.TextCard.BtnTxt = "详情"
		body = card
	} else {
		common.MsgType = "text"
		text := n.Title + "\n" + n.Text
		if n.Case != "" {
			text += "\n编号：" + n.Case
		}
		body = message.SendTextRequest{SendRequestCommon: common, Text: message.TextField{Content: clip(text, 2048)}}
	}
	var res message.SendResponse
	err := s.App.call(ctx, http.MethodPost, "/cgi-bin/message/send", nil, body, &res, func() int { return int(res.ErrCode) })
	if err != nil {
		if pe, ok := errors.AsType[*core.PushError](err); ok {
			return ChannelWeCom, pe
		}
		return ChannelWeCom, fmt.Errorf("wecom push: %w", err)
	}
	if res.ErrCode != 0 {
		return ChannelWeCom, pushError(int(res.ErrCode), s.App.scrub(res.ErrMsg))
	}
	if res.InvalidUser != "" || res.UnlicensedUser != "" {
		// WeCom takes the call but not the member: unknown to the app,
		// outside its visible range, or without a licence.
		return ChannelWeCom, pushError(81013, "member not reachable by the app")
	}
	return ChannelWeCom, nil
}

// charge takes one of userid's MemberPerMinute sends; past them it refuses
// with 45009 (a retry later can pass, and the router tries the member's
// other channel meanwhile).
func (s *Sender) charge(ctx context.Context, userid string) error {
	if s.Counts == nil {
		return nil
	}
	ok, err := spend(ctx, s.Counts, "wecom:sent:"+userid, MemberPerMinute, s.App.cfg.Now())
	if err != nil {
		return fmt.Errorf("wecom push: %w", err)
	}
	if !ok {
		return pushError(45009, "30 messages a minute to one member")
	}
	return nil
}

// cardDescription is the card's body: the notice's lines, escaped (the
// description is WeCom's little HTML), the case number highlighted, within
// WeCom's 512 bytes.
func cardDescription(n core.Notice) string {
	var b strings.Builder
	if t := n.Values[core.ValueTime]; t != "" {
		b.WriteString(`<div class="gray">` + html.EscapeString(t) + `</div>`)
	}
	tail := ""
	if n.Case != "" {
		tail = `<div class="highlight">编号：` + html.EscapeString(n.Case) + `</div>`
	}
	room := 512 - b.Len() - len(tail)
	for line := range strings.SplitSeq(strings.TrimSpace(n.Text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		div := `<div class="normal">` + html.EscapeString(line) + `</div>`
		if len(div) > room {
			// The rest is on the page the card opens.
			const open, close = `<div class="normal">`, `…</div>`
			if keep := room - len(open) - len(close); keep > 0 {
				b.WriteString(open + html.EscapeString(clipEscaped(line, keep)) + close)
			}
			break
		}
		b.WriteString(div)
		room -= len(div)
	}
	b.WriteString(tail)
	return b.String()
}

// clipEscaped cuts s so that its escaped form fits in max bytes.
func clipEscaped(s string, max int) string {
	out := []rune{}
	size := 0
	for _, r := range s {
		w := len(html.EscapeString(string(r)))
		if size+w > max {
			break
		}
		out = append(out, r)
		size += w
	}
	return string(out)
}

// clip cuts s to at most max bytes on a character boundary, marking a cut
// with "…".
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
