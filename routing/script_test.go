package routing_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"gridbot/core"
	"gridbot/script"
)

var (
	scriptOnce sync.Once
	scriptConv *script.Converter
	scriptErr  error
)

// testScript is one converter for the package's tests (building its
// tables costs a few hundred milliseconds of CPU).
func testScript(t testing.TB) *script.Converter {
	t.Helper()
	scriptOnce.Do(func() { scriptConv, scriptErr = script.New() })
	if scriptErr != nil {
		t.Fatal(scriptErr)
	}
	return scriptConv
}

// A resident remembered as writing traditional characters (core.ScriptKey,
// which the dialogs keep) reads the notices pushed to them in traditional
// too — the title, the text and what a template shows; a joiner who writes
// simplified and the staff read simplified.
func TestNoticesInTheResidentsScript(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, sampleTown(t, false))
	if err := r.store.Set(ctx, core.ScriptKey("oresident1"), []byte(core.ScriptTraditional), core.ScriptTTL); err != nil {
		t.Fatal(err)
	}
	c, err := r.ledger.Submit(ctx, "oresident1", core.Draft{Category: "light", Text: "街燈壞咗", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ledger.Join(ctx, c.Number, "oneighbour"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the case assigned", func() bool { return len(r.notes.to("osample-L10-a")) == 1 })
	if _, _, err := r.ledger.Accept(ctx, c.Number, "gl-L10-a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ledger.Resolve(ctx, c.Number, "gl-L10-a", "已更换灯泡，请您检查"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the notices to the residents", func() bool {
		return len(r.notes.to("oresident1")) == 2 && len(r.notes.to("oneighbour")) == 2
	})
	var accepted, resolved core.Notice
	for _, n := range r.notes.to("oresident1") {
		if n.Kind == core.NoticeRating {
			resolved = n
		} else {
			accepted = n
		}
	}
	if accepted.Title != "您反映的事項已受理" || resolved.Title != "您反映的問題已辦結" ||
		!strings.Contains(resolved.Text, "辦理結果：已更換燈泡，請您檢查") {
		t.Fatalf("notices to the traditional writer: %+v / %+v", accepted, resolved)
	}
	if v := resolved.Values[core.ValueResult]; v != "已更換燈泡，請您檢查" {
		t.Fatalf("template value in traditional: %q", v)
	}
	if v := resolved.Values[core.ValueNumber]; v != c.Number {
		t.Fatalf("the case number changed: %q", v)
	}
	joined := r.notes.to("oneighbour")
	for _, n := range joined {
		if strings.ContainsAny(n.Title+n.Text, "項燈請") {
			t.Fatalf("a joiner who writes simplified got traditional: %+v", n)
		}
	}
	// Staff read the resident's words as written, in simplified notices.
	if n := r.notes.to("osample-L10-a")[0]; n.Title != "新的群众诉求，请及时处理" || !strings.Contains(n.Text, "内容：街燈壞咗") {
		t.Fatalf("staff notice: %+v", n)
	}
	// Writing simplified again (the dialogs delete the key): simplified.
	if err := r.store.Delete(ctx, core.ScriptKey("oresident1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ledger.Reply(ctx, c.Number, "gl-L10-a", "请问灯还亮吗"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reply", func() bool { return len(r.notes.to("oresident1")) == 3 })
	last := r.notes.to("oresident1")
	for _, n := range last {
		if n.Title == accepted.Title || n.Title == resolved.Title {
			continue
		}
		if n.Text != "请问灯还亮吗" {
			t.Fatalf("reply after switching back: %+v", n)
		}
	}
}
