package dialogs

import (
	"context"
	"strings"

	"gridbot/core"
)

// Callback visits from chat (回访): village and town staff record what the
// resident said — “回访 编号 已联系 满意 …”, “回访 编号 已联系 不满意 情况”,
// or “回访 编号 未联系上 原因”.

// notReachedWords say the resident was not reached.
var notReachedWords = []string{"未联系上", "没联系上", "联系不上", "未接通", "无人接听", "没人接", "未联系"}

// callbackAsk shows how to record a callback.
const callbackAsk = "请写上回访结果，例如：回访 %s 已联系 满意；回访 %s 已联系 不满意 灯还是不亮；回访 %s 未联系上 电话无人接听。"

// readCallback reads a callback's result as written; ok is false when it
// says neither that the resident was not reached nor whether they are
// satisfied.
func readCallback(text string) (core.CallbackAnswer, bool) {
	a := core.CallbackAnswer{Note: text}
	for _, w := range notReachedWords {
		if strings.Contains(text, w) {
			a.Note = strings.TrimLeft(strings.Replace(text, w, "", 1), separators)
			if a.Note == "" {
				a.Note = w
			}
			return a, true
		}
	}
	a.Reached = true
	rest := strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(text, "已联系"), "联系上"), separators)
	switch {
	case strings.HasPrefix(rest, "不满意"), strings.HasPrefix(rest, "基本不满意"):
		a.Note = strings.TrimLeft(strings.TrimPrefix(rest, "不满意"), separators)
	case strings.HasPrefix(rest, "满意"), strings.HasPrefix(rest, "很满意"), strings.HasPrefix(rest, "基本满意"):
		a.Satisfied = true
		a.Note = strings.TrimLeft(rest[strings.Index(rest, "满意")+len("满意"):], separators)
	default:
		return a, false
	}
	return a, true
}

// callback records the case's callback visit.
func (d *Desk) callback(ctx context.Context, number string, s *core.Staff, text string) string {
	a, ok := readCallback(text)
	if !ok {
		return strings.ReplaceAll(callbackAsk, "%s", number)
	}
	_, evs, err := d.Ledger.RecordCallback(ctx, number, s.ID, a)
	reopened := len(evs) > 0 && evs[len(evs)-1].Kind == core.EventReopened
	done := "已记录回访：居民满意。"
	switch {
	case !a.Reached:
		done = "已记录回访：未联系上居民。"
	case !a.Satisfied && reopened:
		done = "已记录回访：居民不满意，事项已重新交网格办理。"
	case !a.Satisfied:
		done = "已记录回访：居民不满意。"
	}
	return d.outcome(ctx, number, err, done+"\n编号："+number)
}
