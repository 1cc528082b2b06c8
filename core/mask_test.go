package core

import "testing"

func TestMaskNumbers(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "电话13812345678谢谢", "电话138****5678谢谢"},
		{"spaced", "请打 138 1234 5678", "请打 138****5678"},
		{"dashed", "138-1234-5678。", "138****5678。"},
		{"plus86", "+86 139 8765 4321", "+86 139****4321"},
		{"86 run together", "8613987654321", "86139****4321"},
		{"0086 run together", "008613987654321", "0086139****4321"},
		{"full width", "１３８１２３４５６７８", "138****5678"},
		{"two numbers", "13812345678 和 13987654321", "138****5678 和 139****4321"},
		{"followed by a number", "13812345678 3楼", "138****5678 3楼"},
		{"id number", "身份证440783199001011234", "身份证4407**********1234"},
		{"id number with X", "44078319900101123X，住9号", "4407**********123X，住9号"},
		{"id number with small x", "44078319900101123x", "4407**********123x"},
		{"old id number", "440783900101123", "4407*******1123"},
		{"full-width id number", "４４０７８３１９９００１０１１２３４", "4407**********1234"},
		{"bank card", "卡号6222021234567890123", "卡号6222***********0123"},
		{"landline dashed", "座机0750-2345678", "座机0750-***5678"},
		{"landline spaced", "0750 2345678", "0750 ***5678"},
		{"landline bracketed", "(0750)2345678", "(0750)***5678"},
		{"landline full-width brackets", "（020）12345678", "（020）****5678"},
		{"landline eight digits", "020-12345678", "020-****5678"},
		{"landline run together", "07502345678", "0750***5678"},
		{"beijing run together", "01012345678", "010****5678"},
		{"case number untouched", "编号ST202611250001", "编号ST202611250001"},
		{"not a mobile prefix", "12812345678", "12812345678"},
		{"date untouched", "2026-11-25 9点", "2026-11-25 9点"},
		{"amount untouched", "损失3000元，0.5米", "损失3000元，0.5米"},
		{"twenty digits untouched", "12345678901234567890", "12345678901234567890"},
		{"short local number untouched", "2345678", "2345678"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskNumbers(tt.in); got != tt.want {
				t.Errorf("MaskNumbers(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzMaskNumbers(f *testing.F) {
	for _, s := range []string{"13812345678", "440783199001011234", "0750-2345678", "（020）12345678", "１３８"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := MaskNumbers(s)
		if MaskNumbers(out) != out {
			t.Errorf("masking %q twice changed it: %q then %q", s, out, MaskNumbers(out))
		}
	})
}

// BenchmarkMaskNumbers masks a description of typical length with a phone,
// an ID number and a landline in it.
func BenchmarkMaskNumbers(b *testing.B) {
	const text = "报告人张三住塘口村9号，身份证440783199001011234，电话13812345678，座机0750-2345678，村口的路灯坏了三天，晚上很黑，老人出门不方便，请尽快派人来修。"
	b.ReportAllocs()
	for b.Loop() {
		MaskNumbers(text)
	}
}

// BenchmarkMaskNumbersNoDigits is the common case: a description without a
// number.
func BenchmarkMaskNumbersNoDigits(b *testing.B) {
	const text = "村口的路灯坏了三天，晚上很黑，老人出门不方便，请尽快派人来修。"
	b.ReportAllocs()
	for b.Loop() {
		MaskNumbers(text)
	}
}
