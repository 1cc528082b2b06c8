package wxpages

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// An internal note is on the staff page, its numbers masked, and never on
// the page of the resident who filed or of one who joined.
func TestInternalNoteNeverOnResidentsPage(t *testing.T) {
	f := newFixture(t)
	const note = "居民脾气急，电话13912345678，上门前先打电话"
	if _, _, err := f.ledger.AddNote(context.Background(), f.number, "lead1", note); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ledger.Join(context.Background(), f.number, "o-neighbour"); err != nil {
		t.Fatal(err)
	}
	for _, openid := range []string{oResident, "o-neighbour"} {
		p := f.phone(t, openid)
		p.login(t)
		if page := fmt.Sprint(p.view(t, f.number)); strings.Contains(page, "脾气急") || strings.Contains(page, "备注") {
			t.Errorf("%s reads the note: %s", openid, page)
		}
	}
	lead := f.phone(t, oLead1)
	lead.login(t)
	page := fmt.Sprint(lead.view(t, f.number)["timeline"])
	if !strings.Contains(page, "脾气急") || !strings.Contains(page, "139****5678") || strings.Contains(page, "13912345678") {
		t.Errorf("the leader's timeline: %s", page)
	}
}
