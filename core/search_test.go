package core_test

import (
	"testing"

	"gridbot/core"
)

// TestCaseSearch: number, words, phone whole or its last four, name and
// address; personal data only for whoever may read it, and the words as
// they read them (numbers masked).
func TestCaseSearch(t *testing.T) {
	c := core.Case{Number: "ST202611250007", Text: "桥头路灯不亮，联系13800138000", Phone: "13912345678", Contact: "李阿姨",
		Address: "东山村三巷5号", Location: &core.Location{Label: "东山村祠堂"}, Result: "已换灯泡"}
	tests := []struct {
		q        string
		personal bool
		want     bool
	}{
		{"", false, true},
		{"st20261125", false, true},
		{"0007", false, true},
		{"路灯", false, true},
		{"13912345678", true, true},
		{"139 1234 5678", true, true},
		{"5678", true, true},
		{"5679", true, false},
		{"1234", true, false}, // not the last four
		{"13912345678", false, false},
		{"5678", false, false},
		{"13800138000", true, true},   // in the words, read whole
		{"13800138000", false, false}, // in the words, read masked
		{"李阿姨", true, true},
		{"李阿姨", false, false},
		{"三巷", true, true},
		{"三巷", false, false},
		{"祠堂", true, true},
		{"祠堂", false, false},
		{"换灯泡", true, true},
		{"井盖", true, false},
	}
	for _, tt := range tests {
		if got := core.ParseSearch(tt.q).Match(&c, tt.personal); got != tt.want {
			t.Errorf("%q (personal %v): %v, want %v", tt.q, tt.personal, got, tt.want)
		}
	}
	long := core.ParseSearch(string(make([]rune, 500)))
	if n := len([]rune(long.Text())); n > core.MaxSearchLen {
		t.Errorf("a search of 500 runes kept %d", n)
	}
}
