package dialogs

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"gridbot/core"
)

func text(s string) core.Message {
	return core.Message{From: testResident, Kind: core.MessageText, Text: s}
}

func image(id string) core.Message {
	return core.Message{From: testResident, Kind: core.MessageImage, MediaID: id}
}

// say sends messages through the engine and returns the last reply.
func say(t *testing.T, e *Engine, s *Session, msgs ...core.Message) string {
	t.Helper()
	var reply string
	for _, m := range msgs {
		reply = e.Step(context.Background(), s, m)
	}
	return reply
}

func newEngine(t *testing.T) (*Engine, *fakeLedger, *clock) {
	t.Helper()
	c := newClock()
	town := testTown(t)
	l := newFakeLedger(town, c.Now)
	return &Engine{Town: town, Ledger: l, Now: c.Now, NewKey: countingKeys()}, l, c
}

// countingKeys names intakes k1, k2, … so transcripts stay the same.
func countingKeys() func() string {
	var n atomic.Int64
	return func() string { return "k" + strconv.FormatInt(n.Add(1), 10) }
}

func TestLongDescriptionIsCut(t *testing.T) {
	e, _, _ := newEngine(t)
	var s Session
	long := strings.Repeat("漏", core.MaxTextLen+50)
	reply := say(t, e, &s, text("报事"), text("1"), text(long))
	if !strings.HasPrefix(reply, fmt.Sprintf("描述超过%d字，只保留了前%d字。", core.MaxTextLen, core.MaxTextLen)) {
		t.Errorf("reply does not say the text was cut:\n%s", reply)
	}
	if n := utf8.RuneCountInString(s.Draft.Text); n != core.MaxTextLen {
		t.Errorf("draft text has %d runes, want %d", n, core.MaxTextLen)
	}
	if s.Step != stepPlace {
		t.Errorf("step = %q, want %q", s.Step, stepPlace)
	}
	// The summary repeats only the start of it, to stay inside WeChat's
	// reply size.
	reply = say(t, e, &s, text("1"), text("1"), text("跳过"))
	if !strings.Contains(reply, "描述："+strings.Repeat("漏", maxSummaryText)+"……\n") {
		t.Errorf("summary does not shorten the description:\n%s", reply)
	}
	if len(reply) > 2048 {
		t.Errorf("summary is %d bytes, over WeChat's 2048", len(reply))
	}
}

func TestPhotoLimit(t *testing.T) {
	e, _, _ := newEngine(t)
	var s Session
	say(t, e, &s, text("报事"), text("1"))
	for i := range MaxPhotos {
		want := fmt.Sprintf("已收到照片（共%d张），请继续用文字描述问题。", i+1)
		if got := say(t, e, &s, image(fmt.Sprint("m", i))); got != want {
			t.Fatalf("photo %d: reply %q, want %q", i+1, got, want)
		}
	}
	reply := say(t, e, &s, image("one-too-many"))
	if !strings.HasPrefix(reply, fmt.Sprintf("照片最多%d张，这张没有收下。", MaxPhotos)) {
		t.Errorf("extra photo reply:\n%s", reply)
	}
	if len(s.Draft.Photos) != MaxPhotos {
		t.Errorf("draft has %d photos, want %d", len(s.Draft.Photos), MaxPhotos)
	}
}

func TestIdleTimeoutIsConfigurable(t *testing.T) {
	e, _, c := newEngine(t)
	e.IdleTimeout = 10 * time.Minute
	var s Session
	say(t, e, &s, text("报事"))
	c.Advance(10 * time.Minute) // exactly the timeout: still alive
	if reply := say(t, e, &s, text("1")); !strings.HasPrefix(reply, "已选择：环境卫生。") {
		t.Fatalf("at the timeout the dialog should go on:\n%s", reply)
	}
	c.Advance(10*time.Minute + time.Second)
	reply := say(t, e, &s, text("有垃圾"))
	if !strings.HasPrefix(reply, "您上次的报事因超过10分钟未操作已自动取消") {
		t.Errorf("expiry reply:\n%s", reply)
	}
	if s.Active() {
		t.Errorf("session still active after expiry: %+v", s)
	}
}

