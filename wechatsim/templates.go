package wechatsim

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Template is a message template as an account holds it since 2023-05-04:
// picked from WeChat's category library, with typed fields (thing1,
// character_string2, time3 …) and no first or remark line. The same shape
// serves 订阅通知 (subscribe/bizsend) templates.
type Template struct {
	ID    string  `json:"id"`
	Title string  `json:"title"` // e.g. 工单待办提醒
	Field []Field `json:"fields"`
}

// Field is one line of a template: its key, whose letters name its type
// (thing1 is a thing), and the fixed label a phone shows before the value.
type Field struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// Type is the field's type: its key without the trailing digits.
func (f Field) Type() string { return strings.TrimRight(f.Key, "0123456789") }

// Library is the part of WeChat's category library (政务民生 · 基层治理) the
// simulator offers, so the demo and the tests use templates shaped like the
// ones an official picks. The IDs are the simulator's; a real account gets
// its own IDs when it adds the templates.
func Library() []Template {
	return []Template{
		{ID: "tpl-staff-case", Title: "工单待办提醒", Field: []Field{
			{"thing1", "事项类别"}, {"character_string2", "工单编号"}, {"thing3", "事发地点"}, {"time4", "办理期限"}}},
		{ID: "tpl-progress", Title: "事项办理进度通知", Field: []Field{
			{"character_string1", "事项编号"}, {"thing2", "事项类别"}, {"phrase3", "办理状态"},
			{"thing4", "办理单位"}, {"time5", "更新时间"}}},
		{ID: "tpl-resolved", Title: "事项办结通知", Field: []Field{
			{"character_string1", "事项编号"}, {"thing2", "办理结果"}, {"phrase3", "办理状态"}, {"time4", "办结时间"}}},
		{ID: "tpl-warning", Title: "工单超期预警", Field: []Field{
			{"character_string1", "工单编号"}, {"thing2", "事项内容"}, {"time3", "办理期限"}, {"phrase4", "预警级别"}}},
	}
}

// SubscribeLibrary is the 订阅通知 templates the simulator offers.
func SubscribeLibrary() []Template {
	return []Template{
		{ID: "sub-progress", Title: "办理进度提醒", Field: []Field{
			{"character_string1", "事项编号"}, {"phrase2", "办理状态"}, {"thing3", "办理单位"}, {"time4", "更新时间"}}},
	}
}

var (
	clockRe = `([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?`
	dateRe  = `(\d{4}年\d{1,2}月(\d{1,2}日)?|\d{1,2}月\d{1,2}日|\d{4}[-/.]\d{1,2}([-/.]\d{1,2})?|\d{1,2}[-/.]\d{1,2})`
	// time: a 24-hour clock, optionally after a date; a range joins two
	// with ~.
	timeRe = regexp.MustCompile(`^(` + dateRe + ` ?)?` + clockRe + `(~(` + dateRe + ` ?)?` + clockRe + `)?$`)
	// date: a date, optionally with a clock; a range joins two with ~.
	dateOnlyRe = regexp.MustCompile(`^` + dateRe + `( ?` + clockRe + `)?(~` + dateRe + `( ?` + clockRe + `)?)?$`)
	amountRe   = regexp.MustCompile(`^[¥￥$€£]?\d{1,10}(\.\d{1,2})?元?$`)
	numberRe   = regexp.MustCompile(`^-?\d+(\.\d+)?$`)
	phoneRe    = regexp.MustCompile(`^[0-9+\-() ]{1,17}$`)
	carRe      = regexp.MustCompile(`^\p{Han}?[A-Za-z0-9]{4,7}\p{Han}?$`)
	letterRe   = regexp.MustCompile(`^[A-Za-z]{1,32}$`)
)

