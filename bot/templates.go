package bot

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"gridbot/core"
)

// NoticeTemplate is a template picked from WeChat's category library for
// one kind of notice, and what gridbot puts in each of its fields: key
// (thing1, character_string2 …) → value name (core.ValueNumber …).
type NoticeTemplate struct {
	ID     string
	Fields map[string]string
}

// Check reports a mapping WeChat would refuse or a value that cannot fit
// its field's type.
func (t NoticeTemplate) Check() error {
	if strings.TrimSpace(t.ID) == "" {
		return errors.New("template id is empty")
	}
	if len(t.Fields) == 0 {
		return errors.New("template has no fields")
	}
	for key, value := range t.Fields {
		if err := core.CheckTemplateField(key, value); err != nil {
			return err
		}
	}
	return nil
}

// data fills the template's fields from n's values, each fitted to its
// field's type and length.
func (t NoticeTemplate) data(n core.Notice) map[string]templateValue {
	out := make(map[string]templateValue, len(t.Fields))
	for key, value := range t.Fields {
		out[key] = templateValue{Value: fitField(key, n.Values[value])}
	}
	return out
}

// templateValue is one field of a template send.
type templateValue struct {
	Value string `json:"value"`
}

// filler stands in for a value a notice has not got: WeChat refuses an
// empty field, and the page behind 详情 has the whole story.
const filler = "详见页面"

// fitField fits value to the WeChat field type named by key's letters
// (thing ≤ 20 characters, character_string ≤ 32 without Chinese, phrase
// ≤ 5 Chinese characters, time, …), so WeChat does not refuse the notice
// with 47003. Line breaks become spaces; what is too long is cut with "…".
func fitField(key, value string) string {
	value = strings.Join(strings.FieldsFunc(value, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	switch strings.TrimRight(key, "0123456789") {
	case "character_string":
		var b strings.Builder
		for _, r := range value {
			if r > ' ' && r <= '~' && b.Len() < 32 {
				b.WriteRune(r)
			}
		}
		if b.Len() == 0 {
			return "-"
		}
		return b.String()
	case "phrase":
		var b []rune
		for _, r := range value {
			if unicode.Is(unicode.Han, r) && len(b) < 5 {
				b = append(b, r)
			}
		}
		if len(b) == 0 {
			return "详见页面"
		}
		return string(b)
	case "time", "date":
		// CheckTemplateField lets only the deadline and the time into
		// these fields, which routing always writes in NoticeTimeLayout.
		return value
	default: // thing, const
		return cut(value, 20)
	}
}

// cut shortens s to n characters, the last one "…" when it cut; empty
// becomes the filler.
func cut(s string, n int) string {
	if s == "" {
		return filler
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// caseURL is the page a notice about case number links to.
func caseURL(publicBase, number string) string {
	if publicBase == "" || number == "" {
		return ""
	}
	return strings.TrimRight(publicBase, "/") + "/wx/cases/" + number
}

// templatePayload is a template or 订阅通知 send.
type templatePayload struct {
	ToUser      string                   `json:"touser"`
	TemplateID  string                   `json:"template_id"`
	URL         string                   `json:"url,omitempty"`  // template
	Page        string                   `json:"page,omitempty"` // bizsend
	ClientMsgID string                   `json:"client_msg_id,omitempty"`
	Data        map[string]templateValue `json:"data"`
}

// checkTemplates checks each kind's template.
func checkTemplates(what string, ts map[core.NoticeKind]NoticeTemplate) error {
	for kind, t := range ts {
		if err := t.Check(); err != nil {
			return fmt.Errorf("bot: %s template for %s: %w", what, kind, err)
		}
	}
	return nil
}
