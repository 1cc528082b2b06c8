package wxpages

import (
	"context"
	"testing"
)

// Phone and ID numbers typed into the description are masked on the staff
// page wherever the phone is: a department called to the case reads them
// masked, the grid leader whole.
func TestDescriptionNumbersMaskedForStaff(t *testing.T) {
	f := newFixture(t)
	const text = "报告人身份证440783199001011234，电话13912345678"
	number := f.file(t, "o-numbers", "g1", text)
	if _, _, err := f.ledger.Whistle(context.Background(), number, "lead1", "cj", "需要换灯杆"); err != nil {
		t.Fatal(err)
	}
	dept := f.phone(t, oDept)
	dept.login(t)
	if got := dept.view(t, number)["text"]; got != "报告人身份证4407**********1234，电话139****5678" {
		t.Errorf("the department reads %q", got)
	}
	lead := f.phone(t, oLead1)
	lead.login(t)
	if got := lead.view(t, number)["text"]; got != text {
		t.Errorf("the grid leader reads %q, want it whole", got)
	}
}