// checkField says why value breaks field's rule (WeChat answers 47003), or
// "" when it fits. The rules are the category library's, as WeChat's
// documentation gives them.
func checkField(f Field, value string) string {
	n := utf8.RuneCountInString(value)
	switch {
	case n == 0:
		return "is empty"
	case strings.ContainsAny(value, "\r\n"):
		return "contains a line break"
	}
	for _, r := range value {
		if unicode.IsControl(r) {
			return "contains a control character"
		}
	}
	switch t := f.Type(); t {
	case "thing", "const":
		if n > 20 {
			return fmt.Sprintf("is %d characters, at most 20", n)
		}
	case "character_string":
		if n > 32 {
			return fmt.Sprintf("is %d characters, at most 32", n)
		}
		for _, r := range value {
			if r > unicode.MaxASCII || r == ' ' {
				return "holds more than digits, letters and symbols"
			}
		}
	case "number":
		if n > 32 || !numberRe.MatchString(value) {
			return "is not a number of at most 32 digits"
		}
	case "letter":
		if !letterRe.MatchString(value) {
			return "is not at most 32 letters"
		}
	case "symbol":
		if n > 5 {
			return "is more than 5 symbols"
		}
		for _, r := range value {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return "holds more than symbols"
			}
		}
	case "time":
		if !timeRe.MatchString(value) {
			return "is not a 24-hour time (15:01, or 2019年10月1日 15:01)"
		}
	case "date":
		if !dateOnlyRe.MatchString(value) {
			return "is not a date (2019年10月1日, 2019-10-01)"
		}
	case "amount":
		if !amountRe.MatchString(value) {
			return "is not an amount (a currency sign, at most 10 digits)"
		}
	case "phone_number":
		if !phoneRe.MatchString(value) {
			return "is not a phone number of at most 17 digits and symbols"
		}
	case "car_number":
		if n > 8 || !carRe.MatchString(value) {
			return "is not a car number of at most 8 characters"
		}
	case "name":
		han := true
		for _, r := range value {
			han = han && unicode.Is(unicode.Han, r)
		}
		if han && n > 10 || !han && n > 20 {
			return "is not a name (10 Chinese characters, or 20 letters)"
		}
	case "phrase":
		if n > 5 {
			return fmt.Sprintf("is %d characters, at most 5", n)
		}
		for _, r := range value {
			if !unicode.Is(unicode.Han, r) {
				return "holds more than Chinese characters"
			}
		}
	default:
		return "has a type (" + t + ") the template library does not know"
	}
	return ""
}

// filled is a template's fields with the values a send gave them, in the
// template's order; keys the template has not got (first, remark,
// keyword1 …) are dropped, as WeChat drops them.
func filled(t Template, data map[string]string) ([]PushField, error) {
	out := make([]PushField, 0, len(t.Field))
	for _, f := range t.Field {
		v := data[f.Key]
		if why := checkField(f, v); why != "" {
			return nil, fmt.Errorf("argument invalid! data.%s.value %s", f.Key, why)
		}
		out = append(out, PushField{Key: f.Key, Label: f.Label, Value: v})
	}
	return out, nil
}

// PushField is one filled line of a template push.
type PushField struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Value string `json:"value"`
}

// renderCard is a template push as a phone shows it: the title, each field
// after its label, and 详情 when the push links to a page.
func renderCard(title string, fields []PushField, url string) string {
	lines := []string{title}
	for _, f := range fields {
		lines = append(lines, f.Label+"："+f.Value)
	}
	if url != "" {
		lines = append(lines, "详情")
	}
	return strings.Join(lines, "\n")
}

func findTemplate(ts []Template, id string) (Template, bool) {
	for _, t := range ts {
		if t.ID == id {
			return t, true
		}
	}
	return Template{}, false
}

// content is a template's content as WeChat lists it: each field's label
// and {{key.DATA}}, one a line.
func (t Template) content() string {
	var b strings.Builder
	for _, f := range t.Field {
		b.WriteString(f.Label + "：{{" + f.Key + ".DATA}}\n")
	}
	return b.String()
}

// serveListTemplates answers /cgi-bin/template/get_all_private_template: the
// account's message templates.
func (s *Sim) serveListTemplates(w http.ResponseWriter, r *http.Request) {
	if !s.checkToken(w, r) {
		return
	}
	list := []map[string]string{}
	for _, t := range s.cfg.Templates {
		list = append(list, map[string]string{"template_id": t.ID, "title": t.Title, "primary_industry": "政府与公共事业",
			"deputy_industry": "政务", "content": t.content(), "example": ""})
	}
	apiAnswer(w, map[string]any{"template_list": list})
}

// serveListSubscribeTemplates answers /wxaapi/newtmpl/gettemplate: the
// account's 订阅通知 templates (type 2: one-time).
func (s *Sim) serveListSubscribeTemplates(w http.ResponseWriter, r *http.Request) {
	if !s.checkToken(w, r) {
		return
	}
	list := []map[string]any{}
	for _, t := range s.cfg.SubscribeTemplates {
		list = append(list, map[string]any{"priTmplId": t.ID, "title": t.Title, "content": t.content(), "example": "", "type": 2})
	}
	apiAnswer(w, map[string]any{"errcode": 0, "errmsg": "ok", "data": list})
}
