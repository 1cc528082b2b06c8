package routing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gridbot/core"
)

// TestLinkedHouseholdTellsItsCadre: a resident's new case from a linked
// household's phone (sample town: 黄婆婆 of 石桥村, linked to its cadre) is
// marked with the household through the ledger, seen on the console's feed
// and pushed to the cadre besides the grid; the same phone in another
// village is no match, and nobody else hears of the link.
func TestLinkedHouseholdTellsItsCadre(t *testing.T) {
	ctx := context.Background()
	town := sampleTown(t, false)
	r := newRig(t, town)
	var hh *core.LinkedHousehold
	for i := range town.Linked {
		if town.Linked[i].Phone == "17000000001" {
			hh = &town.Linked[i]
		}
	}
	if hh == nil || hh.Cadre != "v10-cadre" {
		t.Fatalf("the sample town's links: %+v", town.Linked)
	}
	c, err := r.ledger.Submit(ctx, "oresident-hh", core.Draft{Category: "light", Text: "门口路灯不亮", Grid: "L10", Phone: "170-0000-0001"})
	if err != nil {
		t.Fatal(err)
	}
	cadre := town.StaffMember("v10-cadre").Address(core.ChannelWeChat)
	eventually(t, "the cadre's push", func() bool { return len(r.notes.to(cadre)) == 1 })
	n := r.notes.to(cadre)[0]
	if n.Case != c.Number || !strings.Contains(n.Title, "包联") || !strings.Contains(n.Text, "黄婆婆") {
		t.Errorf("push %+v", n)
	}
	eventually(t, "the feed to see the link", func() bool { return contains(r.feedKinds(c.Number), core.EventHouseholdLinked) })
	// Assigning and marking are two handlers of the same event, in
	// either order.
	eventually(t, "the case marked and assigned", func() bool {
		got, _ := r.store.Case(ctx, c.Number)
		return got.Household == hh.ID && got.State == core.StateAssigned
	})

	other, err := r.ledger.Submit(ctx, "oresident-hh", core.Draft{Category: "light", Text: "路灯不亮", Grid: "M01", Phone: "17000000001"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the other village's case assigned", func() bool {
		c, _ := r.store.Case(ctx, other.Number)
		return c.State == core.StateAssigned
	})
	time.Sleep(200 * time.Millisecond)
	if got, _ := r.store.Case(ctx, other.Number); got.Household != "" || len(r.notes.to(cadre)) != 1 {
		t.Errorf("another village's case linked: %+v, cadre pushed %d", got, len(r.notes.to(cadre)))
	}
}
