package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"gridbot/core"
)

// cityFront answers the one official account's messages for every town of
// a city (bot.Responder): it decides the sender's town and hands the message
// to that town's dialogs. A town's staff are always their town's. A resident
// goes, in order, to the town they were routed to before, the town whose
// household file they are registered in, or the town whose grids contain a
// location they send; otherwise they are asked to pick (by number or name)
// or to send a location — never left without an answer. 切换镇 (or 换镇)
// forgets the route and asks again; a location sent in one town's dialog
// that lies in another town's grids moves the resident there, and says so.
type cityFront struct {
	city *city
}

// nsCityRoutes keeps each resident's town, keyed by a digest of the openid.
const nsCityRoutes = "city-routes"

// switchCommands forget a resident's town and ask again.
var switchCommands = []string{"切换镇", "换镇", "切换镇街", "选择镇", "切换城镇"}

// Respond implements bot.Responder.
func (f *cityFront) Respond(ctx context.Context, m core.Message) (string, error) {
	c := f.city
	if len(c.towns) == 1 {
		return c.towns[0].respond(ctx, m)
	}
	if m.From == "" {
		return f.prompt(""), nil
	}
	for _, t := range c.towns {
		s, err := t.app.parts.roster.StaffFrom(ctx, m.From)
		if err != nil {
			return "", fmt.Errorf("city: staff of %s: %w", t.key, err)
		}
		if s != nil {
			return t.respond(ctx, m)
		}
	}
	// The front's own answers are in the resident's script, as the
	// towns' dialogs answer: Kaiping writes 赤坎鎮 and 換鎮.
	text, inKind := strings.TrimSpace(m.Text), func(s string) string { return s }
	if conv := c.script(); conv != nil && m.Kind == core.MessageText {
		if simple := conv.Simplified(text); simple != text {
			text, inKind = simple, conv.Traditional
		}
	}
	if m.Kind == core.MessageText && isSwitchCommand(text) {
		if err := c.store.DeleteRecord(ctx, nsCityRoutes, c.blindOpenID(m.From)); err != nil {
			return "", fmt.Errorf("city: forget route: %w", err)
		}
		return inKind(f.prompt("好的，请重新选择您所在的镇。")), nil
	}
	t, err := f.routed(ctx, m.From)
	if err != nil {
		return "", err
	}
	var at *core.Point
	if m.Kind == core.MessageLocation && m.Location != nil {
		at = &m.Location.Point
	}
	if t != nil {
		if at != nil {
			if _, inside := t.town().GridAt(*at); !inside {
				if other := f.townAt(*at); other != nil {
					return f.moveAndAnswer(ctx, other, m, "您发送的位置在"+other.name+"，已为您转到"+other.name+"办理（发送“切换镇”可更改）。")
				}
			}
		}
		return t.respond(ctx, m)
	}
	if m.Kind == core.MessageEvent && m.Event == core.EventNameUnsubscribe {
		return "", nil
	}
	for _, t := range c.towns {
		_, registered, err := t.app.parts.households.Household(ctx, m.From)
		if err != nil {
			return "", fmt.Errorf("city: household in %s: %w", t.key, err)
		}
		if registered {
			if err := f.route(ctx, m.From, t); err != nil {
				return "", err
			}
			return t.respond(ctx, m)
		}
	}
	if at != nil {
		if t := f.townAt(*at); t != nil {
			return f.moveAndAnswer(ctx, t, m, "已按您的位置为您转到"+t.name+"（发送“切换镇”可更改）。")
		}
		return f.prompt("您发送的位置不在本平台服务的镇内。"), nil
	}
	if m.Kind == core.MessageText {
		if t := f.pick(text); t != nil {
			if err := f.route(ctx, m.From, t); err != nil {
				return "", err
			}
			return inKind("已为您选择" + t.name + "。请发送“报事”反映问题，或直接描述您遇到的问题；发送“切换镇”可更换。"), nil
		}
	}
	return inKind(f.prompt("")), nil
}

// moveAndAnswer routes the sender to t and answers m there, after lead.
func (f *cityFront) moveAndAnswer(ctx context.Context, t *cityTown, m core.Message, lead string) (string, error) {
	if err := f.route(ctx, m.From, t); err != nil {
		return "", err
	}
	reply, err := t.respond(ctx, m)
	if err != nil {
		return "", err
	}
	if reply == "" {
		return lead, nil
	}
	return lead + "\n" + reply, nil
}

// routed is the town the resident was routed to, or nil.
func (f *cityFront) routed(ctx context.Context, openid string) (*cityTown, error) {
	raw, ok, err := f.city.store.Record(ctx, nsCityRoutes, f.city.blindOpenID(openid))
	if err != nil {
		return nil, fmt.Errorf("city: read route: %w", err)
	}
	if !ok {
		return nil, nil
	}
	// A town taken out of the configuration leaves its residents to
	// choose again.
	return f.city.byKey[string(raw)], nil
}

// route keeps the resident's town.
func (f *cityFront) route(ctx context.Context, openid string, t *cityTown) error {
	if err := f.city.store.PutRecord(ctx, nsCityRoutes, f.city.blindOpenID(openid), []byte(t.key)); err != nil {
		return fmt.Errorf("city: keep route: %w", err)
	}
	return nil
}

// townAt is the town whose grids contain p, or nil.
func (f *cityFront) townAt(p core.Point) *cityTown {
	for _, t := range f.city.towns {
		if _, ok := t.town().GridAt(p); ok {
			return t
		}
	}
	return nil
}

// pick is the town a resident's words choose: its number in the list, its
// key, or its name (with or without 镇 and a bracketed note); nil unless
// exactly one town matches.
func (f *cityFront) pick(text string) *cityTown {
	text = strings.TrimRight(strings.TrimSpace(text), ".。、)）")
	if text == "" {
		return nil
	}
	if n, err := strconv.Atoi(toHalfWidthDigits(text)); err == nil {
		if n >= 1 && n <= len(f.city.towns) {
			return f.city.towns[n-1]
		}
		return nil
	}
	var found *cityTown
	for _, t := range f.city.towns {
		if !townNamed(t, text) {
			continue
		}
		if found != nil {
			return nil
		}
		found = t
	}
	return found
}

// townNamed reports whether text names t.
func townNamed(t *cityTown, text string) bool {
	if strings.EqualFold(text, t.key) {
		return true
	}
	name := t.name
	if i := strings.IndexAny(name, "（("); i > 0 {
		name = name[:i]
	}
	short := strings.TrimSuffix(strings.TrimSuffix(name, "镇"), "街道")
	return text == t.name || text == name || (short != "" && (text == short || text == short+"镇"))
}

// toHalfWidthDigits reads full-width digits (１２) as ASCII.
func toHalfWidthDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, s)
}

// isSwitchCommand reports whether text asks to change town.
func isSwitchCommand(text string) bool {
	for _, c := range switchCommands {
		if text == c {
			return true
		}
	}
	return false
}

// prompt asks the resident to pick their town, after lead.
func (f *cityFront) prompt(lead string) string {
	var b strings.Builder
	if lead != "" {
		b.WriteString(lead + "\n")
	} else {
		b.WriteString("您好！" + f.city.name + "的网格服务由各镇分别办理。")
	}
	b.WriteString("请回复序号或镇名，选择您所在的镇：")
	for i, t := range f.city.towns {
		fmt.Fprintf(&b, "\n%d. %s", i+1, t.name)
	}
	b.WriteString("\n也可以直接发送您的位置（点“+”→“位置”），我们按位置为您选择。")
	return b.String()
}
