package dialogs

import (
	"testing"
	"time"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"13812345678", "13812345678", true},
		{" 138 1234 5678 ", "13812345678", true},
		{"138-1234-5678", "13812345678", true},
		{"+86 138 1234 5678", "13812345678", true},
		{"+8613812345678", "13812345678", true},
		{"8613812345678", "13812345678", true},
		{"0086-139-0000-1111", "13900001111", true},
		{"１３８１２３４５６７８", "13812345678", true},
		{"(+86)19912345678", "19912345678", true},
		{"13812345678。", "13812345678", true},
		{"", "", false},
		{"1381234567", "", false},   // 10 digits
		{"138123456789", "", false}, // 12 digits
		{"12812345678", "", false},  // 12x is not a mobile prefix
		{"10012345678", "", false},
		{"23812345678", "", false},
		{"0757-2312345", "", false}, // a landline
		{"138 1234 567a", "", false},
		{"1+3812345678", "", false}, // + only in front
		{"8813812345678", "", false},
		{"跳过", "", false},
	}
	for _, tt := range tests {
		got, ok := parsePhone(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parsePhone(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestChooseCategory(t *testing.T) {
	names := []string{"环境卫生", "道路交通设施", "公共设施维修", "矛盾纠纷"}
	tests := []struct {
		in   string
		want int
		res  pick
	}{
		{"1", 0, pickOK},
		{"4", 3, pickOK},
		{" 2 ", 1, pickOK},
		{"２", 1, pickOK},
		{"3.", 2, pickOK},
		{"3、", 2, pickOK},
		{"二", 1, pickOK},
		{"第四项", 3, pickOK},
		{"第2个", 1, pickOK},
		{"2号", 1, pickOK},
		{"环境卫生", 0, pickOK},
		{"矛盾纠纷。", 3, pickOK},
		{"卫生", 0, pickOK},       // part of one name
		{"纠纷", 3, pickOK},       // part of one name
		{"我要反映矛盾纠纷", 3, pickOK}, // contains one name
		{"0", 0, pickOutOfRange},
		{"5", 0, pickOutOfRange},
		{"五", 0, pickOutOfRange},
		{"12", 0, pickOutOfRange},
		{"13812345678", 0, pickOutOfRange},
		{"设施", 0, pickAmbiguous}, // in two names
		{"水电费", 0, pickUnknown},
		{"环", 0, pickUnknown}, // one rune is too little to match a part
		{"", 0, pickUnknown},
		{"-1", 0, pickUnknown},
	}
	for _, tt := range tests {
		got, res := choose(tt.in, names)
		if res != tt.res || (res == pickOK && got != tt.want) {
			t.Errorf("choose(%q) = %d, %v; want %d, %v", tt.in, got, res, tt.want, tt.res)
		}
	}
}

func TestParseRating(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"5", 5, true},
		{"1", 1, true},
		{" 3 ", 3, true},
		{"５", 5, true},
		{"5分", 5, true},
		{"4星", 4, true},
		{"5颗星", 5, true},
		{"评价 5", 5, true},
		{"评价5分", 5, true},
		{"评分：4", 4, true},
		{"五", 5, true},
		{"五星", 5, true},
		{"5。", 5, true},
		{"0", 0, false},
		{"6", 0, false},
		{"10", 0, false},
		{"55", 0, false},
		{"5分钟", 0, false},
		{"评价", 0, false},
		{"我给5分", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRating(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRating(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{" 确认 ", "确认"},
		{"确认。", "确认"},
		{"取消！", "取消"},
		{"？", "?"},
		{"HELP", "help"},
		{"\u3000返回\u3000", "返回"},
		{"ＡＢＣ１２３", "abc123"},
	}
	for _, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDurationText(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"30m", "30分钟"},
		{"1h", "1小时"},
		{"90m", "90分钟"},
		{"2h", "2小时"},
		{"45s", "45秒"},
	}
	for _, tt := range tests {
		d, err := time.ParseDuration(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := durationText(d); got != tt.want {
			t.Errorf("durationText(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