func TestUnknownStepStartsAfresh(t *testing.T) {
	e, _, c := newEngine(t)
	s := Session{Flow: flowIntake, Step: "renamed-step", UpdatedAt: c.Now()}
	reply := say(t, e, &s, text("1"))
	if !strings.HasPrefix(reply, "抱歉，报事没能继续，请重新回复“报事”。") {
		t.Errorf("reply:\n%s", reply)
	}
	if s.Active() {
		t.Errorf("session kept: %+v", s)
	}
	s = Session{Flow: "old-flow", Step: stepCategory, UpdatedAt: c.Now()}
	say(t, e, &s, text("1"))
	if s.Active() {
		t.Errorf("session of an unknown flow kept: %+v", s)
	}
}

// A reload of the town can drop the category or grid a resident chose; the
// confirm asks for it again and comes back to the summary.
func TestConfirmAfterTownReload(t *testing.T) {
	e, l, _ := newEngine(t)
	var s Session
	say(t, e, &s, text("报事"), text("1"), text("垃圾没人收"), text("1"), text("1"), text("跳过"))
	if s.Step != stepSummary {
		t.Fatalf("step = %q, want summary", s.Step)
	}
	s.Draft.Category = "withdrawn"
	reply := say(t, e, &s, text("确认"))
	if !strings.HasPrefix(reply, "类别清单有调整，请重新选择类别。") || s.Step != stepCategory {
		t.Fatalf("step %q, reply:\n%s", s.Step, reply)
	}
	if reply := say(t, e, &s, text("2")); s.Step != stepSummary || !strings.Contains(reply, "类别：道路交通设施") {
		t.Fatalf("after choosing again: step %q, reply:\n%s", s.Step, reply)
	}
	s.Draft.Grid = "gone"
	reply = say(t, e, &s, text("确认"))
	if !strings.HasPrefix(reply, "网格有调整，请重新选择地点。") || s.Step != stepPlace {
		t.Fatalf("step %q, reply:\n%s", s.Step, reply)
	}
	reply = say(t, e, &s, core.Message{From: testResident, Kind: core.MessageLocation,
		Location: &core.Location{Point: core.Point{Lat: 22.345, Lng: 112.555}}})
	if s.Step != stepSummary || !strings.Contains(reply, "地点：西村 · 西村网格") {
		t.Fatalf("after the location: step %q, reply:\n%s", s.Step, reply)
	}
	if reply := say(t, e, &s, text("确认")); !strings.Contains(reply, "编号：ST202611250001") {
		t.Fatalf("confirm:\n%s", reply)
	}
	if len(l.drafts) != 1 || l.drafts[0].Category != "road" || l.drafts[0].Grid != "g3" {
		t.Errorf("submitted %+v", l.drafts)
	}
}

// Ledger failures are logged for staff, without the resident's text or phone,
// and never shown to the resident.
func TestLedgerFailureIsLoggedNotShown(t *testing.T) {
	e, l, _ := newEngine(t)
	var buf bytes.Buffer
	e.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	var s Session
	say(t, e, &s, text("报事"), text("1"), text("秘密描述内容"), text("1"), text("1"), text("13812345678"))
	l.failNext("submit")
	reply := say(t, e, &s, text("确认"))
	if reply != "提交未成功，请稍后回复“确认”重试。" {
		t.Errorf("reply %q", reply)
	}
	if s.Step != stepSummary {
		t.Errorf("step = %q, want summary", s.Step)
	}
	log := buf.String()
	if !strings.Contains(log, "store unavailable") {
		t.Errorf("log lacks the cause: %s", log)
	}
	for _, secret := range []string{"13812345678", "秘密描述内容"} {
		if strings.Contains(log, secret) {
			t.Errorf("log holds personal data %q: %s", secret, log)
		}
	}
}

