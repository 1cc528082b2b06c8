package export

import "testing"

func TestMaskPhones(t *testing.T) {
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
		{"case number untouched", "编号ST202611250001", "编号ST202611250001"},
		{"id number untouched", "440783199001011234", "440783199001011234"},
		{"landline untouched", "0750-2345678", "0750-2345678"},
		{"not a mobile prefix", "12812345678", "12812345678"},
		{"date untouched", "2026-11-25 9点", "2026-11-25 9点"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskPhones(tt.in); got != tt.want {
				t.Errorf("MaskPhones(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
