package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gridbot/core"
)

// Who may publish (公开) what: town and village staff who can see the case;
// never a case of a category that is never published; the text as staff
// wrote it, on the case and in its log.
func TestPublish(t *testing.T) {
	ctx := context.Background()
	l, _, _ := residentLedger(t)
	env, err := l.Submit(ctx, "ores", core.Draft{Category: "env", Text: "报告人张三住塘口村9号，垃圾没人收", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	dispute, err := l.Submit(ctx, "ores2", core.Draft{Category: "dispute", Text: "邻居李四占了我家地", Grid: "L10"})
	if err != nil {
		t.Fatal(err)
	}
	const public = "石桥村一处垃圾收运不及时"
	tests := []struct {
		name, number, staff, text string
		want                      error
	}{
		{"a grid leader may not", env.Number, "gl-L10-a", public, core.ErrForbidden},
		{"another village cannot see it", env.Number, "v01-cadre", public, core.ErrNotFound},
		{"nobody", env.Number, "", public, core.ErrNotFound},
		{"too long", env.Number, "v10-cadre", strings.Repeat("字", core.MaxPublishedLen+1), core.ErrInvalid},
		{"the village", env.Number, "v10-cadre", public, nil},
		{"the same again", env.Number, "town-admin", public, core.ErrNoChange},
		{"a dispute never", dispute.Number, "town-admin", "邻里纠纷已调解", core.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := l.Publish(ctx, tt.number, tt.staff, tt.text)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Publish: %v, want %v", err, tt.want)
			}
		})
	}
	c, err := l.Case(ctx, env.Number)
	if err != nil || c.Published != public || !l.Town.Town().Publishable(&c) {
		t.Fatalf("published %q (%v), want %q", c.Published, err, public)
	}
	evs, err := l.CaseEvents(ctx, env.Number)
	if err != nil || evs[len(evs)-1].Kind != core.EventPublished || evs[len(evs)-1].Actor != "v10-cadre" ||
		evs[len(evs)-1].Text != public || core.EventPublished.Label() != "公开" {
		t.Fatalf("last event %+v (%v)", evs[len(evs)-1], err)
	}
	if d, _ := l.Case(ctx, dispute.Number); d.Published != "" || l.Town.Town().Publishable(&d) {
		t.Fatalf("the dispute is publishable: %+v", d)
	}
	// An empty text withdraws it.
	if c, _, err := l.Publish(ctx, env.Number, "town-admin", "  "); err != nil || c.Published != "" {
		t.Fatalf("withdraw: %q %v", c.Published, err)
	}
	steps := l.Town.Town().Steps(l.Town.Town().StaffMember("v10-cadre"), &c)
	if !containsStep(steps, core.StepPublish) {
		t.Errorf("the village is not offered 公开: %v", steps)
	}
	if steps := l.Town.Town().Steps(l.Town.Town().StaffMember("gl-L10-a"), &c); containsStep(steps, core.StepPublish) {
		t.Errorf("a grid leader is offered 公开: %v", steps)
	}
}

func containsStep(steps []core.Step, s core.Step) bool {
	for _, x := range steps {
		if x == s {
			return true
		}
	}
	return false
}