func TestMineListsAtMostFive(t *testing.T) {
	e, l, _ := newEngine(t)
	for i := range 7 {
		if _, err := l.Submit(context.Background(), testResident, core.Draft{Category: "env", Grid: "g1", Text: fmt.Sprint("事", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var s Session
	reply := say(t, e, &s, text("我的"))
	if !strings.HasPrefix(reply, "您有7件事项还未结案：") || !strings.Contains(reply, "另有2件未列出。") {
		t.Errorf("reply:\n%s", reply)
	}
	if n := strings.Count(reply, "编号："); n != maxListed {
		t.Errorf("listed %d cases, want %d", n, maxListed)
	}
	// Newest first, as the ledger gives them.
	if !strings.Contains(reply, "1. 编号：ST202611250007") {
		t.Errorf("newest case not first:\n%s", reply)
	}
	if len(reply) > 2048 {
		t.Errorf("reply is %d bytes, over WeChat's 2048", len(reply))
	}
}

// Deadlines are shown in Beijing time whatever zone the ledger uses.
func TestMineShowsDeadlineInChinaTime(t *testing.T) {
	e, _, _ := newEngine(t)
	e.Ledger = staticLedger{cases: []core.Case{{
		Number: "ST202611250001", Category: "env", State: core.StateInProgress,
		Deadline: time.Date(2026, 11, 26, 16, 30, 0, 0, time.UTC),
	}}}
	var s Session
	reply := say(t, e, &s, text("我的"))
	want := "您有1件事项还未结案：\n1. 编号：ST202611250001\n环境卫生 · 办理中\n办理期限：2026-11-27 00:30\n回复“报事”反映新问题。"
	if reply != want {
		t.Errorf("reply:\n%s\nwant:\n%s", reply, want)
	}
}

// staticLedger answers OpenCases with fixed cases; the methods it does
// not override are not expected to be called.
type staticLedger struct {
	Ledger
	cases []core.Case
}

func (l staticLedger) CaseEvents(context.Context, string) ([]core.Event, error) { return nil, nil }

func (l staticLedger) Submit(context.Context, string, core.Draft) (core.Case, error) {
	return core.Case{}, core.ErrInvalid
}

func (l staticLedger) OpenCases(context.Context, string) ([]core.Case, error) { return l.cases, nil }

func (l staticLedger) Rate(context.Context, string, int) (core.Case, error) {
	return core.Case{}, core.ErrNotFound
}

func (l staticLedger) NotFixed(context.Context, string) (core.Case, error) {
	return core.Case{}, core.ErrNotFound
}

// A click on the report button inside a dialog does not restart it.
func TestReportInsideDialogKeepsDraft(t *testing.T) {
	e, _, _ := newEngine(t)
	var s Session
	say(t, e, &s, text("报事"), text("1"), text("垃圾没人收"))
	reply := say(t, e, &s, core.Message{From: testResident, Kind: core.MessageEvent, Event: core.EventNameClick, EventKey: ClickReport})
	if !strings.HasPrefix(reply, "您正在报事") || s.Step != stepPlace || s.Draft.Text != "垃圾没人收" {
		t.Errorf("step %q draft %+v reply:\n%s", s.Step, s.Draft, reply)
	}
}

// Events that are not the resident talking leave the session alone, even an
// expired one, so a template receipt does not answer with an expiry notice.
func TestOtherEventsLeaveSessionAlone(t *testing.T) {
	e, _, c := newEngine(t)
	var s Session
	say(t, e, &s, text("报事"))
	before := s
	c.Advance(time.Hour)
	reply := say(t, e, &s, core.Message{From: testResident, Kind: core.MessageEvent, Event: "TEMPLATESENDJOBFINISH"})
	if reply != "" || !reflect.DeepEqual(s, before) {
		t.Errorf("reply %q, session %+v, want untouched %+v", reply, s, before)
	}
}

// Every prompt ends by saying what to reply.
func TestPromptsEndWithWhatToReply(t *testing.T) {
	e, _, _ := newEngine(t)
	town := testTown(t)
	for _, flow := range []string{flowIntake, flowRegister} {
		for _, editing := range []bool{false, true} {
			for i, st := range flowSteps(flow) {
				s := Session{Flow: flow, Step: st.name, Village: "v1",
					Draft:  core.Draft{Category: "env", Text: "漏水", Grid: "g1", Village: "v1", Address: "幸福路3号"},
					Guess:  []string{"env", "road"},
					Offers: []offer{{Number: "ST202611250001", Category: "环境卫生", Place: "东村 · 第一网格", Date: "11月25日"}}}
				if editing {
					s.Return = stepSummary
				}
				p := st.prompt(e, town, &s)
				last := p[strings.LastIndex(p, "\n")+1:]
				first := i == 0 && !editing
				final := st.name == stepSummary || st.name == stepRegConfirm
				if !strings.Contains(last, "回复") || !strings.HasSuffix(last, "。") || !strings.Contains(last, "“取消”") ||
					!first && !final && !strings.Contains(last, "“返回”") {
					t.Errorf("%s step %s (editing %v): last line %q", flow, st.name, editing, last)
				}
			}
		}
	}
}
