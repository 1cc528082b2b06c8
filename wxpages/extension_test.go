package wxpages

import (
	"net/http"
	"strings"
	"testing"
)

// 延期 and 挂起 on the staff page: the handler asks, the village or the town
// decides, the handler resumes; each button shows for exactly the roles and
// states core.Town.Steps allows, and a refusal reads in the policy's words.
func TestExtensionAndPauseOnThePage(t *testing.T) {
	f := newFixture(t)
	lead := f.phone(t, oLead1)
	lead.login(t)
	town := f.phone(t, oTown)
	town.login(t)
	dept := f.phone(t, oDept)
	dept.login(t)

	v := lead.view(t, f.number)
	if got := steps(v); got != "accept,reply,resolve,whistle,transfer,ask_change" {
		t.Fatalf("leader's steps on an assigned case: %s", got)
	}
	// The town sees the case but has nothing to decide yet.
	if got := steps(town.view(t, f.number)); strings.Contains(got, "decide") || strings.Contains(got, "resume") {
		t.Fatalf("town's steps with nothing pending: %s", got)
	}
	// A department not called sees nothing; bad input changes nothing.
	for _, bad := range []map[string]string{
		{"change": "extend", "days": "0", "reason": "材料未到"},
		{"change": "extend", "days": "23", "reason": "材料未到"},
		{"change": "extend", "days": "三", "reason": "材料未到"},
		{"change": "extend", "days": "3", "reason": " "},
		{"change": "forever", "reason": "材料未到"},
		{"change": "pause", "until": "2026-13-01", "reason": "等待雨停"},
		{"change": "pause", "until": "2026-12-01", "reason": "等待雨停"}, // in the past
	} {
		if code, body := lead.step(t, f.number, "ask_change", bad); code != http.StatusBadRequest || body["error"] != msgChangeBad {
			t.Fatalf("ask_change %v: %d %v", bad, code, body)
		}
	}
	if v := lead.view(t, f.number); v["pending"] != nil {
		t.Fatalf("a refused request was kept: %v", v["pending"])
	}

	code, v := lead.step(t, f.number, "ask_change", map[string]string{"change": "extend", "days": "3", "reason": "灯杆要等厂家"})
	if code != http.StatusOK {
		t.Fatalf("ask_change: %d %v", code, v)
	}
	p, _ := v["pending"].(map[string]any)
	if p == nil || p["words"] != "延期3个工作日" || p["reason"] != "灯杆要等厂家" || p["by"] != "张网格" {
		t.Fatalf("pending request: %v", v["pending"])
	}
	if strings.Contains(steps(v), "ask_change") || strings.Contains(steps(v), "decide") {
		t.Fatalf("the asker's steps with a request pending: %s", steps(v))
	}
	// The asker may not decide their own request, even by posting.
	if code, body := lead.step(t, f.number, "decide", map[string]string{"approve": "yes"}); code != http.StatusForbidden ||
		!strings.Contains(body["error"].(string), "审批") {
		t.Fatalf("leader decides: %d %v", code, body)
	}
	tv := town.view(t, f.number)
	if !strings.Contains(steps(tv), "decide") {
		t.Fatalf("town's steps with a request pending: %s", steps(tv))
	}
	before := tv["deadline"]
	if code, body := town.step(t, f.number, "decide", map[string]string{"approve": "no", "note": ""}); code != http.StatusBadRequest || body["error"] != msgDecideBad {
		t.Fatalf("refusal without a note: %d %v", code, body)
	}
	if code, body := town.step(t, f.number, "decide", map[string]string{"approve": "maybe"}); code != http.StatusBadRequest {
		t.Fatalf("decide maybe: %d %v", code, body)
	}
	code, tv = town.step(t, f.number, "decide", map[string]string{"approve": "yes", "note": "同意"})
	if code != http.StatusOK || tv["pending"] != nil || tv["deadline"] == before {
		t.Fatalf("approve: %d pending %v deadline %v → %v", code, tv["pending"], before, tv["deadline"])
	}
	// A second decision finds nothing to decide.
	if code, body := town.step(t, f.number, "decide", map[string]string{"approve": "yes"}); code != http.StatusConflict ||
		body["error"] != "没有待审批的延期或挂起申请。" {
		t.Fatalf("decide twice: %d %v", code, body)
	}

	// 挂起 until a date, approved, then resumed by hand.
	if code, body := lead.step(t, f.number, "ask_change", map[string]string{"change": "pause", "until": "2026-12-20", "reason": "等待雨季过去"}); code != http.StatusOK {
		t.Fatalf("ask pause: %d %v", code, body)
	}
	if code, tv = town.step(t, f.number, "decide", map[string]string{"approve": "yes"}); code != http.StatusOK || tv["paused"] != true || tv["resume_at"] != "12月20日 00:00" {
		t.Fatalf("approve pause: %d %v %v", code, tv["paused"], tv["resume_at"])
	}
	v = lead.view(t, f.number)
	if !strings.Contains(steps(v), "resume") || strings.Contains(steps(v), "ask_change") {
		t.Fatalf("leader's steps on a paused case: %s", steps(v))
	}
	if code, body := dept.step(t, f.number, "resume", nil); code != http.StatusNotFound {
		t.Fatalf("a department not called resumes: %d %v", code, body)
	}
	if code, v = lead.step(t, f.number, "resume", nil); code != http.StatusOK || v["paused"] != false || strings.Contains(steps(v), "resume") {
		t.Fatalf("resume: %d %v %s", code, v["paused"], steps(v))
	}
	if code, body := lead.step(t, f.number, "resume", nil); code != http.StatusConflict || body["error"] != "这件事项没有挂起。" {
		t.Fatalf("resume twice: %d %v", code, body)
	}
	// Residents never get these steps.
	res := f.phone(t, oResident)
	res.login(t)
	if code, body := res.step(t, f.number, "ask_change", map[string]string{"change": "extend", "days": "3", "reason": "x"}); code != http.StatusForbidden {
		t.Fatalf("resident asks: %d %v", code, body)
	}
}
