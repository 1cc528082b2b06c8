package core_test

import (
	"testing"

	"gridbot/core"
)

func TestWithoutPlaceNames(t *testing.T) {
	town := &core.Town{
		Villages:  []core.Village{{ID: "v10", Name: "石桥村"}, {ID: "v15", Name: "墟镇社区"}},
		Grids:     []core.Grid{{ID: "g1", Name: "石桥第1微网格", Village: "v10"}},
		Landmarks: []string{"红桥市场", "关帝庙"},
	}
	for _, tt := range []struct{ in, want string }{
		{"石桥村有户人家天天半夜打麻将很吵", " 有户人家天天半夜打麻将很吵"},
		{"石桥那边的桥塌了", " 那边的桥塌了"},
		{"石桥第1微网格路灯坏了", " 路灯坏了"},
		{"墟镇社区门口垃圾很多", " 门口垃圾很多"},
		{"红桥市场门口乱停车", " 门口乱停车"},
		{"桥上的护栏断了", "桥上的护栏断了"},
	} {
		if got := town.WithoutPlaceNames(tt.in); got != tt.want {
			t.Errorf("WithoutPlaceNames(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLexicon(t *testing.T) {
	l, err := core.NewLexicon([]core.Colloquial{{"唔", "不"}, {"唔该", "谢谢"}, {"坏咗", "坏了"}, {"咗", "了"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Mandarin("路灯坏咗，唔该你哋，唔好意思"); got != "路灯坏了，谢谢你哋，不好意思" {
		t.Errorf("Mandarin = %q", got)
	}
	var none *core.Lexicon
	if got := none.Mandarin("坏咗"); got != "坏咗" {
		t.Errorf("nil lexicon changed the text: %q", got)
	}
	for _, bad := range [][]core.Colloquial{{{"", "不"}}, {{"唔", ""}}, {{"唔", "不"}, {"唔", "没"}}} {
		if _, err := core.NewLexicon(bad); err == nil {
			t.Errorf("NewLexicon(%v) accepted", bad)
		}
	}
}
