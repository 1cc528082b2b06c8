package dialogs

import "testing"

func TestReadAnswers(t *testing.T) {
	town := testTown(t)
	r := Reader{Script: testScript(t)}
	read := func(s string) string { n, _ := r.Read(town, s); return n }
	for _, tt := range []struct {
		in   string
		want yesNo
	}{
		{"好", answerYes}, {"好的", answerYes}, {"好的，谢谢", answerYes}, {"可以啊", answerYes}, {"行", answerYes},
		{"没问题", answerYes}, {"冇问题", answerYes}, {"冇問題", answerYes}, {"得", answerYes}, {"係", answerYes},
		{"确认", answerYes}, {"嗯嗯", answerYes}, {"OK", answerYes},
		{"不是", answerNo}, {"唔系", answerNo}, {"唔使", answerNo}, {"不用了", answerNo}, {"不对", answerNo},
		{"好像不对吧我再看看", answerUnclear}, {"垃圾桶满了", answerUnclear}, {"好，不对", answerUnclear},
	} {
		if got := readYesNo(read(tt.in)); got != tt.want {
			t.Errorf("readYesNo(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in       string
		score    int
		notFixed bool
		ok       bool
	}{
		{"5", 5, false, true}, {"五分", 5, false, true}, {"很满意，谢谢你们", 5, false, true}, {"非常满意！", 5, false, true},
		{"满意", 4, false, true}, {"好的", 4, false, true}, {"修好了，多谢", 4, false, true}, {"几满意，唔该晒", 4, false, true},
		{"一般", 3, false, true}, {"一般般啦", 3, false, true}, {"麻麻哋", 3, false, true},
		{"不满意", 2, false, true}, {"唔满意", 2, false, true}, {"很不满意", 1, false, true},
		{"还是堵的，根本没弄好", 0, true, true}, {"没解决", 0, true, true}, {"还没修好", 0, true, true},
		{"仲未整好", 0, true, true}, {"仲未整好呀", 0, true, true},
		{"嗯那个", 0, false, false}, {"谢谢", 0, false, false},
		{"村口那条路的路灯坏了一个多星期了晚上走路很危险希望尽快来修", 0, false, false},
	} {
		score, notFixed, ok := readRating(read(tt.in))
		if score != tt.score || notFixed != tt.notFixed || ok != tt.ok {
			t.Errorf("readRating(%q) = %d %v %v, want %d %v %v", tt.in, score, notFixed, ok, tt.score, tt.notFixed, tt.ok)
		}
	}
}

// Only an explicit choice joins a case (附议).
func TestJoinChoice(t *testing.T) {
	for _, tt := range []struct {
		in     string
		offers int
		want   int
	}{
		{"附议", 1, 0}, {"加入", 1, 0}, {"1", 1, 0}, {"附议1", 1, 0}, {"附议2", 2, 1}, {"第二个", 2, 1}, {"二", 2, 1},
		{"附议", 2, -1}, {"跳过", 1, -1}, {"好", 1, -1}, {"是", 1, -1}, {"同意", 1, -1}, {"3", 2, -1}, {"", 1, -1},
	} {
		if got := joinChoice(tt.in, tt.offers); got != tt.want {
			t.Errorf("joinChoice(%q, %d) = %d, want %d", tt.in, tt.offers, got, tt.want)
		}
	}
}
