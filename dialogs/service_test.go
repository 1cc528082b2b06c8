package dialogs

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"gridbot/core"
)

func TestServiceSavesSessionUnderKey(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.svc.Respond(ctx, text("报事")); err != nil {
		t.Fatal(err)
	}
	if got := h.store.keys(); len(got) != 1 || got[0] != "session:"+testResident {
		t.Fatalf("keys %v", got)
	}
	if last := h.store.sets[len(h.store.sets)-1]; last.ttl != DefaultSessionTTL || last.ttl <= DefaultIdleTimeout {
		t.Errorf("ttl %v, want %v (longer than the idle timeout)", last.ttl, DefaultSessionTTL)
	}
	raw, _, _ := h.store.Get(ctx, SessionKey(testResident))
	var s Session
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.Flow != flowIntake || s.Step != stepCategory || !s.UpdatedAt.Equal(h.clock.Now()) {
		t.Errorf("saved %+v", s)
	}

	h.svc.TTL = 2 * time.Hour
	if _, err := h.svc.Respond(ctx, text("1")); err != nil {
		t.Fatal(err)
	}
	if last := h.store.sets[len(h.store.sets)-1]; last.ttl != 2*time.Hour {
		t.Errorf("ttl %v, want the configured 2h", last.ttl)
	}
	if _, err := h.svc.Respond(ctx, text("取消")); err != nil {
		t.Fatal(err)
	}
	if got := h.store.keys(); len(got) != 0 {
		t.Errorf("session not deleted at the end of the dialog: %v", got)
	}
	// Outside a dialog nothing is written.
	n := len(h.store.sets)
	if _, err := h.svc.Respond(ctx, text("你好")); err != nil {
		t.Fatal(err)
	}
	if len(h.store.sets) != n || len(h.store.keys()) != 0 {
		t.Errorf("a menu answer wrote a session")
	}
}

func TestServiceStoreFailures(t *testing.T) {
	boom := errors.New("valkey down")
	for _, op := range []string{"get", "set"} {
		t.Run(op, func(t *testing.T) {
			h := newHarness(t)
			h.store.fail[op] = boom
			reply, err := h.svc.Respond(context.Background(), text("报事"))
			if !errors.Is(err, boom) || reply != "" {
				t.Errorf("Respond = %q, %v; want an error wrapping %v", reply, err, boom)
			}
		})
	}
	t.Run("delete", func(t *testing.T) {
		// The dialog has ended with a case filed: the resident must still
		// get the case number.
		h := newHarness(t)
		ctx := context.Background()
		for _, m := range []string{"报事", "1", "垃圾没人收", "1", "1", "跳过"} {
			if _, err := h.svc.Respond(ctx, text(m)); err != nil {
				t.Fatal(err)
			}
		}
		h.store.fail["delete"] = boom
		reply, err := h.svc.Respond(ctx, text("确认"))
		if err != nil || !strings.Contains(reply, "编号：ST202611250001") {
			t.Errorf("Respond = %q, %v", reply, err)
		}
	})
}

func TestServiceUnreadableSession(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.store.Set(ctx, SessionKey(testResident), []byte("{not json"), time.Hour); err != nil {
		t.Fatal(err)
	}
	reply, err := h.svc.Respond(ctx, text("你好"))
	if err != nil || !strings.HasPrefix(reply, "您好，这里是沙塘镇网格服务。") {
		t.Errorf("Respond = %q, %v", reply, err)
	}
	if got := h.store.keys(); len(got) != 0 {
		t.Errorf("unreadable session kept: %v", got)
	}
}

func TestServiceWithoutSender(t *testing.T) {
	h := newHarness(t)
	reply, err := h.svc.Respond(context.Background(), core.Message{Kind: core.MessageText, Text: "报事"})
	if err != nil || !strings.Contains(reply, "第1步") {
		t.Errorf("Respond = %q, %v", reply, err)
	}
	if got := h.store.keys(); len(got) != 0 {
		t.Errorf("stored %v for nobody", got)
	}
}

// Residents do not share sessions.
func TestServiceSessionsPerResident(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	other := core.Message{From: "o-resident-2", Kind: core.MessageText, Text: "1"}
	if _, err := h.svc.Respond(ctx, text("报事")); err != nil {
		t.Fatal(err)
	}
	reply, err := h.svc.Respond(ctx, other)
	if err != nil || !strings.HasPrefix(reply, "您好") {
		t.Errorf("the other resident's \"1\" = %q, %v; want the menu", reply, err)
	}
	if reply, _ := h.svc.Respond(ctx, text("1")); !strings.HasPrefix(reply, "已选择：环境卫生。") {
		t.Errorf("first resident's dialog lost: %q", reply)
	}
}

// Service satisfies the adapter's Responder signature.
var _ interface {
	Respond(context.Context, core.Message) (string, error)
} = (*Service)(nil)

// The resident's script outlives the dialog and the process: a resident who
// wrote traditional characters is answered in them in their next dialog,
// by another Service on the same store (a restart, or another instance),
// and the choice is where the notices read it (core.ScriptKey) until they
// write simplified again.
func TestServiceRemembersTheResidentsScript(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.svc.Respond(ctx, text("街燈壞咗成個禮拜")); err != nil {
		t.Fatal(err)
	}
	if raw, ok, _ := h.store.Get(ctx, core.ScriptKey(testResident)); !ok || string(raw) != core.ScriptTraditional {
		t.Fatalf("script after a traditional message: %q %v", raw, ok)
	}
	if _, err := h.svc.Respond(ctx, text("取消")); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := h.store.Get(ctx, SessionKey(testResident)); ok {
		t.Fatal("the dialog did not end")
	}
	restarted := &Service{Engine: h.svc.Engine, Store: h.store}
	reply, err := restarted.Respond(ctx, text("你好"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.ContainsAny(reply, "們報處") {
		t.Fatalf("a new dialog after the restart answered in simplified: %q", reply)
	}
	if keys := restarted.ReadsFirst(text("x")); len(keys) != 2 || keys[1] != core.ScriptKey(testResident) {
		t.Fatalf("read ahead with the session: %v", keys)
	}
	if _, err := restarted.Respond(ctx, text("我要报事")); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := h.store.Get(ctx, core.ScriptKey(testResident)); ok {
		t.Fatal("still remembered as traditional after writing simplified")
	}
}

// 注销 erases the remembered script with the household file, even when the
// resident confirms in traditional characters (the reply to it stays in
// their script).
func TestForgetErasesTheResidentsScript(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, msg := range []string{"街燈壞咗成個禮拜", "取消", "註銷"} {
		if _, err := h.svc.Respond(ctx, text(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := h.store.Get(ctx, core.ScriptKey(testResident)); !ok {
		t.Fatal("the script was not remembered before 注销")
	}
	reply, err := h.svc.Respond(ctx, text("確認註銷"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply, "已註銷") {
		t.Fatalf("reply to 確認註銷: %q", reply)
	}
	if _, ok, _ := h.store.Get(ctx, core.ScriptKey(testResident)); ok {
		t.Fatal("注销 left the resident's script behind")
	}
}
